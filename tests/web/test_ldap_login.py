"""`webauth: ldap`: a web login is a simple bind to a real slapd (tests/slapd.py,
the LDAP store's fixture; skipped where that fixture is not installed)."""

from __future__ import annotations

import pytest

slapd = pytest.importorskip("tests.slapd", reason="tests/slapd.py (the LDAP store's slapd)")

from dataclasses import replace  # noqa: E402

from fastapi.testclient import TestClient  # noqa: E402

from pagetally.storage.sql import SqlStore  # noqa: E402
from pagetally.web.app import create_app  # noqa: E402
from pagetally.web.auth import ldap_authenticator  # noqa: E402
from tests.web.conftest import csrf_of  # noqa: E402
from tests.web.site import NOW, SETTINGS  # noqa: E402

slapd_server = slapd.slapd_server
pytestmark = [pytest.mark.slow, pytest.mark.ldap]


@pytest.fixture(scope="module")
def directory(slapd_server: object) -> tuple[str, str]:
    """(server URI, DN template) of a branch holding alice, password 'ldap-pass 1'."""
    import ldap3

    settings = slapd_server.new_directory("web")  # type: ignore[attr-defined]
    conn = ldap3.Connection(
        ldap3.Server(settings.server), slapd.ADMIN_DN, slapd.ADMIN_PASSWORD, auto_bind=True
    )
    try:
        for name in ("alice", "*"):
            dn = f"uid={ldap3.utils.dn.escape_rdn(name)},{settings.name}"
            assert conn.add(
                dn,
                ["inetOrgPerson"],
                {"uid": name, "cn": name, "sn": name, "userPassword": "ldap-pass 1"},
            ), conn.result
    finally:
        conn.unbind()
    return str(settings.server), f"uid=%s,{settings.name}"


def test_bind_checks_the_password(directory: tuple[str, str]) -> None:
    check = ldap_authenticator(*directory)
    assert check("alice", "ldap-pass 1")
    assert not check("alice", "wrong")
    assert not check("alice", "")  # an anonymous bind is never a login
    assert not check("bob", "ldap-pass 1")
    assert not check("alice,ou=x", "ldap-pass 1")  # the name is one RDN value, escaped


def test_web_login_through_ldap(directory: tuple[str, str], site: SqlStore) -> None:
    settings = replace(SETTINGS, auth="ldap", ldap_uri=directory[0], ldap_dn=directory[1])
    client = TestClient(create_app(settings, site, now=lambda: NOW))
    page = client.get("/login")
    r = client.post(
        "/login", data={"username": "alice", "password": "wrong", "csrf": csrf_of(page.text)}
    )
    assert r.status_code == 401
    page = client.get("/login")
    r = client.post(
        "/login", data={"username": "alice", "password": "ldap-pass 1", "csrf": csrf_of(page.text)}
    )
    assert r.status_code == 200 and "Your printing status, alice" in r.text
