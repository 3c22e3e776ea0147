"""User authentication at print time (`printauth`), before any decision.

`none`: the user name cupsd hands over is trusted. `known`: the user must be in
the store. `pin`: the job carries a credential (PWG 5100.11 `job-password`, e.g.
`lp -o job-password=PIN`) matching the PIN hash an administrator set.
`command(CMD)`: the site's command checks the user name and credential, given
on its standard input only.

The credential is taken out of the job's options as soon as it is read, so it
never reaches the history, hooks, mail, banners, logs or the real backend. A
refusal says "PIN missing" or "wrong PIN" and never whether the user exists.

Lockout (`printauthmaxfailures`, `printauthlockout`): failed checks are the
history rows whose decision code is `DecisionCode.AUTH_FAILED` (a wrong PIN, or
the site's check said no), never matched by their reason text: rewording a
message cannot switch the lockout off. A missing credential, a check that could
not run and the store being down have codes of their own and are not counted.
With too many failed checks for the user name within the window
(on any printer, since the PIN's last change), the job is refused before its
PIN is checked. One history read per `pin`/`command` job that carries a PIN.
"""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TYPE_CHECKING

from pagetally.core.models import Action, Decision, DecisionCode
from pagetally.core.pins import MAX_PIN, lockout_until, pin_set_at, verify_pin
from pagetally.cups.status import Messages
from pagetally.cups.ticket import JobTicket
from pagetally.errors import NotFound, StoreUnavailable

if TYPE_CHECKING:
    from pagetally.config import Config
    from pagetally.storage.base import PrintJobStore as Store  # the print job's role

CREDENTIAL_OPTION = "job-password"  # cupsd hides it from Get-Job-Attributes
ENCRYPTION_OPTION = "job-password-encryption"

PIN_MISSING = "PIN missing: this printer needs your print PIN (lp -o job-password=PIN)"
WRONG_PIN = "wrong PIN"
AUTH_FAILED = "authentication failed"
CHECK_BROKEN = "authentication failed: the check could not be run"  # not the user's fault
LOCKED = "too many wrong PINs: try again after {when}"
STORE_DOWN = "the accounting store is unreachable: the user cannot be authenticated"


@dataclass(frozen=True, slots=True)
class PrintAuth:
    """The `printauth` setting: a mode, and the site's command for `command`."""

    mode: str = "none"  # none | known | pin | command
    command: str = ""
    max_failures: int = 5  # printauthmaxfailures (0: no lockout)
    lockout: int = 900  # printauthlockout, seconds

    @property
    def needs_credential(self) -> bool:
        return self.mode in ("pin", "command")


def parse_printauth(text: str | None) -> PrintAuth:
    """`none`, `known`, `pin` or `command(CMD)` (already checked by config)."""
    value = (text or "none").strip()
    if value.startswith("command(") and value.endswith(")"):
        return PrintAuth("command", value[len("command(") : -1].strip())
    return PrintAuth(value.lower())


def printauth_for(config: Config, printer: str) -> PrintAuth:
    """The printer's `printauth`, `printauthmaxfailures` and `printauthlockout`."""
    auth = parse_printauth(config.get_str("printauth", printer))
    if not auth.needs_credential:
        return auth
    return dataclasses.replace(
        auth,
        max_failures=config.get_int("printauthmaxfailures", printer),
        lockout=config.get_int("printauthlockout", printer),
    )


@dataclass(frozen=True, slots=True)
class Credential:
    """What the job carried: the secret, and how the client encoded it."""

    secret: str
    encryption: str = "none"

    def __repr__(self) -> str:  # never in a traceback, a log or a crash report
        return f"Credential(<hidden>, encryption={self.encryption!r})"


def take_credential(ticket: JobTicket) -> tuple[JobTicket, Credential | None]:
    """The ticket without `job-password` (and its encryption option), and the
    credential it carried (None: none, or an empty one)."""
    options = dict(ticket.options)
    secret = options.pop(CREDENTIAL_OPTION, None)
    encryption = options.pop(ENCRYPTION_OPTION, "none") or "none"
    if secret is None and len(options) == len(ticket.options):
        return ticket, None
    clean = dataclasses.replace(ticket, options=options)
    return clean, Credential(secret, encryption.lower()) if secret else None


