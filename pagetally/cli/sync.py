"""`pagetally sync`: users and groups from the system or an LDAP / Active
Directory server into the store, on demand or from cron.

The rule is `core.directory` (selection and plan, pure); the readers are
`pagetally.directory`; this module reads the config, the store and the
directory, then applies the plan in the store's transactions. `pagetally setup`
calls `sync_directory` too.

Exit codes for cron: 0 the store follows the directory (changed or not);
1 leavers were held back (more than `syncmaxleavers` percent: `--force`);
2 bad options; 3 configuration; 4 the directory or the store could not be read
(nothing changed).
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, TypeVar

import typer

from pagetally.cli.env import Env, get_env
from pagetally.core.directory import (
    Directory,
    NewAccounts,
    Selection,
    StoreView,
    SyncPlan,
    plan,
    select,
    too_many_leavers,
)
from pagetally.core.models import Group, LimitBy, User
from pagetally.errors import InvalidInput, PageTallyError

if TYPE_CHECKING:
    from pagetally.config import Config
    from pagetally.storage.base import Store

#: the payment that records a synced user's starting balance
OPENING = "initial balance (pagetally sync)"


class LeaversHeldBack(PageTallyError):
    """More users left than `syncmaxleavers` allows in one run: not disabled."""

    exit_code = 1


@dataclass
class SyncOptions:
    """What the command line may override of the config's `sync*` directives."""

    source: str | None = None  # system | ldap | files
    passwd: Path | None = None
    group: Path | None = None
    uid_min: int | None = None
    uid_max: int | None = None
    gid_min: int | None = None
    gid_max: int | None = None
    groups: bool | None = None
    empty_groups: bool | None = None
    disable: bool | None = None
    force: bool = False
    dry_run: bool = False
    exclude: list[str] = field(default_factory=list)
    allow_empty: bool = False  # setup: a server without users yet is no error


_T = TypeVar("_T")


def _patterns(text: str | None) -> tuple[str, ...]:
    return tuple(p.strip() for p in (text or "").split(",") if p.strip())


def _pick(given: _T | None, configured: _T) -> _T:
    """The command line's value, else the configuration's."""
    return configured if given is None else given


def read_directory(cfg: Config, opts: SyncOptions) -> Directory:
    """The directory the config (or the command line) names, read whole."""
    source = opts.source or ("files" if opts.passwd else cfg.get("syncsource"))
    if source == "files" or opts.passwd:
        if opts.passwd is None:
            raise InvalidInput("--source files needs --passwd FILE (and --group FILE)")
        from pagetally.directory.system import read_files

        return read_files(opts.passwd, opts.group)
    if source == "system":
        from pagetally.directory.system import read_nss

        return read_nss()
    if source == "ldap":
        from pagetally.directory.ldap import styled

        uri, base = cfg.get("syncldapuri"), cfg.get("syncldapuserbase")
        if not uri or not base:
            raise InvalidInput(
                f"syncsource ldap needs syncldapuri and syncldapuserbase in {cfg.path}"
            )
        from pagetally.directory.ldap import read_ldap

        return read_ldap(
            styled(
                cfg.get("syncldapstyle"),
                uri=uri,
                user_base=base,
                group_base=cfg.get("syncldapgroupbase") or "",
                bind_dn=cfg.get("syncldapbinddn"),
                bind_password=cfg.get("syncldapbindpw"),
                user_filter=cfg.get("syncldapuserfilter"),
                user_name_attr=cfg.get("syncldapuserattr"),
                mail_attr=cfg.get("syncldapmailattr"),
                group_filter=cfg.get("syncldapgroupfilter"),
                group_name_attr=cfg.get("syncldapgroupattr"),
                member_attr=cfg.get("syncldapmemberattr"),
                members_are_dns=_dn_members(cfg),
            )
        )
    raise InvalidInput(f"unknown sync source {source!r}: system, ldap or files")


def _dn_members(cfg: Config) -> bool | None:
    """A `member`/`uniqueMember` attribute lists DNs whatever the style says."""
    attr = (cfg.get("syncldapmemberattr") or "").lower()
    return True if attr in ("member", "uniquemember") else None


def _normalised(directory: Directory, case: str) -> Directory:
    """User names as CUPS jobs will carry them (`usernamecase`); group names
    are left as the directory spells them."""
    if case == "native":
        return directory

    def fold(name: str) -> str:
        return name.lower() if case == "lower" else name.upper()

    return replace(
        directory,
        users=tuple(replace(u, name=fold(u.name)) for u in directory.users),
        groups=tuple(
            replace(g, members=tuple(fold(m) for m in g.members)) for g in directory.groups
        ),
    )


