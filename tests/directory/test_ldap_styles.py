"""The `syncldapstyle` presets and the site's overrides (pure: no server)."""

from __future__ import annotations

import pytest

from pagetally.directory.ldap import styled
from pagetally.errors import InvalidInput


def test_ad_style_reads_samaccountname_and_member_dns_and_skips_disabled() -> None:
    s = styled("ad", uri="ldaps://dc1", user_base="dc=example,dc=org")
    assert (s.user_name_attr, s.member_attr, s.members_are_dns) == (
        "sAMAccountName",
        "member",
        True,
    )
    assert "userAccountControl:1.2.840.113556.1.4.803:=2" in s.user_filter  # disabled: out
    assert s.uid_attr == ""  # AD users have no uidNumber: no uid range applies


def test_posix_style_with_site_overrides() -> None:
    s = styled(
        "posix",
        uri="ldap://h",
        user_base="ou=People,dc=x",
        user_name_attr=None,
        member_attr="uniqueMember",
        members_are_dns=True,
    )
    assert (s.user_name_attr, s.member_attr, s.members_are_dns) == ("uid", "uniqueMember", True)
    with pytest.raises(InvalidInput, match="LDAP style 'novell'"):
        styled("novell", uri="ldap://h", user_base="x")
