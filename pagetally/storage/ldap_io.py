"""The LDAP store's edge: where entries live (the layout), the connection, the codecs.

The layout follows PyKota's ldap* directives (pagetally.conf spells them with an
`ldap` prefix: ldapuserbase, ldapuserrdn, ...; docs/config.md) with PyKota's sample
tree as defaults below the base DN. Values are written as PyKota wrote them
(decimal text for money, "t"/"f", "None" for an unset date) so that PyKota and
PageTally read each other's entries.

Every LDAP error becomes one of the store's errors: the directory unreachable or
refusing our bind is StoreUnavailable (the backend journals the charge), a write
on the read-only bind is ReadOnlyStore.
"""

from __future__ import annotations

import contextlib
import hashlib
import socket
import threading
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import Decimal, InvalidOperation
from typing import Any, Literal

import ldap3
from ldap3.core import exceptions as lexc
from ldap3.utils.conv import escape_filter_chars
from ldap3.utils.dn import escape_rdn, to_dn

from pagetally.core.settings import LDAP_LAYOUT_KEYS, StoreSettings
from pagetally.errors import ReadOnlyStore, StorageError, StoreUnavailable
from pagetally.storage.types import to_money

# result codes (RFC 4511) the store acts on
NO_SUCH_OBJECT = 32
SIZE_LIMIT_EXCEEDED = 4
NO_SUCH_ATTRIBUTE = 16
VALUE_EXISTS = 20
ALREADY_EXISTS = 68
CONSTRAINT = 19

_DEFAULTS = {
    "userbase": "ou=People",
    "userrdn": "uid",
    "balancebase": "",  # empty: the user's own entry
    "balancerdn": "uid",
    "groupbase": "ou=Groups",
    "grouprdn": "cn",
    "groupmembers": "memberUid",
    "usermail": "mail",
    "printerbase": "ou=Printers,ou=PyKota",
    "printerrdn": "cn",
    "jobbase": "ou=Jobs,ou=PyKota",
    "lastjobbase": "ou=LastJobs,ou=PyKota",
    "billingcodebase": "ou=BillingCodes,ou=PyKota",
    "userquotabase": "ou=UQuotas,ou=PyKota",
    "groupquotabase": "ou=GQuotas,ou=PyKota",
    "paymentbase": "ou=Payments,ou=PageTally",
    "newuser": "below",
    "newgroup": "below",
}
LAYOUT_KEYS = LDAP_LAYOUT_KEYS
assert set(LAYOUT_KEYS) == set(_DEFAULTS)


@dataclass(frozen=True)
class LdapLayout:
    """Where each kind of entry lives (full DNs) and how it is named."""

    base: str
    userbase: str
    userrdn: str
    balancebase: str
    balancerdn: str
    groupbase: str
    grouprdn: str
    groupmembers: str
    usermail: str
    printerbase: str
    printerrdn: str
    jobbase: str
    lastjobbase: str
    billingcodebase: str
    userquotabase: str
    groupquotabase: str
    paymentbase: str
    newuser: str
    newgroup: str

    @classmethod
    def of(cls, base: str, given: Mapping[str, str]) -> LdapLayout:
        """The layout below `base`; a relative DN given (or defaulted) gets `base` appended."""
        unknown = set(given) - set(_DEFAULTS)
        if unknown:
            raise StorageError(f"unknown LDAP layout directive(s): {', '.join(sorted(unknown))}")
        values: dict[str, str] = {}
        for key, default in _DEFAULTS.items():
            value = given.get(key, default).strip()
            if key.endswith("base") and value and not value.lower().endswith(base.lower()):
                value = f"{value},{base}"
            values[key] = value
        if not values["balancebase"]:
            values["balancebase"] = values["userbase"]
        return cls(base=base, **values)

    def branches(self) -> list[str]:
        """Every container the store writes below, parents first."""
        wanted = {
            self.userbase, self.balancebase, self.groupbase, self.printerbase, self.jobbase,
            self.lastjobbase, self.billingcodebase, self.userquotabase, self.groupquotabase,
            self.paymentbase,
        }  # fmt: skip
        out: list[str] = []
        for dn in sorted(wanted, key=lambda d: d.count(",")):
            parts = to_dn(dn)
            for i in range(len(parts) - 1, -1, -1):
                sub = ",".join(parts[i:])
                low, base = sub.lower(), self.base.lower()
                if low != base and low.endswith(base) and sub not in out:
                    out.append(sub)
        return out


def rdn(attr: str, value: str, base: str) -> str:
    return f"{attr}={escape_rdn(value)},{base}"