def selection(cfg: Config, opts: SyncOptions) -> Selection:
    return Selection(
        uid_min=_pick(opts.uid_min, cfg.get("syncuidmin")),
        uid_max=_pick(opts.uid_max, cfg.get("syncuidmax")),
        gid_min=_pick(opts.gid_min, cfg.get("syncgidmin")),
        gid_max=_pick(opts.gid_max, cfg.get("syncgidmax")),
        exclude=_patterns(cfg.get("syncexclude")) + tuple(opts.exclude),
        groups=_pick(opts.groups, cfg.get("syncgroups")),
        empty_groups=_pick(opts.empty_groups, cfg.get("syncemptygroups")),
    )


def new_accounts(cfg: Config) -> NewAccounts:
    return NewAccounts(
        limit_by=LimitBy(cfg.get("synclimitby")),
        balance=cfg.get("syncbalance"),
        soft_limit=cfg.get("syncsoftlimit"),
        hard_limit=cfg.get("synchardlimit"),
        printers=_patterns(cfg.get("syncprinters")),
    )


def store_view(store: Store) -> StoreView:
    """What the plan compares the directory with, in four reads plus one per group."""
    users = {u.name: u.limit_by for u in store.find_users(["*"])}
    groups = {
        g.name: frozenset(m.name for m in store.members(g.name)) for g in store.find_groups(["*"])
    }
    printers = tuple(p.name for p in store.find_printers(["*"]))
    quotas = frozenset((q.user, q.printer) for q in store.user_quotas())
    return StoreView(users, groups, printers, quotas)


@dataclass(frozen=True)
class SyncResult:
    directory: Directory
    plan: SyncPlan
    held_back: bool


def sync_directory(env: Env, store: Store, opts: SyncOptions) -> SyncResult:
    """Read, plan and (unless a dry run) apply; see the module's doc."""
    cfg = env.config()
    directory = _normalised(read_directory(cfg, opts), cfg.get("usernamecase"))
    users, groups = select(directory, selection(cfg, opts))
    if not users and opts.allow_empty:
        env.note(f"{directory.source} lists no user in the selected range: none imported")
        return SyncResult(directory, SyncPlan(), False)
    if not users:
        raise InvalidInput(
            f"{directory.source} lists no user in the selected range: "
            "nothing changed (a wrong search base or uid range?)"
        )
    new = new_accounts(cfg)
    disable = opts.disable if opts.disable is not None else (cfg.get("syncleavers") == "disable")
    view = store_view(store)
    todo = plan(
        users, groups, view, new, keep=_patterns(cfg.get("synckeep")), disable_leavers=disable
    )
    held = too_many_leavers(todo, len(view.users), cfg.get("syncmaxleavers")) and not opts.force
    if held:
        todo = replace(todo, disable=())
    if not opts.dry_run:
        apply(env, store, todo, new)
    return SyncResult(directory, todo, held)


def apply(env: Env, store: Store, todo: SyncPlan, new: NewAccounts) -> None:
    """The plan's writes: users in batches (their initial balance written with
    them, as balance and lifetime paid, and as a payment "initial balance
    (pagetally sync)" each, in the same transaction: one per 1,000 users), then
    groups, members, quota entries and disabled leavers."""
    from pagetally.cli.output import batches

    for chunk in batches(env, list(todo.new_users), "adding users"):
        store.add_users(
            [
                User(
                    name=u.name,
                    limit_by=new.limit_by,
                    email=u.email,
                    description=u.description,
                    balance=new.balance,
                    lifetime_paid=new.balance,
                )
                for u in chunk
            ],
            opening=OPENING,
        )
    for g in todo.new_groups:
        store.add_group(Group(g.name, limit_by=new.group_limit_by, description=g.description))
    for group, names in todo.add_members:
        store.add_members(group, list(names))
    for group, names in todo.remove_members:
        store.remove_members(group, list(names))
    for chunk_q in batches(env, list(todo.new_quotas), "quota entries"):
        store.set_quotas([(u, p, new.soft_limit, new.hard_limit, None) for u, p in chunk_q])
    for name in todo.disable:
        store.edit_user(name, limit_by=LimitBy.NOPRINT)


