"""The private slapd fixture (tests/slapd.py): schemas loaded, admin writes, reader only reads."""

from __future__ import annotations

import ldap3
import pytest

from tests.slapd import SlapdServer, slapd_server  # noqa: F401

pytestmark = [pytest.mark.slow, pytest.mark.ldap]


def _bind(server: SlapdServer, dn: str | None, password: str | None) -> ldap3.Connection:
    return ldap3.Connection(
        ldap3.Server("127.0.0.1", port=server.port), dn, password, auto_bind=True
    )


def test_fresh_branch_takes_pykota_entries_and_counts_exactly(
    slapd_server: SlapdServer,  # noqa: F811
) -> None:
    settings = slapd_server.new_directory()
    admin = _bind(slapd_server, settings.admin_user, settings.admin_password)
    dn = f"cn=q1,{settings.name}"
    assert admin.add(
        dn,
        ["pykotaObject", "pykotaUserPQuota"],
        {"cn": "q1", "pykotaUserName": "alice", "pykotaPrinterName": "lp", "pykotaPageCounter": 5},
    ), admin.result
    # RFC 4525 increment: what the LDAP store's counters rely on
    assert admin.modify(dn, {"pykotaPageCounter": [(ldap3.MODIFY_INCREMENT, 3)]}), admin.result
    reader = _bind(slapd_server, settings.user, settings.password)
    reader.search(dn, "(objectClass=pykotaUserPQuota)", attributes=["pykotaPageCounter"])
    assert reader.entries[0].pykotaPageCounter.value == 8
    # the reader may read, never write
    assert not reader.modify(dn, {"pykotaPageCounter": [(ldap3.MODIFY_REPLACE, [0])]})
    assert reader.result["description"] == "insufficientAccessRights"


def test_branches_are_separate(slapd_server: SlapdServer) -> None:  # noqa: F811
    one, two = slapd_server.new_directory(), slapd_server.new_directory()
    assert one.name != two.name
    admin = _bind(slapd_server, one.admin_user, one.admin_password)
    admin.search(two.name, "(objectClass=*)", ldap3.LEVEL)
    assert admin.entries == []