def esc(value: str) -> str:
    """A value made safe inside a search filter (RFC 4515): names are untrusted text."""
    return str(escape_filter_chars(value))


def digest(*parts: str) -> str:
    """A short stable name for an entry keyed by several names (quota entries)."""
    raw = "\x1f".join(parts).encode("utf-8", "surrogatepass")
    return hashlib.blake2b(raw, digest_size=16).hexdigest()


# --- codecs: as PyKota wrote them ---


def money_text(value: Decimal) -> str:
    return format(to_money(value), "f")


def money_of(values: Any, default: Decimal = Decimal(0)) -> Decimal:
    text = first(values)
    if text is None or str(text).strip().lower() in ("", "none"):
        return to_money(default)
    try:
        return to_money(Decimal(str(text).strip()))
    except InvalidOperation:
        raise StorageError(f"not a number in the directory: {text!r}") from None


def int_of(values: Any) -> int | None:
    text = first(values)
    if text is None:
        return None
    if isinstance(text, int):
        return text
    s = str(text).strip()
    if s.lower() in ("", "none"):
        return None
    try:
        return int(Decimal(s))
    except InvalidOperation:
        raise StorageError(f"not a whole number in the directory: {text!r}") from None


def first(values: Any) -> Any:
    if values is None:
        return None
    if isinstance(values, list | tuple):
        return values[0] if values else None
    return values


def text_of(values: Any) -> str:
    found = first(values)
    return "" if found is None else str(found)


def date_text(value: datetime | None) -> str:
    """PyKota's pykotaDateLimit text ("None" when unset), UTC with microseconds."""
    if value is None:
        return "None"
    return value.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S.%f")


def date_of(values: Any) -> datetime | None:
    found = first(values)
    if found is None:
        return None
    if isinstance(found, datetime):
        return found.astimezone(UTC) if found.tzinfo else found.replace(tzinfo=UTC)
    s = str(found).strip()
    if s.lower() in ("", "none"):
        return None
    for fmt in ("%Y-%m-%d %H:%M:%S.%f", "%Y-%m-%d %H:%M:%S", "%Y%m%d%H%M%S.%fZ", "%Y%m%d%H%M%SZ"):
        try:
            return datetime.strptime(s[:26] if "-" in s else s, fmt).replace(tzinfo=UTC)
        except ValueError:
            continue
    raise StorageError(f"not a date in the directory: {s!r}")


def gtime(value: datetime) -> str:
    """GeneralizedTime with microseconds (pagetallyDate)."""
    return value.astimezone(UTC).strftime("%Y%m%d%H%M%S.%fZ")


# --- the connection ---


