"""Users and groups from an LDAP directory (ldap3): OpenLDAP-style
posixAccount/posixGroup (members by name, `memberUid`) or Active Directory-style
user/group objects (`sAMAccountName`, members by DN, `member`).

Searches are paged (Active Directory returns at most 1,000 entries per plain
search) and read whole before anything is compared: a search that fails part
way raises DirectoryError and the sync changes nothing. Filters and bases come
from the site's configuration only; no value read from the directory is ever
put into a filter.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from pagetally.core.directory import Directory, DirGroup, DirUser
from pagetally.errors import DirectoryError, InvalidInput


@dataclass(frozen=True, slots=True)
class LdapSettings:
    """Where to search and which attributes hold what (`syncldap*` directives)."""

    uri: str
    user_base: str
    group_base: str = ""  # empty: no groups
    bind_dn: str | None = None
    bind_password: str | None = None
    user_filter: str = "(objectClass=posixAccount)"
    user_name_attr: str = "uid"
    mail_attr: str = "mail"
    description_attr: str = "cn"
    uid_attr: str = "uidNumber"
    gid_attr: str = "gidNumber"
    group_filter: str = "(objectClass=posixGroup)"
    group_name_attr: str = "cn"
    member_attr: str = "memberUid"
    members_are_dns: bool = False  # AD's and groupOfNames' `member`: DNs, not names
    timeout: int = 30
    page_size: int = 500


#: `syncldapstyle`: the attribute names of the two common layouts. Active
#: Directory's filter leaves out disabled accounts (userAccountControl bit 2),
#: so a disabled AD account counts as having left.
STYLES: dict[str, dict[str, Any]] = {
    "posix": {},
    "ad": {
        "user_filter": "(&(objectCategory=person)(objectClass=user)"
        "(!(userAccountControl:1.2.840.113556.1.4.803:=2)))",
        "user_name_attr": "sAMAccountName",
        "description_attr": "displayName",
        "uid_attr": "",
        "gid_attr": "",
        "group_filter": "(objectClass=group)",
        "group_name_attr": "sAMAccountName",
        "member_attr": "member",
        "members_are_dns": True,
    },
}


def styled(style: str, **given: Any) -> LdapSettings:
    """Settings of `style` with the site's own values (None: the style's) on top."""
    if style not in STYLES:
        raise InvalidInput(f"LDAP style {style!r} is not one of {', '.join(STYLES)}")
    base = {**STYLES[style], **{k: v for k, v in given.items() if v is not None}}
    return LdapSettings(**base)


def _values(attrs: Mapping[str, Any], name: str) -> list[str]:
    if not name:
        return []
    value = attrs.get(name)
    if value is None:
        return []
    if isinstance(value, list | tuple):
        return [str(v) for v in value]
    return [str(value)]


def _first(attrs: Mapping[str, Any], name: str) -> str | None:
    values = _values(attrs, name)
    return values[0] if values else None


def _int(attrs: Mapping[str, Any], name: str) -> int | None:
    text = _first(attrs, name)
    return int(text) if text is not None and text.lstrip("-").isdigit() else None


def _search(
    conn: Any, base: str, flt: str, attrs: Sequence[str], page_size: int
) -> Iterator[tuple[str, Mapping[str, Any]]]:
    for entry in conn.extend.standard.paged_search(
        base, flt, attributes=[a for a in attrs if a], paged_size=page_size, generator=True
    ):
        if entry.get("type") == "searchResEntry":
            yield entry["dn"], entry["attributes"]


def read_ldap(settings: LdapSettings) -> Directory:
    """Every user and group the settings' searches find (see the module's doc)."""
    import importlib  # ldap3 has no type hints: reached as Any, and only when used

    ldap3: Any = importlib.import_module("ldap3")
    LDAPException: type[Exception] = importlib.import_module("ldap3.core.exceptions").LDAPException

    s = settings
    try:
        server = ldap3.Server(s.uri, connect_timeout=s.timeout, get_info=ldap3.NONE)
        conn = ldap3.Connection(
            server,
            user=s.bind_dn,
            password=s.bind_password,
            receive_timeout=s.timeout,
            raise_exceptions=True,
            read_only=True,
        )
        conn.bind()
        try:
            users: list[DirUser] = []
            by_dn: dict[str, str] = {}
            for dn, attrs in _search(
                conn,
                s.user_base,
                s.user_filter,
                [s.user_name_attr, s.mail_attr, s.description_attr, s.uid_attr, s.gid_attr],
                s.page_size,
            ):
                name = _first(attrs, s.user_name_attr)
                if not name:
                    continue  # an entry without a login name cannot print
                by_dn[dn.lower()] = name
                users.append(
                    DirUser(
                        name,
                        _int(attrs, s.uid_attr),
                        _int(attrs, s.gid_attr),
                        _first(attrs, s.mail_attr),
                        _first(attrs, s.description_attr) or "",
                    )
                )
            groups: list[DirGroup] = []
            if s.group_base:
                for _dn, attrs in _search(
                    conn,
                    s.group_base,
                    s.group_filter,
                    [s.group_name_attr, s.member_attr, s.gid_attr],
                    s.page_size,
                ):
                    name = _first(attrs, s.group_name_attr)
                    if not name:
                        continue
                    raw = _values(attrs, s.member_attr)
                    members = (
                        [by_dn[m.lower()] for m in raw if m.lower() in by_dn]
                        if s.members_are_dns
                        else raw
                    )
                    groups.append(DirGroup(name, _int(attrs, s.gid_attr), tuple(members)))
        finally:
            conn.unbind()
    except LDAPException as exc:
        raise DirectoryError(f"LDAP directory {s.uri}: {exc}") from None
    return Directory(s.uri, tuple(users), tuple(groups))