def authenticate(
    auth: PrintAuth,
    store: Store | None,
    user: str,
    credential: Credential | None,
    msgs: Messages,
    base_env: Mapping[str, str],
    now: datetime,
) -> Decision | None:
    """None when the job's user may print, else the refusal."""
    if auth.mode == "none":
        return None
    if auth.mode == "command":
        if credential is not None and auth.max_failures > 0:
            if store is None:
                return _refusal(STORE_DOWN, DecisionCode.AUTH_UNAVAILABLE)
            locked = _lockout(auth, store, user, None, now, msgs)
            if locked is not None:
                return locked
        return _by_command(auth.command, user, credential, msgs, base_env)
    if store is None:
        return _refusal(STORE_DOWN, DecisionCode.AUTH_UNAVAILABLE)
    if auth.mode == "known":
        try:
            store.get_user(user)
        except NotFound:
            return _refusal(
                f"unknown user {user}: printing here needs an account (printauth: known)",
                DecisionCode.AUTH_UNKNOWN,
            )
        except StoreUnavailable as e:
            msgs.error(f"PageTally: the store is unreachable: {e}")
            return _refusal(STORE_DOWN, DecisionCode.AUTH_UNAVAILABLE)
        return None
    # pin
    if credential is None:
        return _refusal(PIN_MISSING, DecisionCode.AUTH_MISSING)
    if credential.encryption != "none":
        return _refusal(
            f"the PIN was sent hashed (job-password-encryption: "
            f"{credential.encryption[:20]}); send it as typed",
            DecisionCode.AUTH_MISSING,
        )
    try:
        stored = store.get_user_pin_hash(user)
    except NotFound:
        stored = None  # checked against a dummy hash all the same (pins.verify_pin)
    except StoreUnavailable as e:
        msgs.error(f"PageTally: the store is unreachable: {e}")
        return _refusal(STORE_DOWN, DecisionCode.AUTH_UNAVAILABLE)
    if auth.max_failures > 0:
        locked = _lockout(auth, store, user, pin_set_at(stored), now, msgs)
        if locked is not None:  # the PIN is not even checked
            return locked
    if not verify_pin(credential.secret, stored):
        return _refusal(WRONG_PIN, DecisionCode.AUTH_FAILED)
    return None


def _lockout(
    auth: PrintAuth,
    store: Store,
    user: str,
    pin_set: datetime | None,
    now: datetime,
    msgs: Messages,
) -> Decision | None:
    """The lockout refusal when `user` has too many failed checks within the
    window (since `pin_set`, the PIN's last change), else None. The store down:
    refused, as the check itself would be."""
    from pagetally.storage.base import HistoryFilter

    window = timedelta(seconds=auth.lockout)
    since = now - window if pin_set is None else max(now - window, pin_set)
    try:
        flt = HistoryFilter(user=_literal(user), since=since)
        failures = [
            job.date
            for job in store.history(flt)
            if job.user == user
            and job.action is Action.DENY
            and job.code == DecisionCode.AUTH_FAILED
        ]
    except StoreUnavailable as e:
        msgs.error(f"PageTally: the store is unreachable: {e}")
        return _refusal(STORE_DOWN, DecisionCode.AUTH_UNAVAILABLE)
    until = lockout_until(
        failures, now=now, max_failures=auth.max_failures, window=window, not_before=pin_set
    )
    if until is None:
        return None
    return _refusal(LOCKED.format(when=_after(until, now)), DecisionCode.AUTH_LOCKED)


def _literal(name: str) -> str:
    """`name` as a history pattern matching only itself (a user name may hold
    `*`, `?` or `[`, which HistoryFilter reads as wildcards)."""
    return re.sub(r"([*?[])", r"[\1]", name)


def _after(until: datetime, now: datetime) -> str:
    """`until` rounded up to the minute, as HH:MM UTC (with the date when it is
    not today's)."""
    minute = until.replace(second=0, microsecond=0)
    if minute < until:
        minute += timedelta(minutes=1)
    if minute.date() == now.date():
        return minute.strftime("%H:%M UTC")
    return minute.strftime("%Y-%m-%d %H:%M UTC")


def _by_command(
    command: str,
    user: str,
    credential: Credential | None,
    msgs: Messages,
    base_env: Mapping[str, str],
) -> Decision | None:
    """The site's check: `user\\ncredential\\n` on its standard input, nothing
    of either in its arguments or environment; exit 0 means valid."""
    from pagetally.notify.hooks import base_environment
    from pagetally.notify.process import run_command

    if credential is None:
        return _refusal(PIN_MISSING, DecisionCode.AUTH_MISSING)
    secret = credential.secret
    if "\n" in user or "\n" in secret or len(secret) > MAX_PIN:
        return _refusal(AUTH_FAILED, DecisionCode.AUTH_FAILED)
    result = run_command(command, base_environment(base_env), stdin=f"{user}\n{secret}\n".encode())
    if result.error is not None:
        msgs.error(f"PageTally: the printauth command could not run: {result.error}")
        return _refusal(CHECK_BROKEN, DecisionCode.AUTH_UNAVAILABLE)  # not the user's failure
    if result.returncode != 0:
        return _refusal(AUTH_FAILED, DecisionCode.AUTH_FAILED)
    return None


def _refusal(reason: str, code: DecisionCode) -> Decision:
    return Decision(Action.DENY, reason, pages=0, code=code)
