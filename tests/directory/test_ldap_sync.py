"""`pagetally sync` from a real slapd (tests/slapd.py): posixAccount/posixGroup
with memberUid, and the Active Directory shape (members by DN in `member`) on
inetOrgPerson/groupOfNames entries, since OpenLDAP has no AD schema."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from tests.cli.conftest import Cli, make_cli
from tests.slapd import ADMIN_DN, ADMIN_PASSWORD, READER_DN, READER_PASSWORD, SlapdServer
from tests.slapd import slapd_server as slapd_server

pytestmark = [pytest.mark.ldap, pytest.mark.slow]


def _conn(slapd: SlapdServer) -> Any:
    import ldap3

    return ldap3.Connection(
        ldap3.Server("127.0.0.1", port=slapd.port), ADMIN_DN, ADMIN_PASSWORD, auto_bind=True
    )


def _tree(slapd: SlapdServer, prefix: str) -> str:
    base = slapd.new_directory(prefix).name
    conn = _conn(slapd)
    for ou in ("People", "Groups"):
        assert conn.add(f"ou={ou},{base}", ["organizationalUnit"], {"ou": ou}), conn.result
    conn.unbind()
    return base


def _posix_user(conn: Any, base: str, name: str, uid: int) -> None:
    assert conn.add(
        f"uid={name},ou=People,{base}",
        ["inetOrgPerson", "posixAccount"],
        {
            "uid": name,
            "cn": name.title(),
            "sn": name,
            "uidNumber": uid,
            "gidNumber": 5000,
            "homeDirectory": f"/home/{name}",
            "mail": f"{name}@example.org",
        },
    ), conn.result


def _cli(tmp_path: Path, slapd: SlapdServer, base: str, extra: str) -> Cli:
    cli = make_cli(tmp_path)
    cli.conf.write_text(
        cli.conf.read_text() + f"syncsource: ldap\nsyncldapuri: {slapd.uri}\n"
        f"syncldapbinddn: {READER_DN}\nsyncldapuserbase: ou=People,{base}\n"
        f"syncldapgroupbase: ou=Groups,{base}\nsyncbalance: 1.00\n" + extra
    )
    admin = cli.conf.parent / "pagetally-admin.conf"
    admin.write_text(f"[global]\nsyncldapbindpw: {READER_PASSWORD}\n")
    admin.chmod(0o600)
    return cli


def test_posix_directory_synced_twice_then_a_leaver(
    tmp_path: Path, slapd_server: SlapdServer
) -> None:
    base = _tree(slapd_server, "posix")
    conn = _conn(slapd_server)
    for i, name in enumerate(("ann", "bob", "cat")):
        _posix_user(conn, base, name, 2000 + i)
    assert conn.add(
        f"cn=staff,ou=Groups,{base}",
        ["posixGroup"],
        {"cn": "staff", "gidNumber": 5000, "memberUid": ["ann", "bob"]},
    )
    cli = _cli(tmp_path, slapd_server, base, "syncleavers: disable\nsyncmaxleavers: 50\n")
    out = cli("sync").stdout
    assert "users: add 3: ann, bob, cat" in out and "groups: add 1: staff" in out
    users = {u["name"]: u for u in cli.json("users", "list")}
    assert users["bob"]["email"] == "bob@example.org" and users["bob"]["balance"] == "1.00"
    assert cli.json("groups", "list", "staff")[0]["members"] == ["ann", "bob", "cat"]
    assert "nothing to change" in cli("sync").stdout
    assert conn.delete(f"uid=cat,ou=People,{base}")
    conn.unbind()
    out = cli("sync", "--quiet").stdout
    assert "disabled (limit-by noprint, history kept): cat" in out
    assert cli.json("users", "list", "cat")[0]["limit_by"] == "noprint"
    assert cli.json("groups", "list", "staff")[0]["members"] == ["ann", "bob"]


def test_ad_style_members_by_dn_paged(
    tmp_path: Path, slapd_server: SlapdServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    base = _tree(slapd_server, "ad")
    conn = _conn(slapd_server)
    names = [f"u{i:03d}" for i in range(30)]
    for name in names:
        assert conn.add(
            f"cn={name},ou=People,{base}",
            ["inetOrgPerson"],
            {"cn": name, "sn": name, "uid": name.upper(), "displayName": f"User {name}"},
        )
    assert conn.add(
        f"cn=Print Room,ou=Groups,{base}",
        ["groupOfNames"],
        {
            "cn": "Print Room",
            "member": [f"cn={n},ou=People,{base}" for n in names[:3]]
            + [f"cn=ghost,ou=People,{base}"],
        },
    )
    conn.unbind()
    cli = _cli(
        tmp_path,
        slapd_server,
        base,
        "syncldapuserfilter: (objectClass=inetOrgPerson)\nsyncldapuserattr: uid\n"
        "syncldapgroupfilter: (objectClass=groupOfNames)\nsyncldapgroupattr: cn\n"
        "syncldapmemberattr: member\nusernamecase: lower\n",
    )
    # pages of 7 entries: the 30 users come in 5 pages, all read
    import pagetally.directory.ldap as reader

    search = reader._search
    monkeypatch.setattr(
        reader, "_search", lambda conn, base, flt, attrs, _size: search(conn, base, flt, attrs, 7)
    )
    out = cli("sync").stdout
    assert "users: add 30" in out
    assert cli.json("groups", "list", "Print Room")[0]["members"] == ["u000", "u001", "u002"]
    assert "nothing to change" in cli("sync").stdout


def test_a_directory_that_refuses_the_bind_changes_nothing(
    tmp_path: Path, slapd_server: SlapdServer
) -> None:
    base = _tree(slapd_server, "bad")
    cli = _cli(tmp_path, slapd_server, base, "")
    (cli.conf.parent / "pagetally-admin.conf").write_text("[global]\nsyncldapbindpw: wrong\n")
    before = cli.snapshot()
    result = cli("sync", code=4)
    assert f"LDAP directory {slapd_server.uri}" in result.stderr
    assert cli.snapshot() == before
