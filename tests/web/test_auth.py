"""Logging in and out, sessions, CSRF, rate limits, remote-user from proxies only."""

from __future__ import annotations

from dataclasses import replace

import pytest
from fastapi.testclient import TestClient

from pagetally.storage.sql import SqlStore
from pagetally.web.app import create_app
from pagetally.web.sessions import COOKIE
from tests.web.conftest import csrf_of, login
from tests.web.site import NOW, SETTINGS


def test_pages_need_a_login(anon: TestClient) -> None:
    r = anon.get("/", follow_redirects=False)
    assert r.status_code == 303 and r.headers["location"] == "/login"


def test_login_shows_own_status_and_logout_ends_it(alice: TestClient) -> None:
    page = alice.get("/")
    assert "Your printing status, alice" in page.text
    kept = alice.cookies[COOKIE]
    r = alice.post("/logout", data={"csrf": csrf_of(page.text)}, follow_redirects=False)
    assert r.status_code == 303
    assert alice.get("/", follow_redirects=False).status_code == 303
    alice.cookies.set(COOKIE, kept)  # a copy of the cookie kept: refused after logout
    assert alice.get("/", follow_redirects=False).status_code == 303


def test_wrong_password_refused_then_rate_limited(anon: TestClient) -> None:
    for _ in range(SETTINGS.login_attempts):
        page = anon.get("/login")
        r = anon.post(
            "/login", data={"username": "alice", "password": "nope", "csrf": csrf_of(page.text)}
        )
        assert r.status_code == 401 and "Wrong user name or password" in r.text
    page = anon.get("/login")
    r = anon.post(
        "/login",
        data={"username": "alice", "password": "correct horse 42", "csrf": csrf_of(page.text)},
    )
    assert r.status_code == 429 and "Too many failed logins" in r.text
    assert COOKIE not in anon.cookies


def test_login_without_its_csrf_token_refused(anon: TestClient) -> None:
    anon.get("/login")
    r = anon.post("/login", data={"username": "alice", "password": "correct horse 42"})
    assert r.status_code == 403 and COOKIE not in anon.cookies


def test_forged_cookie_is_nobody(anon: TestClient) -> None:
    anon.cookies.set(COOKIE, "eyJ1Ijoicm9vdCJ9.forged.sig")
    assert anon.get("/", follow_redirects=False).status_code == 303


def test_post_without_csrf_refused(alice: TestClient) -> None:
    r = alice.post("/logout", data={})
    assert r.status_code == 403 and "security token" in r.text
    assert "Your printing status" in alice.get("/").text  # still logged in


def _remote_app(site: SqlStore, proxies: str) -> TestClient:
    from pagetally.web.settings import parse_proxies

    settings = replace(SETTINGS, auth="remote-user", proxies=parse_proxies(proxies))
    # TestClient's peer address is "testclient"; pass a real one through the scope
    return TestClient(create_app(settings, site, now=lambda: NOW), client=("10.0.0.5", 5000))


def test_remote_user_accepted_from_a_proxy(site: SqlStore) -> None:
    client = _remote_app(site, "10.0.0.0/24")
    r = client.get("/", headers={"X-Remote-User": "alice"})
    assert "Your printing status, alice" in r.text


def test_remote_user_ignored_from_outside_webproxies(site: SqlStore) -> None:
    client = _remote_app(site, "192.168.1.1")
    r = client.get("/", headers={"X-Remote-User": "root"}, follow_redirects=False)
    assert r.status_code == 303 and r.headers["location"] == "/login"
    r = client.get("/admin", headers={"X-Remote-User": "root"}, follow_redirects=False)
    assert r.status_code == 303


def test_remote_user_header_ignored_in_local_mode(site: SqlStore) -> None:
    settings = replace(SETTINGS, proxies=(), auth="local")
    client = TestClient(create_app(settings, site), client=("127.0.0.1", 5000))
    assert (
        client.get("/", headers={"X-Remote-User": "root"}, follow_redirects=False).status_code
        == 303
    )


def test_roles(root: TestClient, audrey: TestClient, alice: TestClient) -> None:
    assert "admin)" in root.get("/").text
    assert "read-only admin" in audrey.get("/admin").text
    assert alice.get("/admin").status_code == 403


def test_unknown_user_cannot_log_in(anon: TestClient, monkeypatch: pytest.MonkeyPatch) -> None:
    from argon2 import PasswordHasher

    from pagetally.web import passwords

    # the dummy hash an unknown user is checked against, cheap here (see site.pw_hash)
    monkeypatch.setattr(
        passwords, "_DUMMY", [PasswordHasher(time_cost=1, memory_cost=64, parallelism=1).hash("x")]
    )
    page = anon.get("/login")
    r = anon.post(
        "/login",
        data={"username": "mallory", "password": "correct horse 42", "csrf": csrf_of(page.text)},
    )
    assert r.status_code == 401


def test_login_helper(app: object) -> None:
    assert login(TestClient(app), "bob").get("/").status_code == 200  # type: ignore[arg-type]
