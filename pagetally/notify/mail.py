"""Delivering notices: by SMTP, through an external command, or not at all.

`mailto` (per printer) says who is told: `both` (the person and the
administrator), `user`, `admin`, `devnull` (nobody, and no SMTP connection is
ever opened: PyKota's `devnull` still connected for every job), or
`external(command)`: the command runs once per notice to a person, with the
message on its standard input, and PyKota's `%(action)s`, `%(username)s`,
`%(printername)s`, `%(email)s`, `%(message)s` replaced INSIDE the single
argument that holds them (the command is split with shlex first; no shell,
so a hostile user name cannot add arguments or commands). The same facts are
in its environment: PAGETALLY_ACTION, PAGETALLY_USERNAME, PAGETALLY_PRINTERNAME,
PAGETALLY_EMAIL, PAGETALLY_SUBJECT (and their PYKOTA* names).

The person's address is their `email` in the store, else `name@maildomain`
(else `name@<smtpserver host>`, as PyKota did). Addresses are checked: one
with spaces, control characters or several `@` is refused and logged.

An SMTP failure is one logged line and a count in the `Delivery`; never an
exception. All the notices of one call share one SMTP connection, opened only
when there is something to send.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Protocol

from pagetally.core.models import Decision, JobFacts, User, UserQuota
from pagetally.notify.hooks import base_environment
from pagetally.notify.messages import (
    SUBJECT_CRASH,
    Notice,
    Role,
    crash_body,
    job_notices,
)
from pagetally.notify.process import (
    DEFAULT_TIMEOUT,
    CommandResult,
    fill_placeholders,
    run_command,
    split_command,
)

if TYPE_CHECKING:  # smtplib and email load only when a mail is sent (the backend's speed)
    import smtplib
    from email.message import EmailMessage

log = logging.getLogger("pagetally.notify.mail")

_ADDRESS = re.compile(r"[^\s@<>,;:\"'()\[\]\\]+@[A-Za-z0-9._-]+")


class ConfigLike(Protocol):
    """What `MailSettings.from_config` reads: `pagetally.config.Config` fits."""

    def get_str(self, name: str, printer: str | None = None) -> str: ...

    def get_str_or_none(self, name: str, printer: str | None = None) -> str | None: ...


@dataclass(frozen=True, slots=True)
class MailSettings:
    """The mail directives for one printer (PyKota's names)."""

    mailto: str = "both"
    smtpserver: str = "localhost"
    maildomain: str | None = None
    admin: str = "root"
    adminmail: str = "root@localhost"
    currency: str = "EUR"
    timeout: float = 10.0

    @classmethod
    def from_config(cls, config: ConfigLike, printer: str | None = None) -> MailSettings:
        """Read `mailto`, `smtpserver`, `maildomain`, `admin`, `adminmail`,
        `currency` for `printer` (its section over [global])."""
        return cls(
            mailto=config.get_str("mailto", printer),
            smtpserver=config.get_str("smtpserver") or "localhost",
            maildomain=config.get_str_or_none("maildomain") or None,
            admin=config.get_str("admin", printer) or "root",
            adminmail=config.get_str("adminmail", printer) or "root@localhost",
            currency=config.get_str("currency"),
        )

    @property
    def external_command(self) -> str | None:
        """The command of `external(command)`, else None."""
        m = re.fullmatch(r"external\((.*)\)", self.mailto.strip(), flags=re.DOTALL | re.I)
        return m.group(1).strip() if m else None

    @property
    def mode(self) -> str:
        """both | user | admin | devnull | external."""
        return "external" if self.external_command is not None else self.mailto.lower()

    def server(self) -> tuple[str, int]:
        """(host, port) of `smtpserver` ("host", "host:port", "[v6]:port")."""
        text = self.smtpserver.strip() or "localhost"
        m = re.fullmatch(r"\[([^\]]+)\](?::(\d+))?", text) or re.fullmatch(
            r"([^:]+)(?::(\d+))?", text
        )
        if not m:
            return text, 25
        return m.group(1), int(m.group(2)) if m.group(2) else 25


@dataclass
class Delivery:
    """What happened to the notices of one call."""

    sent: list[tuple[str, str]] = field(default_factory=list)  # (address, subject)
    failed: list[tuple[str, str]] = field(default_factory=list)  # (address, reason)
    external: list[CommandResult] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.failed and all(r.ok for r in self.external)

    def merge(self, other: Delivery) -> None:
        self.sent += other.sent
        self.failed += other.failed
        self.external += other.external


def valid_address(address: str) -> bool:
    """A plain `local@domain` address with nothing that could break a header."""
    return len(address) <= 254 and _ADDRESS.fullmatch(address) is not None


def user_address(user: User | None, name: str, settings: MailSettings) -> str:
    """The person's address: the store's, else name@maildomain (PyKota's rule)."""
    if user is not None and user.email:
        return user.email.strip()
    if "@" in name:
        return name
    domain = settings.maildomain or settings.server()[0]
    return f"{name}@{domain}"


def build_message(sender: str, to: str, subject: str, body: str) -> EmailMessage:
    """A text/plain UTF-8 message, marked as automatic (no vacation replies)."""
    from email.message import EmailMessage
    from email.utils import formatdate, make_msgid

    msg = EmailMessage()
    msg["From"] = sender
    msg["To"] = to
    msg["Subject"] = subject
    msg["Date"] = formatdate(localtime=False, usegmt=True)
    msg["Message-ID"] = make_msgid(domain=sender.rsplit("@", 1)[-1] or None)
    msg["Auto-Submitted"] = "auto-generated"
    msg.set_content(body)
    return msg


def _external_env(notice: Notice, email: str) -> dict[str, str]:
    env: dict[str, str] = {}
    for name, value in (
        ("ACTION", notice.action),
        ("USERNAME", notice.user),
        ("PRINTERNAME", notice.printer),
        ("EMAIL", email),
        ("SUBJECT", notice.subject),
    ):
        env["PAGETALLY_" + name] = value
        env["PYKOTA" + name] = value
    return env


def external_argv(command: str, notice: Notice, email: str) -> list[str]:
    """The external mailer's arguments: PyKota's placeholders replaced inside
    each argument, never creating new ones. ValueError on bad quoting."""
    values = {
        "action": notice.action,
        "username": notice.user,
        "printername": notice.printer,
        "email": email,
        "message": notice.body,
    }
    return fill_placeholders(split_command(command), values)


class _Smtp:
    """One lazily opened SMTP connection for a batch of messages."""

    def __init__(self, settings: MailSettings) -> None:
        self.settings = settings
        self.conn: smtplib.SMTP | None = None
        self.broken: str | None = None

    def send(self, msg: EmailMessage, to: str) -> str | None:
        """None when sent, else the reason it was not."""
        import smtplib

        if self.broken is not None:
            return self.broken
        host, port = self.settings.server()
        try:
            if self.conn is None:
                self.conn = smtplib.SMTP(host, port, timeout=self.settings.timeout)
            self.conn.send_message(msg, to_addrs=[to])
        except smtplib.SMTPRecipientsRefused as exc:
            codes = "; ".join(
                f"{c} {m.decode('utf-8', 'replace')}" for c, m in exc.recipients.values()
            )
            return f"refused by {host}:{port}: {codes}"
        except (smtplib.SMTPSenderRefused, smtplib.SMTPDataError) as exc:
            text = (
                exc.smtp_error.decode("utf-8", "replace")
                if isinstance(exc.smtp_error, bytes)
                else str(exc.smtp_error)
            )
            return f"refused by {host}:{port}: {exc.smtp_code} {' '.join(text.split())}"
        except (smtplib.SMTPException, OSError) as exc:
            self.broken = f"cannot send mail via {host}:{port}: {exc or type(exc).__name__}"
            self.close()
            return self.broken
        return None

    def close(self) -> None:
        import smtplib

        if self.conn is not None:
            try:
                self.conn.quit()
            except (smtplib.SMTPException, OSError):
                self.conn.close()
            self.conn = None


def deliver(
    notices: Sequence[Notice],
    settings: MailSettings,
    *,
    users: Mapping[str, User | None] | None = None,
    base_env: Mapping[str, str] | None = None,
    command_timeout: float = DEFAULT_TIMEOUT,
) -> Delivery:
    """Send `notices` as `settings.mailto` says. `users` gives the store's
    User of each person named in a notice (for their e-mail address).
    Never raises for a delivery failure; logs one line per failure."""
    out = Delivery()
    mode = settings.mode
    if mode == "devnull" or not notices:
        return out
    known = users or {}
    if mode == "external":
        command = settings.external_command or ""
        for notice in notices:
            if notice.role is Role.USER:
                email = user_address(known.get(notice.user), notice.user, settings)
                out.external.append(
                    _run_external(command, notice, email, base_env, command_timeout)
                )
        return out
    smtp = _Smtp(settings)
    try:
        for notice in notices:
            to = recipient(notice, settings, known.get(notice.user))
            if to is not None:
                _send_one(smtp, settings, to, notice.subject, notice.body, out)
    finally:
        smtp.close()
    return out


def recipient(notice: Notice, settings: MailSettings, user: User | None = None) -> str | None:
    """Where `notice` goes under `settings.mailto`: an address, `external:`
    and the person's address for the external mailer, or None (nobody)."""
    mode = settings.mode
    if mode == "devnull":
        return None
    if mode == "external":
        if notice.role is not Role.USER:
            return None
        return "external:" + user_address(user, notice.user, settings)
    if notice.role is Role.USER and mode in ("both", "user"):
        return user_address(user, notice.user, settings)
    if notice.role is Role.ADMIN and mode in ("both", "admin"):
        return settings.adminmail
    return None


def _send_one(
    smtp: _Smtp, settings: MailSettings, to: str, subject: str, body: str, out: Delivery
) -> None:
    if not valid_address(to):
        reason = f"not a usable e-mail address: {to[:80]!r}"
        log.warning("mail %r not sent: %s", subject, reason)
        out.failed.append((to, reason))
        return
    sender = settings.adminmail if valid_address(settings.adminmail) else "root@localhost"
    problem = smtp.send(build_message(sender, to, subject, body), to)
    if problem is None:
        out.sent.append((to, subject))
        return
    log.error("mail %r to %s not sent: %s", subject, to, problem)
    out.failed.append((to, problem))


def _run_external(
    command: str,
    notice: Notice,
    email: str,
    base_env: Mapping[str, str] | None,
    timeout: float,
) -> CommandResult:
    try:
        argv = external_argv(command, notice, email)
    except ValueError as exc:
        result = CommandResult((), error=f"cannot parse command {command!r}: {exc}")
    else:
        env = base_environment(base_env)
        env.update(_external_env(notice, email))
        result = run_command(argv, env, timeout=timeout, stdin=notice.body.encode("utf-8"))
    if not result.ok:
        log.error("mailto external %r for %s failed: %s", command, notice.user, result.describe())
    return result


def notify_job(
    decision: Decision,
    facts: JobFacts,
    settings: MailSettings,
    *,
    user: User | None = None,
    quota: UserQuota | None = None,
    base_env: Mapping[str, str] | None = None,
) -> Delivery:
    """Tell the person (and the administrator, per `mailto`) about a refused
    job or one that passed a warning threshold; nothing for an allowed job.
    The backend's one call after the decision."""
    notices = job_notices(
        decision,
        facts,
        user=user,
        quota=quota,
        admin=settings.admin,
        adminmail=settings.adminmail,
        currency=settings.currency,
    )
    return deliver(notices, settings, users={facts.user: user}, base_env=base_env)


def send_crash_report(
    recipient: str | None,
    settings: MailSettings,
    error: BaseException | str,
    traceback_text: str,
    facts: JobFacts | None = None,
    *,
    privacy: bool = False,
    where: str = "",
) -> Delivery:
    """Mail a crash report to `recipient` (`crashrecipient`; None or blank:
    off, nothing sent). The job's facts and the traceback, never the job's
    content. Sent by SMTP whatever `mailto` says (devnull included: the
    administrator asked for crash reports by setting `crashrecipient`)."""
    out = Delivery()
    if recipient is None or not recipient.strip():
        return out
    to = recipient.strip()
    if "@" not in to:
        to = user_address(None, to, settings)
    body = crash_body(str(error), traceback_text, facts, privacy=privacy, where=where)
    smtp = _Smtp(settings)
    try:
        _send_one(smtp, settings, to, SUBJECT_CRASH, body, out)
    finally:
        smtp.close()
    return out
