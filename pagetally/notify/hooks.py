"""Site scripts run before and after a job (`prehook`, `posthook`).

The job's facts reach the script in ENVIRONMENT VARIABLES only, under PyKota's
names (PYKOTAUSERNAME, PYKOTATITLE, ... so that sites' scripts keep working) and
under PageTally's own (PAGETALLY_USERNAME, ...). The command line is the
administrator's text from the config, split with shlex: no shell, and nothing
of the job is ever put on it. A failing, missing or hanging hook is logged in
one line and never stops the job.

PyKota wrote unset limits as the text "None" and prices as plain numbers; the
PYKOTA* variables keep that. The PAGETALLY_* variables use "" for unset,
ISO 8601 UTC for dates and lower-case actions as in the store.
PYKOTAMD5SUM carries the job's SHA-256 (PageTally keeps no MD5): scripts use it
as an opaque content identity.
"""

from __future__ import annotations

import enum
import logging
from collections.abc import Mapping, Sequence
from datetime import datetime
from decimal import Decimal

from pagetally.core.models import Action, Decision, JobFacts, Printer, User, UserQuota
from pagetally.notify.process import DEFAULT_TIMEOUT, CommandResult, first_line, run_command
from pagetally.proc import site_env

log = logging.getLogger("pagetally.notify.hooks")


class Phase(enum.StrEnum):
    """When a hook runs: PyKota's PYKOTAPHASE values."""

    BEFORE = "BEFORE"
    AFTER = "AFTER"


def _opt(value: object | None, none: str) -> str:
    if value is None:
        return none
    if isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, enum.Enum):
        return str(value.value)
    return str(value)


def _pair(env: dict[str, str], name: str, value: object | None, *, pykota_none: str = "") -> None:
    """Set PYKOTA<name> and PAGETALLY_<name> (unset: `pykota_none` / "")."""
    env["PYKOTA" + name] = _opt(value, pykota_none)
    env["PAGETALLY_" + name] = _opt(value, "")


def hook_environment(
    phase: Phase | str,
    facts: JobFacts,
    *,
    user: User | None = None,
    quota: UserQuota | None = None,
    printer: Printer | None = None,
    printer_groups: Sequence[str] = (),
    decision: Decision | None = None,
    action: Action | str | None = None,
    reason: str | None = None,
    precomputed_pages: int | None = None,
    precomputed_price: Decimal | None = None,
    job_pages: int | None = None,
    job_price: Decimal | None = None,
    original_user: str | None = None,
    original_billing_code: str | None = None,
    printer_host: str = "",
    data_file: str = "",
    directory: str = "",
    status: str = "",
    device_uri: str = "",
) -> dict[str, str]:
    """The variables a hook sees for one job (a pure function: no I/O).

    `facts` is the job as decided; `decision` the rules' answer (its action and
    reason, unless `action`/`reason` override them, e.g. CANCEL from the ticket
    command); `job_pages`/`job_price` what was finally charged (after printing);
    `precomputed_*` the pre-accounter's figures; `device_uri` the real
    device's URI (our prefix removed), exported as DEVICE_URI as PyKota did.
    Missing parts are left out, or set to "None" where PyKota wrote that.
    """
    env: dict[str, str] = {"PYKOTACHARSET": "UTF-8", "PAGETALLY_CHARSET": "UTF-8"}
    _pair(env, "PHASE", Phase(phase).value)
    _job_variables(env, facts, original_user, original_billing_code)
    _pair(env, "PRINTERHOSTNAME", printer_host)
    _pair(env, "DATAFILE", data_file)
    _pair(env, "DIRECTORY", directory)
    _pair(
        env,
        "PRECOMPUTEDJOBSIZE",
        facts.pages if precomputed_pages is None else precomputed_pages,
    )
    if precomputed_price is not None:
        _pair(env, "PRECOMPUTEDJOBPRICE", precomputed_price)
    elif decision is not None:
        _pair(env, "PRECOMPUTEDJOBPRICE", decision.price)
    if status:
        _pair(env, "STATUS", status)
    if device_uri:
        env["DEVICE_URI"] = device_uri
    _account_variables(env, user, quota, printer, printer_groups)
    _outcome_variables(env, decision, action, reason, job_pages, job_price)
    return env


