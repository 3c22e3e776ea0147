"""`overwrite_jobticket` and `askconfirmation`: a site command's say on a job
(was notify/ticket.py: not to be confused with cups/ticket.py, the job's ticket
as CUPS hands it over).

The command (the administrator's text, split with shlex, no shell) gets the
same environment variables as a prehook (see `hooks.hook_environment`) and
answers on its standard output, one per line (PyKota's protocol):

    USERNAME=name     charge the job to this user instead
    BILLINGCODE=code  use this billing code instead ("" clears it)
    REASON=text       the reason shown to the user with DENY or CANCEL
    DENY              refuse the job (so do AUTH=NO and AUTH=IMPOSSIBLE)
    CANCEL            cancel the job (the user changed their mind)

As in PyKota, other lines are ignored, the last DENY/CANCEL seen wins, and a
new user name or billing code is applied only when the job is not refused.

Unlike PyKota, the output is treated as hostile: at most 64 KiB and 4,096
characters per line are read; a user name or billing code with control
characters or over 255 characters makes the answer unusable, and the job is
refused (the command is a gate, e.g. print-time authentication: it fails
closed). A command that cannot be started or does not finish in time refuses
the job too. A command that runs and answers nothing changes nothing.
"""

from __future__ import annotations

import enum
import logging
from collections.abc import Mapping
from dataclasses import dataclass, field

from pagetally.notify.hooks import base_environment
from pagetally.notify.process import DEFAULT_TIMEOUT, first_line, run_command

log = logging.getLogger("pagetally.notify.jobcommands")

MAX_LINE = 4096
MAX_NAME = 255
MAX_REASON = 1024

DEFAULT_DENY_REASON = "You are not allowed to print at this time."
DEFAULT_CANCEL_REASON = "Print job cancelled."


class TicketAction(enum.StrEnum):
    """What the command decided: go on, refuse, or cancel the job."""

    CONTINUE = "continue"
    DENY = "deny"
    CANCEL = "cancel"


@dataclass(frozen=True, slots=True)
class TicketAnswer:
    """The command's answer, validated.

    `user` / `billing_code`: the replacements to apply (None: keep the job's);
    both None whenever the job is refused. `reason`: for the user when refused.
    `problems`: what was wrong with the output (for the log).
    """

    action: TicketAction = TicketAction.CONTINUE
    user: str | None = None
    billing_code: str | None = None
    reason: str = ""
    problems: tuple[str, ...] = field(default=())

    @property
    def refused(self) -> bool:
        return self.action is not TicketAction.CONTINUE


def _has_control(text: str) -> bool:
    return any(not ch.isprintable() for ch in text)


def _valid_name(value: str, what: str) -> str | None:
    """None if acceptable, else why not."""
    if len(value) > MAX_NAME:
        return f"{what} longer than {MAX_NAME} characters"
    if _has_control(value):
        return f"{what} {value[:40]!r} contains control characters"
    return None


def clean_reason(text: str) -> str:
    """A reason fit for a CUPS status line and a mail: one line, printable, bounded."""
    text = "".join(ch if ch.isprintable() else " " for ch in text)
    return " ".join(text.split())[:MAX_REASON]


def parse_answers(output: str | bytes) -> TicketAnswer:
    """Parse the command's standard output (a pure function)."""
    if isinstance(output, bytes):
        output = output.decode("utf-8", "replace")
    action = TicketAction.CONTINUE
    user: str | None = None
    code: str | None = None
    reason = ""
    problems: list[str] = []
    for raw in output.split("\n"):
        if len(raw) > MAX_LINE:
            problems.append(f"a line of {len(raw)} characters was ignored")
            continue
        line = raw.strip()
        if line in ("DENY", "AUTH=NO", "AUTH=IMPOSSIBLE"):
            action = TicketAction.DENY
        elif line == "CANCEL":
            action = TicketAction.CANCEL
        elif line.startswith("USERNAME="):
            value = line.split("=", 1)[1].strip()
            bad = _valid_name(value, "user name")
            if bad:
                problems.append(bad)
                user = None
                action = TicketAction.DENY
                reason = "The job ticket command gave an invalid user name."
            elif value:
                user = value
        elif line.startswith("BILLINGCODE="):
            value = line.split("=", 1)[1].strip()
            bad = _valid_name(value, "billing code")
            if bad:
                problems.append(bad)
                code = None
                action = TicketAction.DENY
                reason = "The job ticket command gave an invalid billing code."
            else:
                code = value
        elif line.startswith("REASON="):
            reason = clean_reason(line.split("=", 1)[1])
    if action is TicketAction.DENY:
        return TicketAnswer(action, None, None, reason or DEFAULT_DENY_REASON, tuple(problems))
    if action is TicketAction.CANCEL:
        return TicketAnswer(action, None, None, reason or DEFAULT_CANCEL_REASON, tuple(problems))
    return TicketAnswer(action, user, code, reason, tuple(problems))


def overwrite_jobticket(
    command: str | None,
    job_env: Mapping[str, str],
    *,
    base_env: Mapping[str, str] | None = None,
    timeout: float = DEFAULT_TIMEOUT,
) -> TicketAnswer:
    """Run the `overwrite_jobticket` command (None/blank: CONTINUE, nothing
    changed) with the hook variables `job_env`, and parse its answer.
    Never raises; a command that cannot run or times out refuses the job."""
    if command is None or not command.strip():
        return TicketAnswer()
    env = base_environment(base_env)
    env.update(job_env)
    result = run_command(command, env, timeout=timeout)
    if result.error is not None:
        log.error("overwrite_jobticket %r: %s; the job is refused", command, result.error)
        return TicketAnswer(
            TicketAction.DENY,
            reason="The print job could not be checked (job ticket command failed).",
            problems=(result.error,),
        )
    answer = parse_answers(result.stdout)
    if result.truncated:
        answer = TicketAnswer(
            answer.action,
            answer.user,
            answer.billing_code,
            answer.reason,
            (*answer.problems, "output longer than 64 KiB was cut"),
        )
    if result.returncode != 0:
        detail = first_line(result.stderr)
        log.warning(
            "overwrite_jobticket %r: %s%s",
            command,
            result.describe(),
            f" ({detail})" if detail else "",
        )
    for problem in answer.problems:
        log.warning("overwrite_jobticket %r: %s", command, problem)
    return answer


def parse_confirmation(output: str | bytes) -> bool:
    """`askconfirmation`'s answer: False when any line is CANCEL (PyKota)."""
    if isinstance(output, bytes):
        output = output.decode("utf-8", "replace")
    return not any(line.strip().upper() == "CANCEL" for line in output.split("\n"))


def ask_confirmation(
    command: str | None,
    job_env: Mapping[str, str],
    *,
    base_env: Mapping[str, str] | None = None,
    timeout: float = DEFAULT_TIMEOUT,
) -> bool:
    """Run `askconfirmation` (None/blank: True). True: print the job; False:
    the user cancelled it. A command that cannot run or times out counts as no
    answer, as in PyKota: the job goes on (logged)."""
    if command is None or not command.strip():
        return True
    env = base_environment(base_env)
    env.update(job_env)
    result = run_command(command, env, timeout=timeout)
    if result.error is not None:
        log.warning("askconfirmation %r: %s; the job goes on", command, result.error)
        return True
    return parse_confirmation(result.stdout)
