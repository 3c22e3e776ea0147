"""User authentication at print time (`printauth`), before any decision.

`none`: the user name cupsd hands over is trusted. `known`: the user must be in
the store. `pin`: the job carries a credential (PWG 5100.11 `job-password`, e.g.
`lp -o job-password=PIN`) matching the PIN hash an administrator set.
`command(CMD)`: the site's command checks the user name and credential, given
on its standard input only.

The credential is taken out of the job's options as soon as it is read, so it
never reaches the history, hooks, mail, banners, logs or the real backend. A
refusal says "PIN missing" or "wrong PIN" and never whether the user exists.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING

from pagetally.core.models import Action, Decision
from pagetally.core.pins import MAX_PIN, verify_pin
from pagetally.cups.status import Messages
from pagetally.cups.ticket import JobTicket
from pagetally.errors import NotFound, StoreUnavailable

if TYPE_CHECKING:
    from pagetally.storage.base import Store

CREDENTIAL_OPTION = "job-password"  # cupsd hides it from Get-Job-Attributes
ENCRYPTION_OPTION = "job-password-encryption"
AUTH_CODE = "auth_failed"  # Decision.code of every refusal here

PIN_MISSING = "PIN missing: this printer needs your print PIN (lp -o job-password=PIN)"
WRONG_PIN = "wrong PIN"
AUTH_FAILED = "authentication failed"
STORE_DOWN = "the accounting store is unreachable: the user cannot be authenticated"


@dataclass(frozen=True, slots=True)
class PrintAuth:
    """The `printauth` setting: a mode, and the site's command for `command`."""

    mode: str = "none"  # none | known | pin | command
    command: str = ""

    @property
    def needs_credential(self) -> bool:
        return self.mode in ("pin", "command")


def parse_printauth(text: str | None) -> PrintAuth:
    """`none`, `known`, `pin` or `command(CMD)` (already checked by config)."""
    value = (text or "none").strip()
    if value.startswith("command(") and value.endswith(")"):
        return PrintAuth("command", value[len("command("):-1].strip())
    return PrintAuth(value.lower())


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


def authenticate(auth: PrintAuth, store: Store | None, user: str,
                 credential: Credential | None, msgs: Messages,
                 base_env: Mapping[str, str]) -> Decision | None:
    """None when the job's user may print, else the refusal."""
    if auth.mode == "none":
        return None
    if auth.mode == "command":
        return _by_command(auth.command, user, credential, msgs, base_env)
    if store is None:
        return _refusal(STORE_DOWN)
    if auth.mode == "known":
        try:
            store.get_user(user)
        except NotFound:
            return _refusal(f"unknown user {user}: printing here needs an account "
                            "(printauth: known)")
        except StoreUnavailable as e:
            msgs.error(f"PageTally: the store is unreachable: {e}")
            return _refusal(STORE_DOWN)
        return None
    # pin
    if credential is None:
        return _refusal(PIN_MISSING)
    if credential.encryption != "none":
        return _refusal(f"the PIN was sent hashed (job-password-encryption: "
                        f"{credential.encryption[:20]}); send it as typed")
    try:
        stored = store.get_user_pin_hash(user)
    except NotFound:
        stored = None  # checked against a dummy hash all the same (pins.verify_pin)
    except StoreUnavailable as e:
        msgs.error(f"PageTally: the store is unreachable: {e}")
        return _refusal(STORE_DOWN)
    if not verify_pin(credential.secret, stored):
        return _refusal(WRONG_PIN)
    return None


def _by_command(command: str, user: str, credential: Credential | None, msgs: Messages,
                base_env: Mapping[str, str]) -> Decision | None:
    """The site's check: `user\\ncredential\\n` on its standard input, nothing
    of either in its arguments or environment; exit 0 means valid."""
    from pagetally.notify.hooks import base_environment
    from pagetally.notify.process import run_command

    if credential is None:
        return _refusal(PIN_MISSING)
    secret = credential.secret
    if "\n" in user or "\n" in secret or len(secret) > MAX_PIN:
        return _refusal(AUTH_FAILED)
    result = run_command(command, base_environment(base_env),
                         stdin=f"{user}\n{secret}\n".encode())
    if result.error is not None:
        msgs.error(f"PageTally: the printauth command could not run: {result.error}")
        return _refusal(AUTH_FAILED)
    if result.returncode != 0:
        return _refusal(AUTH_FAILED)
    return None


def _refusal(reason: str) -> Decision:
    return Decision(Action.DENY, reason, pages=0, code=AUTH_CODE)