def report(env: Env, result: SyncResult, *, quiet: bool, dry_run: bool) -> None:
    """What changed (or would), then what needs the admin. `quiet` (cron): only
    changes and leavers still able to print; nothing at all when in step."""
    p, out = result.plan, env.out
    verb = "would " if dry_run else ""

    def say(text: str) -> None:
        print(text, file=out)

    def names(items: tuple[str, ...]) -> str:
        return ", ".join(items[:20]) + (f" and {len(items) - 20} more" if len(items) > 20 else "")

    if p.new_users:
        say(f"users: {verb}add {len(p.new_users)}: {names(tuple(u.name for u in p.new_users))}")
    if p.new_groups:
        say(f"groups: {verb}add {len(p.new_groups)}: {names(tuple(g.name for g in p.new_groups))}")
    for group, members in p.add_members:
        say(f"group {group}: {verb}add {names(members)}")
    for group, members in p.remove_members:
        say(f"group {group}: {verb}remove {names(members)}")
    if p.new_quotas:
        say(f"quota entries: {verb}add {len(p.new_quotas)}")
    if p.disable:
        say(
            f"left the directory, {verb}disabled (limit-by noprint, history kept): "
            f"{names(p.disable)}"
        )
    still = tuple(n for n in p.leavers if n not in p.disable)
    active = tuple(n for n in still if n not in p.leavers_disabled)
    shown = active if quiet else still
    if shown:
        say(f"left the directory, kept as they are: {names(shown)}")
    if result.held_back:
        env.note(
            f"{len(still)} user(s) left the directory: more than syncmaxleavers allows "
            "in one run, so none was disabled (check the directory, then --force)"
        )
    if not quiet:
        if p.left_groups:
            say(f"groups no longer in the directory (kept): {names(p.left_groups)}")
        if p.returned_disabled:
            say(
                f"back in the directory but disabled (limit-by noprint): "
                f"{names(p.returned_disabled)}; `pagetally users edit NAME --limit-by ...`"
            )
        if not p.changes:
            say(f"in step with {result.directory.source}: nothing to change")
        else:
            say(f"{p.changes} change(s) {'to make' if dry_run else 'made'}")


def register(app: typer.Typer) -> None:
    app.command("sync")(sync)


def sync(
    source: Annotated[
        str | None,
        typer.Option(
            "--source",
            "-s",
            help="system (NSS: passwd and group), ldap, or files "
            "(--passwd/--group); default: syncsource.",
        ),
    ] = None,
    passwd: Annotated[
        Path | None, typer.Option(help="A passwd(5) file to read instead of the system's.")
    ] = None,
    group: Annotated[
        Path | None, typer.Option(help="A group(5) file to read with --passwd.")
    ] = None,
    uid_min: Annotated[
        int | None,
        typer.Option("--uidmin", "-u", help="Lowest uid synced (default: syncuidmin).", min=0),
    ] = None,
    uid_max: Annotated[
        int | None,
        typer.Option("--uidmax", "-U", help="Highest uid synced (default: syncuidmax).", min=0),
    ] = None,
    gid_min: Annotated[
        int | None, typer.Option("--gidmin", "-g", help="Lowest gid of groups synced.", min=0)
    ] = None,
    gid_max: Annotated[
        int | None, typer.Option("--gidmax", "-G", help="Highest gid of groups synced.", min=0)
    ] = None,
    exclude: Annotated[
        list[str] | None,
        typer.Option(
            "--exclude", "-x", help="Name pattern never synced (repeatable; adds to syncexclude)."
        ),
    ] = None,
    no_groups: Annotated[bool, typer.Option("--no-groups", help="Users only.")] = False,
    empty_groups: Annotated[
        bool, typer.Option("--empty-groups", "-e", help="Also groups without synced members.")
    ] = False,
    disable: Annotated[
        bool | None,
        typer.Option(
            "--disable-leavers/--report-leavers",
            help="Disable users who left the directory, "
            "or only report them (default: syncleavers).",
        ),
    ] = None,
    force: Annotated[
        bool, typer.Option("--force", help="Disable leavers even beyond syncmaxleavers.")
    ] = False,
    dry_run: Annotated[
        bool, typer.Option("--dry-run", "-n", help="Say what would change; change nothing.")
    ] = False,
    quiet: Annotated[
        bool,
        typer.Option(
            "--quiet",
            "-q",
            help="For cron: print only changes and leavers who can still "
            "print; nothing when in step.",
        ),
    ] = False,
) -> None:
    """Sync users and groups from the system or an LDAP/AD directory (new ones added, leavers reported or disabled, never deleted).

    New users get syncbalance, synclimitby and quota entries on syncprinters;
    group memberships follow the directory; users who left are reported (and set
    to limit-by noprint with syncleavers: disable). A second run changes nothing.
    """  # noqa: E501
    env = get_env()
    opts = SyncOptions(
        source,
        passwd,
        group,
        uid_min,
        uid_max,
        gid_min,
        gid_max,
        False if no_groups else None,
        True if empty_groups else None,
        disable,
        force,
        dry_run,
        list(exclude or []),
    )
    env.config()
    with env.store(write=not dry_run) as store:
        result = sync_directory(env, store, opts)
        report(env, result, quiet=quiet, dry_run=dry_run)
    if result.held_back:
        raise LeaversHeldBack("leavers held back (see above)")
