"""The backend's side of print-time dialogs and client notices (issue 15).

The backend asks the notifier hub of `pagetally serve` (socket `notifierservice`)
to put a question to the job's user's `pagetally-client` on the job's origin
host, and waits at most the question's timeout (plus a second for the hub).
Whatever goes wrong — no hub, no client, no answer, garbage — the configured
default answers, so a missing client never blocks a queue. Notices (printed,
refused, running low) are sent without waiting for anything.

Every answer that decided something is kept in `self.answers` and recorded with
the job (`record_job_answers`); a PIN is never kept, only whether one was given.
"""

from __future__ import annotations

import json
import logging
import socket
import time
from dataclasses import dataclass, field
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from pagetally.core.dialogs import (
    Answer,
    Kind,
    Question,
    Source,
    billing_code_value,
    clean_text,
    confirm_value,
    parse_confirm,
    wants_confirmation,
)
from pagetally.core.models import Action, Decision, JobFacts

if TYPE_CHECKING:
    from pagetally.config import Config

log = logging.getLogger("pagetally.backend")

HUB_GRACE = 1.0  # seconds the backend allows the hub beyond a question's timeout
NOTICE_TIMEOUT = 0.5  # a notice never holds a job longer than this


@dataclass
class Dialogs:
    """One job's dialogs: what the config asks for, and the answers so far."""

    socket_path: str | None  # None: no hub (the defaults answer at once)
    user: str
    host: str
    confirm_over: Decimal | None = None  # None: never ask "print it?"
    confirm_default: str = "yes"
    billing_code: str = "no"  # no | missing | always
    billing_codes: tuple[str, ...] = ()
    billing_default: str = ""
    pin: bool = False
    timeout: float = 30.0
    notices: bool = True
    answers: list[Answer] = field(default_factory=list)
    waited: float = 0.0  # seconds spent waiting on the hub for this job

    @classmethod
    def from_config(cls, config: Config, printer: str, user: str, host: str) -> Dialogs:
        def get(name: str) -> str:
            value = config.get(name, printer)
            return "" if value is None else str(value)

        path = get("notifierservice").strip()
        codes = tuple(c.strip() for c in get("clientbillingcodes").split(",") if c.strip())
        return cls(
            socket_path=None if path.lower() in ("", "none") else path,
            user=user,
            host=host,
            confirm_over=parse_confirm(get("clientconfirm")),
            confirm_default=confirm_value(get("clientconfirmdefault")),
            billing_code=get("clientbillingcode").lower() or "no",
            billing_codes=codes,
            billing_default=get("clientbillingcodedefault").strip(),
            pin=get("clientpin").lower() in ("yes", "true", "on", "1"),
            timeout=float(get("clienttimeout") or 30),
            notices=get("clientnotices").lower() not in ("no", "false", "off", "0"),
        )

    # --- talking to the hub ----------------------------------------------------
    def _request(self, message: dict[str, Any], wait: float) -> dict[str, Any] | None:
        """One request to the hub and its reply; None when there is no hub or it
        did not answer in `wait` seconds."""
        if self.socket_path is None:
            return None
        started = time.monotonic()
        try:
            with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as sock:
                sock.settimeout(wait)
                sock.connect(self.socket_path)
                sock.sendall(json.dumps(message).encode() + b"\n")
                data = b""
                while not data.endswith(b"\n") and len(data) < 65536:
                    chunk = sock.recv(4096)
                    if not chunk:
                        break
                    data += chunk
            reply = json.loads(data) if data else None
            return reply if isinstance(reply, dict) else None
        except (OSError, ValueError):
            return None
        finally:
            self.waited += time.monotonic() - started

    def ask(self, question: Question) -> tuple[str | None, Source]:
        """The client's raw answer (None: none) and where the outcome comes from."""
        reply = self._request(
            {
                "op": "ask",
                "user": self.user,
                "host": self.host,
                "question": {
                    "kind": question.kind.value,
                    "text": question.text,
                    "choices": list(question.choices),
                    "timeout": question.timeout,
                },
            },
            question.timeout + HUB_GRACE,
        )
        if reply is None:
            return None, Source.UNREACHABLE
        value = reply.get("answer")
        if isinstance(value, str) and reply.get("source") == "client":
            return value, Source.CLIENT
        return None, Source.TIMEOUT if reply.get("source") == "timeout" else Source.NO_CLIENT

    def notify(self, kind: str, title: str, body: str, **data: object) -> None:
        if not self.notices or self.socket_path is None:
            return
        notice = {
            "kind": kind,
            "title": clean_text(title, 120),
            "body": clean_text(body),
            "data": {k: str(v) for k, v in data.items()},
        }
        self._request({"op": "notify", "user": self.user, "notice": notice}, NOTICE_TIMEOUT)

    # --- the three questions ---------------------------------------------------
    def confirm(self, facts: JobFacts, decision: Decision, price_text: str) -> Decision | None:
        """ "Print it?" when the job's price calls for it: None to print, else the
        cancelling decision (answered no, or the default is no)."""
        if not wants_confirmation(self.confirm_over, decision.price):
            return None
        title = facts.title or f"job {facts.job_id}"
        text = f"{title!r} on {facts.printer}: {facts.pages} page(s), {price_text}. Print it?"
        raw, source = self.ask(Question(Kind.CONFIRM, text, ("yes", "no"), self.timeout))
        value = confirm_value(raw) if raw is not None else self.confirm_default
        self.answers.append(Answer(Kind.CONFIRM, value, source))
        if value == "yes":
            return None
        if source is Source.CLIENT:
            why = "cancelled by the user (answered no in pagetally-client)"
        else:
            what = {
                Source.TIMEOUT: f"no answer within {self.timeout:g} s",
                Source.NO_CLIENT: "no pagetally-client of the user on the job's host",
                Source.UNREACHABLE: "the notifier service is not running",
            }[source]
            why = f"cancelled: {what} (clientconfirmdefault: no)"
        return Decision(Action.CANCEL, why, price=decision.price, code="user_cancelled")

    def billing(self, facts: JobFacts) -> str | None:
        """The billing code to use (None: leave the job's as it is)."""
        if self.billing_code == "no" or (self.billing_code == "missing" and facts.billing_code):
            return None
        text = f"Which billing code for {facts.title or 'job ' + facts.job_id!r}?"
        raw, source = self.ask(Question(Kind.BILLING_CODE, text, self.billing_codes, self.timeout))
        code = billing_code_value(raw, self.billing_codes) if raw is not None else None
        if code is None:  # no answer, or one not among the codes: the default
            code = self.billing_default or facts.billing_code or ""
        self.answers.append(Answer(Kind.BILLING_CODE, code, source))
        return code or None

    def pin_secret(self, printer: str) -> str | None:
        """The PIN typed in the client (None: none; the job then has no PIN)."""
        if not self.pin:
            return None
        raw, source = self.ask(
            Question(Kind.PIN, f"Your print PIN for {printer}:", (), self.timeout)
        )
        secret = raw.strip() if raw is not None else ""
        self.answers.append(Answer(Kind.PIN, "given" if secret else "", source))
        return secret or None

    # --- after the job ---------------------------------------------------------
    def refused(self, facts: JobFacts, decision: Decision) -> None:
        word = "cancelled" if decision.action is Action.CANCEL else "refused"
        self.notify(
            "refused",
            f"Job {word} on {facts.printer}",
            decision.reason,
            job=facts.job_id,
            printer=facts.printer,
            reason=decision.reason,
            code=decision.code,
        )

    def printed(self, facts: JobFacts, pages: int, price: str, balance: str | None) -> None:
        left = f"; balance left {balance}" if balance is not None else ""
        self.notify(
            "printed",
            f"Printed on {facts.printer}",
            f"{pages} page(s), {price}{left}",
            job=facts.job_id,
            printer=facts.printer,
            pages=pages,
            price=price,
            balance=balance or "",
        )

    def running_low(self, facts: JobFacts, decision: Decision) -> None:
        if decision.action is Action.WARN:
            self.notify("low", "Running low", decision.reason, printer=facts.printer)


def record(store: Any, facts: JobFacts, dialogs: Dialogs | None, date: Any) -> None:
    """Keep the job's answers (nothing when none were asked). Never raises: the
    job's charge is what matters, its answers are a note beside it."""
    if dialogs is None or not dialogs.answers or store is None:
        return
    try:
        store.record_job_answers(facts, list(dialogs.answers), date)
    except Exception as e:  # a store without answers (LDAP), or gone meanwhile
        log.warning("the job's answers were not recorded: %s: %s", type(e).__name__, e)
