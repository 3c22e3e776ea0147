"""`pagetally groups`: groups of users and their members (PyKota's pkusers --groups)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Annotated

import typer

from pagetally.cli import common
from pagetally.cli.env import get_env
from pagetally.cli.names import check_new_names, expand
from pagetally.cli.output import Row, each_matching, emit, progress
from pagetally.core.models import Group, LimitBy
from pagetally.errors import AlreadyExists, InvalidInput

app = typer.Typer(help="Groups of users: add, edit, delete, list, members.", no_args_is_help=True)

Names = Annotated[list[str], typer.Argument(help="Group names; wildcards select.")]
NewNames = Annotated[
    list[str], typer.Argument(help="Names of the groups to create (exact names, no wildcards).")
]
LimitOpt = Annotated[
    LimitBy | None, typer.Option("--limit-by", "-l", help="How the group is limited.")
]
DescOpt = Annotated[str | None, typer.Option("--description", "-d", help="Free text.")]
COLUMNS = ("name", "limit_by", "balance", "lifetime_paid", "members", "description")
#: The table puts the members last (the one column that may wrap) and shows the
#: first few: 50 members must not push the other columns off the screen.
TABLE_COLUMNS = ("name", "limit_by", "balance", "lifetime_paid", "description", "members")
SHOWN_MEMBERS = 8


def members_cell(members: list[str]) -> str:
    """Members for a table cell: the first few, then how many more."""
    if len(members) <= SHOWN_MEMBERS:
        return " ".join(members)
    return " ".join(members[:SHOWN_MEMBERS]) + f" … (+{len(members) - SHOWN_MEMBERS} more)"


@app.command("add")
def add(
    names: NewNames,
    limit_by: LimitOpt = None,
    description: DescOpt = None,
    skip_existing: Annotated[bool, typer.Option("--skip-existing")] = False,
) -> None:
    """Create groups."""
    env = get_env()
    new = check_new_names("group", names)
    with env.store(write=True) as store:
        existing = {g.name for g in store.find_groups(new)}
        if existing and not skip_existing:
            raise AlreadyExists("group", sorted(existing)[0])
        todo = [n for n in new if n not in existing]
        for name in progress(env, todo, "adding groups"):
            store.add_group(
                Group(name, limit_by=limit_by or LimitBy.QUOTA, description=description or "")
            )
    env.note(f"{len(todo)} group(s) added")


@app.command("edit")
def edit(names: Names, limit_by: LimitOpt = None, description: DescOpt = None) -> None:
    """Change groups' limit or description."""
    env = get_env()
    if limit_by is None and description is None:
        raise InvalidInput("nothing to change: give --limit-by or --description")
    with env.store(write=True) as store:
        groups = expand("group", names, store.find_groups, lambda g: g.name)
        for g in groups:
            store.edit_group(g.name, limit_by=limit_by, description=description)
    env.note(f"{len(groups)} group(s) changed")


@app.command("delete")
def delete(names: Names) -> None:
    """Delete groups (their members stay)."""
    env = get_env()
    with env.store(write=True) as store:
        each_matching(
            env, "group", names, store.find_groups, lambda g: g.name, store.delete_group, "deleted"
        )


@app.command("add-members")
def add_members(
    group: Annotated[str, typer.Argument(help="The group.")],
    users: Annotated[list[str], typer.Argument(help="User names or wildcards.")],
) -> None:
    """Put users into a group."""
    env = get_env()
    with env.store(write=True) as store:
        store.get_group(group)
        found = expand("user", users, store.find_users, lambda u: u.name)
        store.add_members(group, [u.name for u in found])
    env.note(f"{len(found)} user(s) in group {group!r}")


@app.command("remove-members")
def remove_members(
    group: Annotated[str, typer.Argument(help="The group.")],
    users: Annotated[list[str], typer.Argument(help="User names or wildcards.")],
) -> None:
    """Take users out of a group."""
    env = get_env()
    with env.store(write=True) as store:
        members = store.members(group)
        found = expand(
            "member of " + group,
            users,
            lambda pats: [u for u in members if _matches(u.name, pats)],
            lambda u: u.name,
        )
        store.remove_members(group, [u.name for u in found])
    env.note(f"{len(found)} user(s) removed from group {group!r}")


def _matches(name: str, patterns: Sequence[str]) -> bool:
    from fnmatch import fnmatchcase

    return any(fnmatchcase(name, p) for p in patterns)


@app.command("list")
def list_(
    names: Annotated[list[str] | None, typer.Argument(help="Names or wildcards.")] = None,
    fmt: common.FormatOption = common.Format.TABLE,
) -> None:
    """List groups with their members and summed balance."""
    env = get_env()
    rows: list[Row] = []
    with env.store() as store:
        for g in store.find_groups(names or ["*"]):
            balance, paid = store.group_balance(g.name)
            members = [u.name for u in store.members(g.name)]
            rows.append(
                {
                    "name": g.name,
                    "limit_by": g.limit_by,
                    "balance": balance,
                    "lifetime_paid": paid,
                    "members": members
                    if fmt == "json"
                    else (" ".join(members) if fmt == "csv" else members_cell(members)),
                    "description": g.description,
                }
            )
    emit(env, fmt, COLUMNS if fmt == "csv" else TABLE_COLUMNS, rows, title="Groups")