def _job_variables(
    env: dict[str, str],
    facts: JobFacts,
    original_user: str | None,
    original_billing_code: str | None,
) -> None:
    """The job's own facts (who, where, what, how big)."""
    _pair(env, "PRINTERNAME", facts.printer)
    _pair(env, "USERNAME", facts.user)
    _pair(env, "ORIGINALUSERNAME", facts.user if original_user is None else original_user)
    _pair(env, "JOBID", facts.job_id)
    _pair(env, "TITLE", facts.title)
    _pair(env, "COPIES", facts.copies)
    _pair(env, "OPTIONS", facts.options)
    _pair(env, "FILENAME", facts.filename)
    _pair(env, "JOBBILLING", facts.billing_code or "")
    _pair(
        env,
        "ORIGINALJOBBILLING",
        (facts.billing_code if original_billing_code is None else original_billing_code) or "",
    )
    _pair(env, "JOBORIGINATINGHOSTNAME", facts.host or "")
    _pair(env, "JOBSIZEBYTES", facts.size_bytes)
    env["PYKOTAMD5SUM"] = facts.sha256 or ""
    env["PAGETALLY_SHA256"] = facts.sha256 or ""
    env["PAGETALLY_JOBUUID"] = facts.job_uuid
    env["PAGETALLY_PAGES"] = str(facts.pages)
    env["PAGETALLY_COLORPAGES"] = str(facts.color_pages)
    env["PAGETALLY_SHEETS"] = _opt(facts.sheets, "")
    env["PAGETALLY_MEDIA"] = facts.media or ""


def _account_variables(
    env: dict[str, str],
    user: User | None,
    quota: UserQuota | None,
    printer: Printer | None,
    printer_groups: Sequence[str],
) -> None:
    """The user's account, their quota entry and the printer, where known."""
    if user is not None:
        _pair(env, "OVERCHARGE", user.overcharge)
        _pair(env, "LIMITBY", user.limit_by)
        _pair(env, "BALANCE", user.balance)
        _pair(env, "LIFETIMEPAID", user.lifetime_paid)
        _pair(env, "USERDESCRIPTION", user.description)
        env["PAGETALLY_EMAIL"] = user.email or ""
    if quota is not None:
        env["PYKOTAMAXJOBSIZE"] = _opt(quota.max_job_size, "Unlimited")
        env["PAGETALLY_MAXJOBSIZE"] = _opt(quota.max_job_size, "")
        _pair(env, "PAGECOUNTER", quota.page_counter)
        _pair(env, "LIFEPAGECOUNTER", quota.life_page_counter)
        _pair(env, "SOFTLIMIT", quota.soft_limit, pykota_none="None")
        _pair(env, "HARDLIMIT", quota.hard_limit, pykota_none="None")
        _pair(env, "DATELIMIT", quota.date_limit, pykota_none="None")
        _pair(env, "WARNCOUNT", quota.warn_count)
    if printer is not None:
        _pair(env, "PGROUPS", ",".join(printer_groups))
        _pair(env, "PRINTERDESCRIPTION", printer.description)
        env["PYKOTAPRINTERMAXJOBSIZE"] = _opt(printer.max_job_size, "Unlimited")
        env["PAGETALLY_PRINTERMAXJOBSIZE"] = _opt(printer.max_job_size, "")
        _pair(env, "PRINTERPASSTHROUGHMODE", "ON" if printer.passthrough else "OFF")
        _pair(env, "PRICEPERPAGE", printer.prices.per_page)
        _pair(env, "PRICEPERJOB", printer.prices.per_job)


def _outcome_variables(
    env: dict[str, str],
    decision: Decision | None,
    action: Action | str | None,
    reason: str | None,
    job_pages: int | None,
    job_price: Decimal | None,
) -> None:
    """What was decided and, after printing, what was charged."""
    act = action if action is not None else (decision.action if decision is not None else None)
    why = reason if reason is not None else (decision.reason if decision is not None else "")
    if act is not None:
        value = str(act.value if isinstance(act, Action) else act)
        env["PYKOTAACTION"] = value.upper()
        env["PAGETALLY_ACTION"] = value.lower()
    if why:
        _pair(env, "REASON", why)
    if decision is not None:
        env["PAGETALLY_DECISION_CODE"] = str(decision.code)
    if job_pages is not None:
        _pair(env, "JOBSIZE", job_pages)
    if job_price is not None:
        _pair(env, "JOBPRICE", job_price)


def base_environment(environ: Mapping[str, str] | None = None) -> dict[str, str]:
    """The backend's own environment minus any PYKOTA*/PAGETALLY_* values
    (PAGETALLY_CONFIG is kept, so that a hook calling `pagetally` reads the same
    configuration)."""
    return site_env(environ)


def run_hook(
    name: str,
    command: str | None,
    job_env: Mapping[str, str],
    *,
    base_env: Mapping[str, str] | None = None,
    timeout: float = DEFAULT_TIMEOUT,
) -> CommandResult | None:
    """Run the configured hook `command` (None or blank: nothing to do, None
    returned) with `base_env` (default: this process's environment, cleaned by
    `base_environment`) plus `job_env`. `name` ("prehook", "posthook") names it
    in the log. Logs one line when it fails; never raises."""
    if command is None or not command.strip():
        return None
    env = base_environment(base_env)
    env.update(job_env)
    result = run_command(command, env, timeout=timeout)
    if result.ok:
        log.debug("%s %r: exit status 0", name, command)
    else:
        detail = first_line(result.stderr)
        log.warning(
            "%s %r failed: %s%s", name, command, result.describe(), f" ({detail})" if detail else ""
        )
    return result
