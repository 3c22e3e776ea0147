"""`pagetally web --workers 2`: a real server of two worker processes. A session
made on one worker works on the other, and the login rate limit counts the
failures of both (the store keeps them). Each phase reaches one worker only:
the other is stopped (SIGSTOP) so that it accepts no connection meanwhile."""

from __future__ import annotations

import contextlib
import os
import re
import signal
import subprocess
import sys
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import httpx
import pytest

from pagetally.core.models import User
from pagetally.storage import StoreSettings, open_store
from pagetally.web.passwords import hash_password
from tests.polling import wait_until
from tests.ports import free_port
from tests.sqlite_store import migrated_sqlite

pytestmark = pytest.mark.slow

PASSWORD = "correct horse"
_COMMAND = (sys.executable, "-m", "pagetally.cli.main")


def _workers(parent: int) -> list[int]:
    """The worker processes uvicorn spawned (not multiprocessing's helpers)."""
    found = []
    for child in Path(f"/proc/{parent}/task/{parent}/children").read_text().split():
        cmd = Path(f"/proc/{child}/cmdline").read_bytes()
        if b"spawn_main" in cmd:
            found.append(int(child))
    return found


@pytest.fixture
def server(tmp_path: Path) -> Iterator[tuple[str, list[int]]]:
    db = migrated_sqlite(tmp_path / "p.db")
    conf = tmp_path / "pagetally.conf"
    conf.write_text(f"[global]\nstoragebackend: sqlite\nstoragename: {db}\nwebloginattempts: 3\n")
    store = open_store(StoreSettings(backend="sqlite", name=str(db)))
    store.add_user(User("alice"))
    store.set_web_password_hash("alice", hash_password(PASSWORD), datetime.now(UTC))
    store.close()
    port = free_port()
    proc = subprocess.Popen(
        [*_COMMAND, "-C", str(conf), "web", "--port", str(port), "--workers", "2"],
        start_new_session=True,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        wait_until(lambda: len(_workers(proc.pid)) == 2, "two workers", timeout=60)
        wait_until(lambda: _answers(base), "the server answers", timeout=60)
        yield base, _workers(proc.pid)
    finally:
        with contextlib.suppress(ProcessLookupError):
            for pid in _workers(proc.pid):
                os.kill(pid, signal.SIGCONT)
        proc.terminate()
        proc.wait(30)


def _answers(base: str) -> bool:
    try:
        return httpx.get(f"{base}/login", timeout=2).status_code == 200
    except httpx.HTTPError:
        return False


@contextlib.contextmanager
def only(worker: int, others: list[int]) -> Iterator[None]:
    """Every new connection meanwhile is accepted by `worker`."""
    stopped = [p for p in others if p != worker]
    for pid in stopped:
        os.kill(pid, signal.SIGSTOP)
    try:
        yield
    finally:
        for pid in stopped:
            os.kill(pid, signal.SIGCONT)


def _login(client: httpx.Client, password: str) -> httpx.Response:
    page = client.get("/login")
    token = re.search(r'name="csrf" value="([^"]+)"', page.text)
    assert token is not None
    return client.post(
        "/login", data={"username": "alice", "password": password, "csrf": token.group(1)}
    )


def test_session_made_on_one_worker_works_on_the_other(server: tuple[str, list[int]]) -> None:
    base, (a, b) = server
    with only(a, [a, b]), httpx.Client(base_url=base) as client:
        assert _login(client, PASSWORD).status_code == 303
        cookies = dict(client.cookies)
    with only(b, [a, b]), httpx.Client(base_url=base, cookies=cookies) as client:
        page = client.get("/", follow_redirects=False)
        assert page.status_code == 200 and "alice" in page.text


def test_login_limit_counts_every_worker(server: tuple[str, list[int]]) -> None:
    base, (a, b) = server
    for worker in (a, b, a):  # three failures, on both workers
        with only(worker, [a, b]), httpx.Client(base_url=base) as client:
            assert _login(client, "wrong password").status_code == 401
    for worker in (a, b):
        with only(worker, [a, b]), httpx.Client(base_url=base) as client:
            refused = _login(client, PASSWORD)
            assert refused.status_code == 429 and "Too many failed logins" in refused.text
