"""`pagetally quotas`: page quota entries of users and groups on printers
(PyKota's edpykota: -S soft, -H hard, -r reset, -R hard reset, -U used)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Annotated

import typer

from pagetally.cli import common
from pagetally.cli.env import get_env
from pagetally.cli.names import expand
from pagetally.cli.output import Row, batches, emit
from pagetally.core.models import GroupQuota, UserQuota
from pagetally.errors import InvalidInput

if TYPE_CHECKING:  # annotations only: the store's modules load when a command runs
    from pagetally.storage.base import Store

app = typer.Typer(help="Page quotas: set, reset, delete, list.", no_args_is_help=True)

Names = Annotated[list[str], typer.Argument(help="User (or with --group, group) names; wildcards.")]
PrinterOpt = Annotated[
    list[str], typer.Option("--printer", "-P", help="Printer(s) or wildcard; repeatable.")
]
GroupOpt = Annotated[bool, typer.Option("--group", "-g", help="Names are groups.")]

COLUMNS = (
    "printer",
    "name",
    "kind",
    "page_counter",
    "life_page_counter",
    "soft_limit",
    "hard_limit",
    "grace_until",
    "max_job_size",
    "warn_count",
)


def _targets(
    store: Store, names: list[str], printers: list[str], group: bool
) -> list[tuple[str, str]]:
    """Every (name, printer) pair named; unknown names refused before any change."""
    found_printers = expand("printer", printers, store.find_printers, lambda p: p.name)
    if group:
        who = [g.name for g in expand("group", names, store.find_groups, lambda g: g.name)]
    else:
        who = [u.name for u in expand("user", names, store.find_users, lambda u: u.name)]
    return [(n, p.name) for p in found_printers for n in who]


def _entries(
    store: Store, pairs: list[tuple[str, str]], printers: list[str], names: list[str], group: bool
) -> dict[tuple[str, str], UserQuota | GroupQuota]:
    """The existing entries among `pairs`, read in one query."""
    wanted = set(pairs)
    found: list[UserQuota] | list[GroupQuota] = (
        store.group_quotas(printers, names) if group else store.user_quotas(printers, names)
    )
    return {
        key: q
        for q in found
        if (key := (q.group if isinstance(q, GroupQuota) else q.user, q.printer)) in wanted
    }


def _plural(n: int) -> str:
    return f"{n} quota entr{'y' if n == 1 else 'ies'}"


@app.command("set")
def set_(
    names: Names,
    printer: PrinterOpt,
    soft: Annotated[
        int | None,
        typer.Option(
            "--soft",
            "-S",
            help="Soft limit (pages); only --soft on a new entry: "
            "the hard limit is the same (PyKota's rule).",
        ),
    ] = None,
    hard: Annotated[int | None, typer.Option("--hard", "-H", help="Hard limit (pages).")] = None,
    no_limits: Annotated[
        bool, typer.Option("--no-limits", "-n", help="Remove both limits (PyKota: --noquota).")
    ] = False,
    increase: Annotated[
        int | None,
        typer.Option(
            "--increase",
            "-I",
            help="Add this to both limits (negative: lower them; unset counts as 0).",
        ),
    ] = None,
    max_job_size: Annotated[
        int | None, typer.Option("--max-job-size", "-m", help="Largest job (pages).")
    ] = None,
    no_max_job_size: Annotated[
        bool, typer.Option("--no-max-job-size", help="Remove the largest-job limit.")
    ] = False,
    skip_existing: Annotated[
        bool,
        typer.Option(
            "--skip-existing",
            "-s",
            help="Only create missing entries; leave existing ones as they are.",
        ),
    ] = False,
    only_existing: Annotated[
        bool,
        typer.Option(
            "--only-existing",
            help="Only change existing entries; create none (PyKota's edpykota without --add).",
        ),
    ] = False,
    group: GroupOpt = False,
) -> None:
    """Create quota entries, or change what is named on existing ones.

    An existing entry keeps every limit this command does not name (`--soft 70`
    keeps its hard limit); a new one gets what is named, nothing else (no limits:
    an entry for accounting only)."""
    env = get_env()
    for value, what in ((soft, "--soft"), (hard, "--hard"), (max_job_size, "--max-job-size")):
        common.pages(value, what)
    if increase is not None:
        common.pages(abs(increase), "--increase")
    if no_limits and (soft is not None or hard is not None or increase is not None):
        raise InvalidInput(
            "--no-limits removes both limits: give it without --soft, --hard or --increase"
        )
    if no_max_job_size and max_job_size is not None:
        raise InvalidInput("give --max-job-size or --no-max-job-size, not both")
    if skip_existing and only_existing:
        raise InvalidInput("give --skip-existing or --only-existing, not both")
    if soft is not None and hard is not None and soft > hard:
        raise InvalidInput(f"--soft {soft} is above --hard {hard}")
    with env.store(write=True) as store:
        pairs = _targets(store, names, printer, group)
        old = _entries(store, pairs, printer, names, group)
        plan = plan_limits(
            pairs,
            old,
            soft=soft,
            hard=hard,
            no_limits=no_limits,
            increase=increase,
            max_job_size=max_job_size,
            no_max_job_size=no_max_job_size,
            skip_existing=skip_existing,
            only_existing=only_existing,
        )
        rows = [(name, prn, s, h, m) for (name, prn), (s, h, m) in plan.items()]
        for chunk in batches(env, rows, "setting quotas"):
            store.set_quotas(chunk, group=group)
    created = sum(1 for key in plan if key not in old)
    missing = sum(1 for key in pairs if key not in old) if only_existing else 0
    env.note(
        f"{_plural(created)} created, {_plural(len(plan) - created)} changed, "
        f"{_plural(len(pairs) - len(plan) - missing)} left as they were"
    )
    if missing:
        env.note(f"{_plural(missing)} did not exist and were not created (use --add)")


Limits = tuple[int | None, int | None, int | None]


def plan_limits(
    pairs: list[tuple[str, str]],
    old: Mapping[tuple[str, str], UserQuota | GroupQuota],
    *,
    soft: int | None,
    hard: int | None,
    no_limits: bool,
    increase: int | None,
    max_job_size: int | None,
    no_max_job_size: bool,
    skip_existing: bool,
    only_existing: bool,
) -> dict[tuple[str, str], Limits]:
    """The (soft, hard, max job size) each entry gets, for the entries that change.

    A pure function so that every entry is checked before any is written: one
    entry whose soft limit would end above its hard limit changes nothing."""
    plan: dict[tuple[str, str], Limits] = {}
    for key in pairs:
        entry = old.get(key)
        if (entry is not None and skip_existing) or (entry is None and only_existing):
            continue
        before: Limits = (
            (entry.soft_limit, entry.hard_limit, entry.max_job_size)
            if entry is not None
            else (None, None, None)
        )
        new_soft, new_hard, new_max = before
        if no_limits:
            new_soft = new_hard = None
        if soft is not None:
            new_soft = soft
            if hard is None and entry is None:
                new_hard = soft  # PyKota: an undefined hard limit is set to the soft one
        if hard is not None:
            new_hard = hard
        if increase is not None:
            new_soft, new_hard = (new_soft or 0) + increase, (new_hard or 0) + increase
            if new_soft < 0 or new_hard < 0:
                raise InvalidInput(
                    f"--increase {increase} would make the limits of "
                    f"{key[0]} on {key[1]} negative; nothing was changed"
                )
        common.pages(max(new_soft or 0, new_hard or 0), f"{key[0]} on {key[1]}: a limit")
        if new_soft is not None and new_hard is not None and new_soft > new_hard:
            raise InvalidInput(
                f"{key[0]} on {key[1]}: soft limit {new_soft} would be above the hard limit "
                f"{new_hard}; give --hard too (nothing was changed)"
            )
        if max_job_size is not None:
            new_max = max_job_size
        if no_max_job_size:
            new_max = None
        after: Limits = (new_soft, new_hard, new_max)
        if entry is None or after != before:
            plan[key] = after
    return plan


def _signed(text: str, what: str) -> tuple[int, bool]:
    """A page count, absolute ("N") or relative ("+N", "-N")."""
    body = text.strip()
    relative = body[:1] in ("+", "-")
    digits = body[1:] if relative else body
    if not digits or not (digits.isascii() and digits.isdigit()):
        raise InvalidInput(f"{what} {text!r} is not a whole number (N, +N or -N)")
    value = int(digits)
    common.pages(value, what, common.COUNTER_MAX)
    return (-value if body[:1] == "-" else value), relative


@app.command("reset")
def reset(
    names: Names,
    printer: PrinterOpt,
    used: Annotated[
        str,
        typer.Option(
            "--used",
            "-U",
            metavar="[+-]N",
            help="Set the page counter to N (default 0), or +N/-N to change it.",
        ),
    ] = "0",
    lifetime: Annotated[
        bool,
        typer.Option("--lifetime", "-R", help="Also the lifetime counter (to N, or by +N/-N)."),
    ] = False,
    group: Annotated[
        bool,
        typer.Option(
            "--group",
            "-g",
            help="Names are groups: reset their members' "
            "entries (a group's counter is the sum of its members').",
        ),
    ] = False,
) -> None:
    """Reset page counters (and grace deadline) of every matching user who has an
    entry on the printers (made for cron: creates no entry, skips users without
    one, and a second run changes nothing more)."""
    env = get_env()
    value, relative = _signed(used, "--used")
    with env.store(write=True) as store:
        if group:
            groups = expand("group", names, store.find_groups, lambda g: g.name)
            users = sorted({u.name for g in groups for u in store.members(g.name)})
        else:
            users = [u.name for u in expand("user", names, store.find_users, lambda u: u.name)]
        expand("printer", printer, store.find_printers, lambda p: p.name)
        entries = store.user_quotas(printer, users) if users else []
        wanted = set(users)
        entries = [q for q in entries if q.user in wanted]
        todo: list[tuple[UserQuota, int, int]] = []
        for q in entries:  # every entry checked before any is changed
            counter = q.page_counter + value if relative else value
            life = q.life_page_counter + value if relative else value
            common.pages(max(counter, life), "the page counter", common.COUNTER_MAX)
            if counter < 0 or life < 0:
                raise InvalidInput(
                    f"--used {used} would make the counter of {q.user} on "
                    f"{q.printer} negative; nothing was changed"
                )
            todo.append((q, counter, life))
        for chunk in batches(env, todo, "resetting quotas"):
            store.reset_quotas(
                [
                    (q.user, q.printer, counter, life if lifetime else None)
                    for q, counter, life in chunk
                ]
            )
    env.note(f"{_plural(len(entries))} reset")


@app.command("delete")
def delete(names: Names, printer: PrinterOpt, group: GroupOpt = False) -> None:
    """Delete quota entries (the user or group may then no longer print there)."""
    env = get_env()
    with env.store(write=True) as store:
        pairs = _targets(store, names, printer, group)
        for name, prn in pairs:
            (store.get_group_quota if group else store.get_user_quota)(name, prn)
        for name, prn in pairs:
            (store.delete_group_quota if group else store.delete_user_quota)(name, prn)
    env.note(f"{len(pairs)} quota entr{'y' if len(pairs) == 1 else 'ies'} deleted")


def quota_row(q: UserQuota | GroupQuota) -> Row:
    is_user = isinstance(q, UserQuota)
    return {
        "printer": q.printer,
        "name": q.user if isinstance(q, UserQuota) else q.group,
        "kind": "user" if is_user else "group",
        "page_counter": q.page_counter,
        "life_page_counter": q.life_page_counter,
        "soft_limit": q.soft_limit,
        "hard_limit": q.hard_limit,
        "grace_until": q.date_limit,
        "max_job_size": q.max_job_size,
        "warn_count": q.warn_count if isinstance(q, UserQuota) else None,
    }


@app.command("list")
def list_(
    names: Annotated[list[str] | None, typer.Argument(help="Names or wildcards.")] = None,
    printer: Annotated[
        list[str] | None, typer.Option("--printer", "-P", help="Printer(s) or wildcard.")
    ] = None,
    group: GroupOpt = False,
    fmt: common.FormatOption = common.Format.TABLE,
) -> None:
    """List quota entries with counters and limits (an unknown printer named is an
    error, exit 5, as in `report`)."""
    env = get_env()
    with env.store() as store:
        if printer and printer != ["*"]:
            expand("printer", printer, store.find_printers, lambda p: p.name)
        quotas: list[UserQuota] | list[GroupQuota] = (
            store.group_quotas(printer or ["*"], names or ["*"])
            if group
            else store.user_quotas(printer or ["*"], names or ["*"])
        )
        rows = [quota_row(q) for q in quotas]
    emit(env, fmt, COLUMNS, rows, title="Group quotas" if group else "User quotas")
