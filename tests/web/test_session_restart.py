"""Logging out survives a restart: the revoked session is in the store, so a kept
copy of the cookie is refused by a new app over a new connection (what `pagetally
web` is after a restart, with the same `websecret`), and by a second web server
over the same store. Revocations are forgotten once the cookie has expired."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

from fastapi.testclient import TestClient
from sqlalchemy import select

from pagetally.storage import StoreSettings, open_store
from pagetally.storage.schema import webrevoked
from pagetally.storage.sql import SqlStore
from pagetally.web.app import create_app
from pagetally.web.sessions import COOKIE
from tests.web.conftest import csrf_of, login
from tests.web.site import NOW, SETTINGS


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
