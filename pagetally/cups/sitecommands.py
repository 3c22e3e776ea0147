"""The site's commands around a job, and its mail: the ticket rewrite and the
confirmation before step 4 (overwrite_jobticket, askconfirmation), `policy:
external`, prehook/posthook, mail on denial or warning (step 7). Failures here
are logged by `notify` and never stop the job. (Was cups/tell.py.)"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from typing import TYPE_CHECKING

from pagetally.core.models import AccountSnapshot, Action, Decision, JobFacts
from pagetally.cups.status import Messages
from pagetally.cups.ticket import JobTicket

if TYPE_CHECKING:
    from pagetally.config import Config


class Teller:
    """Builds the hook environment once per phase and runs the site's commands."""

    def __init__(
        self,
        config: Config,
        ticket: JobTicket,
        data_file: str,
        msgs: Messages,
        base_env: Mapping[str, str],
    ) -> None:
        self.config = config
        self.ticket = ticket
        self.data_file = data_file
        self.msgs = msgs
        self.base_env = base_env
        self.original_user = ticket.user
        self.original_code = ticket.billing_code

    def _get(self, name: str) -> str | None:
        value = self.config.get(name, self.ticket.printer)
        return None if value is None else str(value)

    def _env(
        self,
        phase: str,
        facts: JobFacts,
        snapshot: AccountSnapshot | None,
        decision: Decision | None,
        **extra: object,
    ) -> dict[str, str]:
        from pagetally.notify.hooks import hook_environment

        snap = snapshot or AccountSnapshot(user=None, printer=None)
        return hook_environment(
            phase,
            facts,
            user=snap.user,
            quota=snap.user_quotas.get(facts.printer),
            printer=snap.printer,
            printer_groups=tuple(p.name for p in snap.printers[1:]),
            decision=decision,
            original_user=self.original_user,
            original_billing_code=self.original_code,
            data_file=self.data_file,
            directory=self.config.get_str("directory"),
            device_uri=self.ticket.device_uri,
            **extra,  # type: ignore[arg-type]
        )

    def job_env(
        self, facts: JobFacts, snapshot: AccountSnapshot | None, decision: Decision | None
    ) -> dict[str, str]:
        """The hook variables before the job (for banner commands too)."""
        return self._env("BEFORE", facts, snapshot, decision)

    def rewrite_ticket(self, facts: JobFacts) -> tuple[JobFacts, Decision | None]:
        """overwrite_jobticket: the site command may change the user or billing
        code, or refuse (DENY) or cancel (CANCEL) the job."""
        command = self._get("overwrite_jobticket")
        if not command:
            return facts, None
        from pagetally.notify.jobcommands import overwrite_jobticket

        answer = overwrite_jobticket(
            command, self._env("BEFORE", facts, None, None), base_env=self.base_env
        )
        if answer.refused:
            action = Action.CANCEL if answer.action.value == "cancel" else Action.DENY
            reason = answer.reason or "refused by the site's overwrite_jobticket command"
            return facts, Decision(action, reason, code="ticket_refused")
        changed = facts
        if answer.user:
            changed = dataclasses.replace(changed, user=answer.user)
        if answer.billing_code:
            changed = dataclasses.replace(changed, billing_code=answer.billing_code)
        return changed, None

    def confirm(
        self, facts: JobFacts, snapshot: AccountSnapshot | None, decision: Decision
    ) -> bool:
        """askconfirmation: False when the site's command answers CANCEL (the
        user does not want the job after all); no command, or one that fails,
        lets the job go on, as in PyKota."""
        command = self._get("askconfirmation")
        if not command:
            return True
        from pagetally.notify.jobcommands import ask_confirmation

        return ask_confirmation(
            command, self._env("BEFORE", facts, snapshot, decision), base_env=self.base_env
        )

    def hook(
        self,
        name: str,
        facts: JobFacts,
        snapshot: AccountSnapshot | None,
        decision: Decision,
        **extra: object,
    ) -> None:
        command = self._get(name)
        if not command:
            return
        from pagetally.notify.hooks import run_hook

        phase = "BEFORE" if name == "prehook" else "AFTER"
        run_hook(
            name,
            command,
            self._env(phase, facts, snapshot, decision, **extra),
            base_env=self.base_env,
        )

    def mail(self, decision: Decision, facts: JobFacts, snapshot: AccountSnapshot | None) -> None:
        """Mail the person (and/or admin) on a refusal or a warning (mailto)."""
        if decision.action not in (Action.DENY, Action.WARN):
            return
        from pagetally.notify.mail import MailSettings, notify_job

        settings = MailSettings.from_config(self.config, self.ticket.printer)
        snap = snapshot or AccountSnapshot(user=None, printer=None)
        notify_job(
            decision,
            facts,
            settings,
            user=snap.user,
            quota=snap.user_quotas.get(facts.printer),
            base_env=self.base_env,
        )

    def command_env(self, facts: JobFacts) -> dict[str, str]:
        """A site command's environment before the decision: the base one plus
        the job's PYKOTA* (and PAGETALLY*) variables."""
        from pagetally.notify.hooks import base_environment

        return {**base_environment(self.base_env), **self._env("BEFORE", facts, None, None)}

    def external_policy(self, facts: JobFacts) -> str:
        """policy: external(command) — run the site's command (e.g. one that creates
        the missing user or quota entry), PyKota's %(username)s and %(printername)s
        filled in single arguments, the job's facts in the environment. Returns ""
        when it ran successfully, else why not."""
        text = self.config.get_str("policy", self.ticket.printer)
        inner = text[len("external(") : -1] if text.startswith("external(") else ""
        if not inner.strip():
            return "policy external names no command"
        from pagetally.notify.process import fill_placeholders, run_command, split_command

        values = {"username": facts.user, "printername": facts.printer}
        try:
            argv = fill_placeholders(split_command(inner), values)
        except ValueError as e:
            return f"the policy command: {e}"
        result = run_command(argv, self.command_env(facts))
        if result.error or result.returncode != 0:
            return result.error or f"the policy command exited {result.returncode}"
        return ""
