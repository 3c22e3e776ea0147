"""The texts PageTally mails: which notice goes to whom, with what words.

Pure functions. The configured texts (`poorwarn`, `softwarn`, `hardwarn`, which
the rules hand over as `Decision.message`) are templates: `$user`, `$printer`,
`$balance`, `$pagecounter`, `$softlimit`, `$hardlimit`, `$datelimit`, `$reason`,
`$admin`, `$adminmail`, `$jobid` are filled in (also `${user}`; `$$` is a
dollar sign; an unknown `$name` stays as written, so texts written for PyKota,
which had no placeholders, come out unchanged). Filling is one pass: a value
that itself contains `$user` is not expanded again; values lose their control
characters and are bounded in length, so a hostile job title or user name
cannot add lines or headers to a mail.

Subjects are PyKota's ("Print Quota Exceeded", "Print Quota Low", "Print
Quota" for the administrator) so that sites' mail filters keep working.
"""

from __future__ import annotations

import enum
import re
import string
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime

from pagetally.core.models import (
    Action,
    Decision,
    DecisionCode,
    JobFacts,
    User,
    UserQuota,
)
from pagetally.core.money import format_money

MAX_VALUE = 200

SUBJECT_EXCEEDED = "Print Quota Exceeded"
SUBJECT_LOW = "Print Quota Low"
SUBJECT_DENIED = "Printing denied"
SUBJECT_ADMIN = "Print Quota"
SUBJECT_CRASH = "PageTally crash report"

#: Decision codes whose denial is about quota or money (PyKota's "exceeded").
_QUOTA_CODES = {
    DecisionCode.HARD_LIMIT.value,
    DecisionCode.GRACE_EXPIRED.value,
    DecisionCode.BALANCE_TOO_LOW.value,
}


class Role(enum.StrEnum):
    """Who a notice is for; `mailto` decides who actually gets it."""

    USER = "user"
    ADMIN = "admin"


@dataclass(frozen=True, slots=True)
class Notice:
    """One message to send. `user` is the person it concerns (the recipient
    when `role` is USER) and `printer` the printer, both as the store names
    them (not cleaned: they are looked up, never put in headers); `action` is
    PyKota's word for external mailers (DENY, WARN). `subject` and `body` are
    clean text."""

    role: Role
    user: str
    printer: str
    action: str
    subject: str
    body: str


def safe_value(value: object) -> str:
    """A value fit to put in a mail: printable, one line, bounded."""
    text = "" if value is None else str(value)
    text = "".join(ch if ch.isprintable() else " " for ch in text)
    text = " ".join(text.split())
    return text if len(text) <= MAX_VALUE else text[: MAX_VALUE - 1] + "…"


_PYKOTA_FORM = re.compile(r"%\((\w+)\)s")


def fill(template: str, values: Mapping[str, object]) -> str:
    """`template` with `$name` (and PyKota's `%(name)s`) placeholders replaced
    by the safe form of `values`, in one pass; unknown placeholders and stray
    `$` or `%` are left as written."""
    clean = {k: safe_value(v) for k, v in values.items()}
    parts = _PYKOTA_FORM.split(template)  # text, name, text, name, ...
    out = []
    for i, part in enumerate(parts):
        if i % 2:
            out.append(clean.get(part, f"%({part})s"))
        else:
            out.append(string.Template(part).safe_substitute(clean))
    return "".join(out)


def _limit(value: int | None) -> str:
    return "none" if value is None else str(value)


def _date(value: datetime | None) -> str:
    return "" if value is None else value.strftime("%Y-%m-%d %H:%M %Z").strip()


def template_values(
    username: str,
    printer: str,
    *,
    user: User | None = None,
    quota: UserQuota | None = None,
    reason: str = "",
    admin: str = "",
    adminmail: str = "",
    currency: str = "EUR",
    job_id: str = "",
) -> dict[str, object]:
    """The values a template may use, from what is known of the person."""
    balance = format_money(user.balance, currency) if user is not None else ""
    values: dict[str, object] = {
        "user": username,
        "username": username,
        "printer": printer,
        "printername": printer,
        "balance": balance,
        "reason": reason,
        "admin": admin,
        "adminmail": adminmail,
        "jobid": job_id,
        "pagecounter": "",
        "softlimit": "",
        "hardlimit": "",
        "datelimit": "",
    }
    if quota is not None:
        values.update(
            pagecounter=quota.page_counter,
            softlimit=_limit(quota.soft_limit),
            hardlimit=_limit(quota.hard_limit),
            datelimit=_date(quota.date_limit),
        )
    return values


def footer(admin: str, adminmail: str) -> str:
    """PyKota's signature under every message to a user."""
    return f"\n\nYour system administrator :\n\n\t{safe_value(admin)} - <{safe_value(adminmail)}>\n"


