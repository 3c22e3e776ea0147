"""Print-time dialogs and client notices: the rules, no I/O (issue 15).

The backend may ask the job's user, through `pagetally-client` on the job's
origin host, three questions (PyKota's askconfirmation/pknotify): "this job
costs X, print it?", "which billing code?", "your PIN". Every question has a
timeout and a configured default, so that a missing or silent client never
blocks a queue: what decides is always an `Answer`, from the client or from the
default, and it is recorded with the job (table `jobanswers`).
"""

from __future__ import annotations

import contextlib
import ipaddress
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from enum import StrEnum

from pagetally.errors import ConfigError

#: Longest text a question, notice or answer may carry over the wire.
TEXT_MAX = 500
#: Longest answer kept in the store (a billing code, yes/no; a PIN is never kept).
ANSWER_MAX = 64


class Kind(StrEnum):
    """What is asked."""

    CONFIRM = "confirm"
    BILLING_CODE = "billingcode"
    PIN = "pin"


class Source(StrEnum):
    """Where the answer that decided came from."""

    CLIENT = "client"  # the user answered
    TIMEOUT = "timeout"  # a client was asked and did not answer in time: the default
    NO_CLIENT = "noclient"  # no client of the user on the job's host: the default
    UNREACHABLE = "unreachable"  # the notifier service is not running: the default


@dataclass(frozen=True, slots=True)
class Question:
    kind: Kind
    text: str
    choices: tuple[str, ...] = ()  # empty: free text (a PIN, a code not listed)
    timeout: float = 30.0


@dataclass(frozen=True, slots=True)
class Answer:
    kind: Kind
    value: str  # "yes"/"no" for CONFIRM; the code; for PIN "given"/"" (never the PIN)
    source: Source

    @property
    def from_client(self) -> bool:
        return self.source is Source.CLIENT


def parse_confirm(raw: str) -> Decimal | None:
    """`clientconfirm`: `no` (never ask: None), `yes` (every job: 0) or an amount
    (ask for jobs costing at least that much)."""
    text = raw.strip().lower()
    if text in ("no", "none", "never", "false", "0", ""):
        return None
    if text in ("yes", "always", "true"):
        return Decimal(0)
    try:
        amount = Decimal(text)
    except InvalidOperation:
        raise ConfigError(f"clientconfirm: {raw!r} is not yes, no or an amount") from None
    if not amount.is_finite() or amount < 0:
        raise ConfigError(f"clientconfirm: {raw!r} must be a positive amount")
    return amount


def wants_confirmation(threshold: Decimal | None, price: Decimal) -> bool:
    """Ask "print it?" for a job of this price."""
    return threshold is not None and price >= threshold


def confirm_value(text: str) -> str:
    """A client's (or the default's) reply to CONFIRM as yes/no; anything but a
    clear yes is no."""
    return "yes" if text.strip().lower() in ("yes", "y", "ok", "print", "true", "1") else "no"


def billing_code_value(text: str, choices: tuple[str, ...]) -> str | None:
    """A billing code answer when it is one of `choices` (any printable code
    when there are none), else None (the default applies)."""
    code = text.strip()
    if not code or len(code) > ANSWER_MAX or not code.isprintable():
        return None
    if choices and code not in choices:
        return None
    return code


def clean_text(text: str, limit: int = TEXT_MAX) -> str:
    """Text for the wire: control characters replaced, bounded (a title may hold
    anything)."""
    out = "".join(c if c.isprintable() or c == "\n" else "?" for c in text)
    return out[:limit]


_LOOPBACK_NAMES = frozenset(("localhost", "localhost.localdomain", "ip6-localhost"))


def is_loopback(host: str) -> bool:
    name = host.strip().lower().strip("[]")
    if name in _LOOPBACK_NAMES:
        return True
    try:
        return ipaddress.ip_address(name).is_loopback
    except ValueError:
        return False


def same_host(job_host: str, client_addresses: frozenset[str]) -> bool:
    """Whether a job that came from `job_host` (CUPS' job-originating-host-name:
    a name or an address) came from the machine whose client connected from
    one of `client_addresses` (its address, and the addresses its name resolves
    to, found by the caller)."""
    host = job_host.strip().lower().strip("[]")
    if not host:
        return False
    if is_loopback(host):
        return any(is_loopback(a) for a in client_addresses)
    with contextlib.suppress(ValueError):
        host = str(ipaddress.ip_address(host))
    return host in client_addresses


def parse_listen(text: str | None) -> tuple[str, int] | None:
    """`notifierlisten`: `none`, `PORT` (all addresses), `HOST:PORT`, `[V6]:PORT`."""
    value = (text or "none").strip()
    if value.lower() in ("", "none", "no"):
        return None
    host, _, port = value.rpartition(":")
    if not port.isdigit() or not 0 < int(port) < 65536:
        raise ValueError(f"{value!r} is not HOST:PORT")
    return host.strip("[]") or "0.0.0.0", int(port)  # noqa: S104 (the admin asked)
