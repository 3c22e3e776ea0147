"""Logging out survives a restart: the revoked session is in the store, so a kept
copy of the cookie is refused by a new app over a new connection (what `pagetally
web` is after a restart, with the same `websecret`), and by a second web server
over the same store. Revocations are forgotten once the cookie has expired."""

from __future__ import annotations

import subprocess
import sys
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from pagetally.storage import StoreSettings, open_store
from pagetally.storage.schema import webrevoked
from pagetally.storage.sql import SqlStore
from pagetally.web.app import create_app
from pagetally.web.sessions import COOKIE
from tests.ports import on_free_port, port_taken, taken_error
from tests.processes import stop_group
from tests.web.conftest import csrf_of, login
from tests.web.site import NOW, PASSWORD, SETTINGS


def _restarted(path: Path) -> tuple[SqlStore, TestClient]:
    store = open_store(StoreSettings(backend="sqlite", name=str(path)))
    assert isinstance(store, SqlStore)
    return store, TestClient(create_app(SETTINGS, store, now=lambda: NOW))


def test_logged_out_cookie_stays_refused_after_a_restart(site: SqlStore, tmp_path: Path) -> None:
    db = tmp_path / "web.db"
    first = TestClient(create_app(SETTINGS, site, now=lambda: NOW))
    alice = login(first, "alice")
    bob = login(TestClient(first.app), "bob")
    other, second = _restarted(db)  # a second web server over the same store
    kept_alice, kept_bob = alice.cookies[COOKIE], bob.cookies[COOKIE]

    page = alice.get("/")
    r = alice.post("/logout", data={"csrf": csrf_of(page.text)}, follow_redirects=False)
    assert r.status_code == 303
    site.close()  # the first app is gone: "pagetally web" restarts
    store, restarted = _restarted(db)
    try:
        restarted.cookies.set(COOKIE, kept_alice)
        assert restarted.get("/", follow_redirects=False).status_code == 303
        assert "/login" in restarted.get("/", follow_redirects=False).headers["location"]
        second.cookies.set(COOKIE, kept_alice)  # the other server refuses it too
        assert second.get("/", follow_redirects=False).status_code == 303
        restarted.cookies.set(COOKIE, kept_bob)  # bob did not log out: still in
        assert "Your printing status, bob" in restarted.get("/").text
    finally:
        store.close()
        other.close()


def test_expired_revocations_are_deleted(site: SqlStore) -> None:
    now = datetime.now(UTC)
    site.revoke_web_session("old", now - timedelta(minutes=1), now - timedelta(hours=9))
    assert site.web_session_revoked("old")
    site.revoke_web_session("new", now + timedelta(hours=8), now)  # cleans up "old"
    site.revoke_web_session("new", now + timedelta(hours=8), now)  # twice: one row
    assert not site.web_session_revoked("old") and site.web_session_revoked("new")
    with site._engine.connect() as conn:
        assert [r.nonce for r in conn.execute(select(webrevoked))] == ["new"]


def _serve(conf: Path, port: int, log: Path) -> subprocess.Popen[bytes]:
    """`pagetally web` as a process of its own, answering on 127.0.0.1:`port`."""
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "pagetally.cli.main",
            "--config",
            str(conf),
            "web",
            "--host",
            "127.0.0.1",
            "--port",
            str(port),
        ],
        stdout=log.open("ab"),
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            if port_taken(log.read_text()):
                raise taken_error("pagetally web", port)
            raise AssertionError(f"pagetally web ended: {log.read_text()}")
        try:
            httpx.get(f"http://127.0.0.1:{port}/login", timeout=2)
            return proc
        except httpx.TransportError:
            time.sleep(0.2)
    stop_group(proc)
    raise AssertionError(f"pagetally web did not answer: {log.read_text()}")


def _http_login(base: str, user: str) -> httpx.Client:
    client = httpx.Client(base_url=base, timeout=20)
    page = client.get("/login")
    r = client.post(
        "/login", data={"username": user, "password": PASSWORD, "csrf": csrf_of(page.text)}
    )
    assert r.status_code == 303, r.text
    return client


@pytest.mark.slow
def test_pagetally_web_restarted_still_refuses_a_logged_out_cookie(
    site: SqlStore, tmp_path: Path
) -> None:
    """The real thing: `pagetally web` (uvicorn) stopped and started again, with
    the same `websecret` from the admin file."""
    site.close()
    conf = tmp_path / "pagetally.conf"
    conf.write_text(f"[global]\nstoragebackend: sqlite\nstoragename: {tmp_path / 'web.db'}\n")
    secrets_file = tmp_path / "pagetally-admin.conf"
    secrets_file.write_text("[global]\nwebsecret: restart-test-secret-0123456789\n")
    secrets_file.chmod(0o600)
    log = tmp_path / "web.log"
    proc = on_free_port(lambda p: _serve(conf, p, log))
    base = f"http://127.0.0.1:{proc.args[-1]}"  # type: ignore[index]
    try:
        alice, bob = _http_login(base, "alice"), _http_login(base, "bob")
        kept = alice.cookies[COOKIE]
        page = alice.get("/")
        assert alice.post("/logout", data={"csrf": csrf_of(page.text)}).status_code == 303
    finally:
        stop_group(proc)
    proc = _serve(conf, int(proc.args[-1]), log)  # type: ignore[index]
    try:
        r = httpx.get(f"{base}/", cookies={COOKIE: kept}, timeout=20)
        assert r.status_code == 303 and r.headers["location"] == "/login"
        r = httpx.get(f"{base}/", cookies={COOKIE: bob.cookies[COOKIE]}, timeout=20)
        assert r.status_code == 200 and "Your printing status, bob" in r.text
    finally:
        stop_group(proc)
        alice.close()
        bob.close()


def test_a_session_that_cannot_be_checked_is_nobody(site: SqlStore, tmp_path: Path) -> None:
    """The store gone: no page of the session (fail closed), no internal error."""
    alice = login(
        TestClient(create_app(SETTINGS, site, now=lambda: NOW), raise_server_exceptions=False),
        "alice",
    )
    (tmp_path / "web.db").rename(tmp_path / "moved.db")
    r = alice.get("/", follow_redirects=False)
    assert r.status_code == 303 and r.headers["location"] == "/login"
    assert alice.get("/login").status_code == 200
