"""`pagetally web-password`, and the web interface served under uvicorn beside
another process (`pagetally serve` with `webserve: yes`)."""

from __future__ import annotations

from pathlib import Path

import httpx
import pytest
from typer.testing import CliRunner

from pagetally.cli.env import Env
from pagetally.cli.main import app
from pagetally.config import load_config
from pagetally.core.models import User
from pagetally.storage import StoreSettings, open_store
from pagetally.web.passwords import verify_password
from pagetally.web.serving import Beside
from tests.sqlite_store import migrated_sqlite


@pytest.fixture
def conf(tmp_path: Path) -> Path:
    db = migrated_sqlite(tmp_path / "p.db")
    path = tmp_path / "pagetally.conf"
    path.write_text(
        f"[global]\nstoragebackend: sqlite\nstoragename: {db}\n"
        "webserve: yes\nwebadmins: root, @staff\nwebport: 8632\n"
    )
    store = open_store(StoreSettings(backend="sqlite", name=str(db)))
    store.add_user(User("alice"))
    store.close()
    return path


def _run(conf: Path, *args: str, stdin: str = "") -> tuple[int, str]:
    r = CliRunner().invoke(
        app, ["--config", str(conf), *args], input=stdin, obj=Env(config_path=str(conf))
    )
    return r.exit_code, r.output


def test_web_password_set_and_cleared(conf: Path) -> None:
    code, out = _run(conf, "web-password", "alice", "--stdin", stdin="long enough pw\n")
    assert code == 0 and "web password of alice set" in out
    cfg = load_config(str(conf))
    store = open_store(cfg.store_settings())
    assert verify_password(store.get_web_password_hash("alice"), "long enough pw")
    code, out = _run(conf, "web-password", "alice", "--stdin", stdin="short\n")
    assert code != 0 and "at least 8 characters" in out
    code, out = _run(conf, "web-password", "nobody", "--stdin", stdin="long enough pw\n")
    assert code != 0 and "nobody" in out
    code, out = _run(conf, "web-password", "alice", "--clear")
    assert code == 0 and store.get_web_password_hash("alice") is None
    store.close()


def test_served_beside_the_service(conf: Path) -> None:
    cfg = load_config(str(conf))
    store = open_store(cfg.store_settings())
    web = Beside(cfg, store, port=0)
    try:
        port = web.wait_started()
        r = httpx.get(f"http://127.0.0.1:{port}/login")
        assert r.status_code == 200 and "Log in" in r.text
        assert r.headers["x-frame-options"] == "DENY"
        r = httpx.get(f"http://127.0.0.1:{port}/admin", follow_redirects=False)
        assert r.status_code == 303
    finally:
        web.stop()
        store.close()
    assert not web.thread.is_alive()
