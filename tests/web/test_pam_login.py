"""`webauth: pam` against this machine's real PAM stack (python-pam over libpam,
the `login` service, pam_unix and /etc/shadow): a throwaway local user with a
password is made for the test and removed afterwards, even when it fails.
Creating users needs root (CI runs as root); elsewhere the test says why it skips."""

from __future__ import annotations

import os
import secrets
import subprocess
from collections.abc import Iterator
from dataclasses import replace

import pytest
from fastapi.testclient import TestClient

from pagetally.core.models import LimitBy, User
from pagetally.storage.sql import SqlStore
from pagetally.web.app import create_app
from pagetally.web.sessions import COOKIE
from tests.web.conftest import csrf_of
from tests.web.site import NOW, SETTINGS

pytestmark = pytest.mark.slow  # pam_unix waits ~2 s after each wrong password

PASSWORD = "Pam pw " + secrets.token_urlsafe(8)


@pytest.fixture
def unix_user() -> Iterator[str]:
    """A local user with PASSWORD, no home and no shell, gone after the test."""
    if os.geteuid() != 0:
        pytest.skip("PAM login test: creating a local user (useradd, chpasswd) needs root")
    name = "ptpam" + secrets.token_hex(4)
    subprocess.run(
        [
            "useradd",
            "--no-create-home",
            "--shell",
            "/usr/sbin/nologin",
            "--comment",
            "PageTally PAM test",
            name,
        ],
        check=True,
    )
    try:
        subprocess.run(["chpasswd"], input=f"{name}:{PASSWORD}\n", text=True, check=True)
        yield name
    finally:
        subprocess.run(["userdel", name], check=False)


def _login(client: TestClient, user: str, password: str) -> object:
    page = client.get("/login")
    return client.post(
        "/login",
        data={"username": user, "password": password, "csrf": csrf_of(page.text)},
        follow_redirects=False,
    )


def test_pam_login_right_wrong_and_rate_limited(site: SqlStore, unix_user: str) -> None:
    site.add_user(User(unix_user, limit_by=LimitBy.BALANCE))
    app = create_app(replace(SETTINGS, auth="pam", login_attempts=2), site, now=lambda: NOW)
    local = create_app(SETTINGS, site, now=lambda: NOW)

    # the right password: a session, and the user's own status page
    client = TestClient(app)
    r = _login(client, unix_user, PASSWORD)
    assert r.status_code == 303 and COOKIE in client.cookies  # type: ignore[attr-defined]
    assert f"Your printing status, {unix_user}" in client.get("/").text

    # a wrong one: refused with the words a wrong local password gets
    refused_local = _login(TestClient(local), "alice", "nope")
    anon = TestClient(app)
    wrong = _login(anon, unix_user, PASSWORD + "x")
    assert wrong.status_code == refused_local.status_code == 401  # type: ignore[attr-defined]
    assert "Wrong user name or password." in wrong.text  # type: ignore[attr-defined]
    assert "Wrong user name or password." in refused_local.text  # type: ignore[attr-defined]
    assert COOKIE not in anon.cookies
    unknown = _login(anon, "ptpam-nobody", PASSWORD)  # no such user: the same words
    assert unknown.status_code == 401  # type: ignore[attr-defined]
    assert "Wrong user name or password." in unknown.text  # type: ignore[attr-defined]

    # the limit (2 here) reached: even the right password waits
    _login(anon, unix_user, "")
    limited = _login(anon, unix_user, PASSWORD)
    assert limited.status_code == 429  # type: ignore[attr-defined]
    assert "Too many failed logins" in limited.text  # type: ignore[attr-defined]
    assert COOKIE not in anon.cookies
