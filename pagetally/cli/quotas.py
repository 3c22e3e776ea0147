"""`pagetally quotas`: page quota entries of users and groups on printers
(PyKota's edpykota: -S soft, -H hard, -r reset, -R hard reset, -U used)."""

from __future__ import annotations

from typing import Annotated

import typer

from pagetally.cli import common
from pagetally.cli.env import get_env
from pagetally.cli.names import expand
from pagetally.cli.output import Row, emit, progress
from pagetally.core.models import GroupQuota, UserQuota
from pagetally.errors import InvalidInput
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


@app.command("set")
def set_(
    names: Names,
    printer: PrinterOpt,
    soft: Annotated[int | None, typer.Option("--soft", "-S", help="Soft limit (pages).")] = None,
    hard: Annotated[int | None, typer.Option("--hard", "-H", help="Hard limit (pages).")] = None,
    max_job_size: Annotated[
        int | None, typer.Option("--max-job-size", "-m", help="Largest job (pages).")
    ] = None,
    group: GroupOpt = False,
) -> None:
    """Create or change quota entries (no limits: an entry for accounting only)."""
    env = get_env()
    for value, what in ((soft, "--soft"), (hard, "--hard"), (max_job_size, "--max-job-size")):
        common.pages(value, what)
    if soft is not None and hard is not None and soft > hard:
        raise InvalidInput(f"--soft {soft} is above --hard {hard}")
    with env.store(write=True) as store:
        pairs = _targets(store, names, printer, group)
        setter = store.set_group_quota if group else store.set_user_quota
        for name, prn in progress(env, pairs, "setting quotas"):
            setter(name, prn, soft_limit=soft, hard_limit=hard, max_job_size=max_job_size)
    env.note(f"{len(pairs)} quota entr{'y' if len(pairs) == 1 else 'ies'} set")


@app.command("reset")
def reset(
    names: Names,
    printer: PrinterOpt,
    used: Annotated[
        int, typer.Option("--used", "-U", help="Set the page counter to this (default 0).")
    ] = 0,
    lifetime: Annotated[
        bool, typer.Option("--lifetime", "-R", help="Also reset the lifetime counter.")
    ] = False,
) -> None:
    """Reset users' page counters (and grace deadline) on printers."""
    env = get_env()
    common.pages(used, "--used")
    with env.store(write=True) as store:
        pairs = _targets(store, names, printer, False)
        for name, prn in pairs:
            store.get_user_quota(name, prn)
        for name, prn in progress(env, pairs, "resetting quotas"):
            store.reset_user_quota(name, prn, page_counter=used, lifetime=lifetime)
    env.note(f"{len(pairs)} quota entr{'y' if len(pairs) == 1 else 'ies'} reset")


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
    """List quota entries with counters and limits."""
    env = get_env()
    with env.store() as store:
        quotas: list[UserQuota] | list[GroupQuota] = (
            store.group_quotas(printer or ["*"], names or ["*"])
            if group
            else store.user_quotas(printer or ["*"], names or ["*"])
        )
        rows = [quota_row(q) for q in quotas]
    emit(env, fmt, COLUMNS, rows, title="Group quotas" if group else "User quotas")