class Directory:
    """One bound connection, used under a lock (the store may be shared by threads).

    `search`, `add`, `modify`, `delete` return what happened as result codes where
    the store decides on them (an entry that exists, a value gone), and raise the
    store's errors for everything else.
    """

    def __init__(self, settings: StoreSettings, *, readonly: bool) -> None:
        if not settings.server:
            raise StorageError("the LDAP store needs storageserver (ldapuri), e.g. ldap://host")
        self.readonly = readonly
        who = (
            (settings.user, settings.password)
            if readonly
            else (settings.admin_user, settings.admin_password)
        )
        self._server = ldap3.Server(settings.server, connect_timeout=5, get_info=ldap3.NONE)
        self._who = who
        self._lock = threading.RLock()
        self._conn: ldap3.Connection | None = None

    def _bound(self) -> ldap3.Connection:
        if self._conn is not None and not self._conn.closed:
            return self._conn
        try:
            conn = ldap3.Connection(
                self._server,
                user=self._who[0],
                password=self._who[1],
                receive_timeout=30,
                raise_exceptions=False,
                auto_referrals=False,
            )
            if not conn.bind():
                raise StoreUnavailable(
                    f"the LDAP directory refused our bind as {self._who[0]!r}: "
                    f"{conn.result.get('description')} {conn.result.get('message') or ''}".rstrip()
                )
        except lexc.LDAPException as err:
            raise StoreUnavailable(f"the LDAP directory cannot be reached: {err}") from None
        sock = getattr(conn, "socket", None)
        if sock is not None:  # requests are small: send each at once (no Nagle delay)
            sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        self._conn = conn
        return conn

    def close(self) -> None:
        with self._lock:
            if self._conn is not None:
                with contextlib.suppress(lexc.LDAPException):
                    self._conn.unbind()
                self._conn = None

    def _run(self, what: str, op: Any) -> tuple[bool, dict[str, Any], Any]:
        with self._lock:
            for attempt in range(2):
                conn = self._bound()
                try:
                    ok = op(conn)
                    return bool(ok), dict(conn.result or {}), conn.response
                except (
                    lexc.LDAPSocketOpenError,
                    lexc.LDAPSessionTerminatedByServerError,
                    lexc.LDAPSocketReceiveError,
                    lexc.LDAPSocketSendError,
                ) as err:
                    self._conn = None
                    if attempt == 1:
                        raise StoreUnavailable(
                            f"the LDAP directory went away during {what}: {err}"
                        ) from None
                except lexc.LDAPException as err:
                    raise StorageError(f"LDAP {what} failed: {err}") from None
        raise AssertionError("unreachable")

    def _check_write(self) -> None:
        if self.readonly:
            raise ReadOnlyStore(
                "the LDAP store is open read-only: this change needs the admin credentials "
                "(storageadmin in the admin-only secrets file)"
            )

    def search(
        self,
        base: str,
        flt: str,
        attrs: Sequence[str] = ("*",),
        *,
        scope: Literal["BASE", "LEVEL", "SUBTREE"] = "SUBTREE",
    ) -> list[tuple[str, dict[str, Any]]]:
        """(dn, attributes) of the entries found; [] when `base` does not exist."""
        return self.search_some(base, flt, attrs, scope=scope)[0]

    def search_some(
        self,
        base: str,
        flt: str,
        attrs: Sequence[str] = ("*",),
        *,
        scope: Literal["BASE", "LEVEL", "SUBTREE"] = "SUBTREE",
        most: int = 0,
    ) -> tuple[list[tuple[str, dict[str, Any]]], bool]:
        """The entries found, at most `most` of them (0: all), and whether more
        were there (the server stopped at `most`: sizeLimitExceeded)."""

        def op(conn: ldap3.Connection) -> bool:
            return bool(
                conn.search(
                    base, flt, scope, attributes=list(attrs), paged_size=None, size_limit=most
                )
            )

        ok, result, response = self._run("search", op)
        code = result.get("result", 0)
        if not ok and code not in (0, NO_SUCH_OBJECT, SIZE_LIMIT_EXCEEDED):
            self._fail("search", result)
        found = [
            (r["dn"], dict(r.get("attributes") or {}))
            for r in (response or [])
            if r.get("type") == "searchResEntry"
        ]
        return found, code == SIZE_LIMIT_EXCEEDED

    def read(self, dn: str, attrs: Sequence[str] = ("*",)) -> dict[str, Any] | None:
        found = self.search(dn, "(objectClass=*)", attrs, scope="BASE")
        return found[0][1] if found else None

    def add(self, dn: str, classes: Sequence[str], attrs: Mapping[str, Any]) -> int:
        """0, or ALREADY_EXISTS / NO_SUCH_OBJECT (parent missing); raises otherwise."""
        self._check_write()
        clean = {k: v for k, v in attrs.items() if v is not None and v != "" and v != []}
        ok, result, _ = self._run("add", lambda c: c.add(dn, list(classes), clean))
        code = int(result.get("result", 0))
        if ok or code in (ALREADY_EXISTS, NO_SUCH_OBJECT):
            return 0 if ok else code
        self._fail(f"add of {dn}", result)
        return code

    def modify(self, dn: str, changes: Mapping[str, Any], *, expect: Sequence[int] = ()) -> int:
        """0, or one of the result codes in `expect`; raises otherwise."""
        self._check_write()
        ok, result, _ = self._run("modify", lambda c: c.modify(dn, dict(changes)))
        code = int(result.get("result", 0))
        if ok:
            return 0
        if code in expect:
            return code
        self._fail(f"modify of {dn}", result)
        return code

    def delete(self, dn: str) -> int:
        self._check_write()
        ok, result, _ = self._run("delete", lambda c: c.delete(dn))
        code = int(result.get("result", 0))
        if ok or code == NO_SUCH_OBJECT:
            return 0 if ok else code
        self._fail(f"delete of {dn}", result)
        return code

    def _fail(self, what: str, result: Mapping[str, Any]) -> None:
        desc = f"{result.get('description')} {result.get('message') or ''}".strip()
        if result.get("result") in (50,):  # insufficientAccessRights
            raise ReadOnlyStore(f"the directory refused the {what}: {desc}")
        if result.get("result") in (51, 52, 53, 80, 81):  # busy, unavailable, ..., server down
            raise StoreUnavailable(f"the LDAP directory cannot do the {what}: {desc}")
        raise StorageError(f"LDAP {what} failed: {desc}")


def all_of(entries: Iterator[tuple[str, dict[str, Any]]]) -> list[dict[str, Any]]:
    return [attrs for _, attrs in entries]