def user_notice(
    action: Action | str,
    code: str,
    text: str,
    values: Mapping[str, object],
    *,
    job_id: str = "",
) -> Notice:
    """The notice to the person: the configured `text` (filled in) and, for a
    refused job, which job and why."""
    act = str(action.value if isinstance(action, Action) else action).upper()
    username = str(values.get("user", ""))
    printer = safe_value(values.get("printer", ""))
    reason = safe_value(values.get("reason", ""))
    parts = [fill(text, values).rstrip()] if text.strip() else []
    if reason and act == "DENY" and job_id:
        parts.append(f"Your job {safe_value(job_id)} on printer {printer} was refused: {reason}")
    elif reason:
        parts.append(reason)
    if act == "DENY":
        subject = SUBJECT_EXCEEDED if code in _QUOTA_CODES else SUBJECT_DENIED
    else:
        subject = SUBJECT_LOW
    body = "\n\n".join(parts) + footer(
        str(values.get("admin", "")), str(values.get("adminmail", ""))
    )
    return Notice(Role.USER, username, str(values.get("printer", "")), act, subject, body)


def admin_notice(
    action: Action | str,
    who: str,
    printer: str,
    reason: str = "",
    *,
    group: bool = False,
    code: str = "",
) -> Notice:
    """PyKota's one-line note to the administrator: "Print Quota exceeded" only
    when a quota or the balance refused the job; another refusal (an unknown
    user or printer, noprint, a job too large) says "Printing denied"."""
    act = str(action.value if isinstance(action, Action) else action).upper()
    kind = "group" if group else "user"
    where = f"for {kind} {safe_value(who)} on printer {safe_value(printer)}"
    if act == "DENY" and code and code not in _QUOTA_CODES:
        body = f"Printing denied {where}"
    else:
        body = f"Print Quota {'exceeded' if act == 'DENY' else 'low'} {where}"
    if reason:
        body += f"\n\n{safe_value(reason)}"
    return Notice(Role.ADMIN, who, printer, act, SUBJECT_ADMIN, body + "\n")


def job_notices(
    decision: Decision,
    facts: JobFacts,
    *,
    user: User | None = None,
    quota: UserQuota | None = None,
    admin: str = "",
    adminmail: str = "",
    currency: str = "EUR",
) -> list[Notice]:
    """What to tell about one job the rules decided: nothing when it was
    simply allowed; the person and the administrator when it was refused or
    passed a warning threshold (soft limit, low balance)."""
    if decision.action not in (Action.DENY, Action.WARN, Action.CANCEL):
        return []
    if decision.action is Action.CANCEL:
        return []  # the person cancelled it: nothing to tell
    values = template_values(
        facts.user,
        facts.printer,
        user=user,
        quota=quota,
        reason=decision.reason,
        admin=admin,
        adminmail=adminmail,
        currency=currency,
        job_id=facts.job_id,
    )
    return [
        user_notice(decision.action, decision.code, decision.message, values, job_id=facts.job_id),
        admin_notice(
            decision.action, facts.user, facts.printer, decision.reason, code=decision.code
        ),
    ]


def crash_body(
    error: str,
    traceback_text: str,
    facts: JobFacts | None = None,
    *,
    privacy: bool = False,
    where: str = "",
) -> str:
    """A crash report: the job's facts (never its content; with `privacy`, no
    title, file name or options either) and the traceback."""
    lines = [f"PageTally failed{f' in {where}' if where else ''}: {safe_value(error)}", ""]
    if facts is not None:
        shown: list[tuple[str, object]] = [
            ("user", facts.user),
            ("printer", facts.printer),
            ("job id", facts.job_id),
            ("job uuid", facts.job_uuid),
            ("host", facts.host),
            ("billing code", facts.billing_code),
            ("pages", facts.pages),
            ("copies", facts.copies),
            ("size in bytes", facts.size_bytes),
            ("sha256", facts.sha256),
        ]
        if not privacy:
            shown += [
                ("title", facts.title),
                ("file name", facts.filename),
                ("options", facts.options),
            ]
        lines.append("The job:")
        lines += [f"  {name}: {safe_value(value)}" for name, value in shown]
        lines.append("")
    text = traceback_text if len(traceback_text) <= 20000 else traceback_text[-20000:]
    text = "".join(ch if ch.isprintable() or ch in "\n\t" else "?" for ch in text)
    lines += ["Traceback:", text.rstrip(), ""]
    return "\n".join(lines)


def warning_notices(
    action: Action | str,
    code: str,
    text: str,
    reason: str,
    printer: str,
    people: Sequence[tuple[str, User | None, UserQuota | None]],
    *,
    group: str | None = None,
    admin: str = "",
    adminmail: str = "",
    currency: str = "EUR",
) -> list[Notice]:
    """The periodic warning (`pagetally warn`, PyKota's warnpykota) about one
    quota entry: each person in `people` ((name, User, their quota entry)) gets
    the configured `text`; the administrator gets one line about the user, or
    about the `group` when the entry is a group's."""
    notices = [
        user_notice(
            action,
            code,
            text,
            template_values(
                name,
                printer,
                user=user,
                quota=quota,
                reason=reason,
                admin=admin,
                adminmail=adminmail,
                currency=currency,
            ),
        )
        for name, user, quota in people
    ]
    who = group if group is not None else (people[0][0] if people else "")
    notices.append(admin_notice(action, who, printer, reason, group=group is not None, code=code))
    return notices
