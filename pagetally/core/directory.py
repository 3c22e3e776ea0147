"""Directory sync as a pure rule: what the directory holds, what the store holds,
and the plan that makes the store follow the directory.

The sources (passwd/group files, the system's databases, an LDAP or Active
Directory server) are read at the edges (`pagetally/directory/`) into
`Directory`; the store is read into `StoreView`; `plan()` says what to create,
which memberships to add or remove, which quota entries are missing and who
left. Applying the plan is the caller's business. Because the plan is a
difference, running the sync twice changes nothing the second time.

What the sync never does: delete a user or group (their history, payments and
counters stay), change a balance or a limit that exists, or touch users the
directory does not manage (`keep` patterns). A leaver is reported and, when the
site says so, disabled (limit-by `noprint`: PyKota's own "may not print").
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from fnmatch import fnmatchcase

from pagetally.core.models import ZERO, LimitBy
from pagetally.errors import InvalidInput


@dataclass(frozen=True, slots=True)
class DirUser:
    """A person as the directory knows them (`uid` None: an LDAP entry without one)."""

    name: str
    uid: int | None = None
    gid: int | None = None  # primary group (passwd)
    email: str | None = None
    description: str = ""


@dataclass(frozen=True, slots=True)
class DirGroup:
    name: str
    gid: int | None = None
    members: tuple[str, ...] = ()
    description: str = ""


@dataclass(frozen=True, slots=True)
class Directory:
    """Users and groups read from one source, before selection."""

    source: str  # "system", "files", "ldap://host" (what reports name)
    users: tuple[DirUser, ...] = ()
    groups: tuple[DirGroup, ...] = ()


@dataclass(frozen=True, slots=True)
class Selection:
    """Which directory entries become PageTally users and groups (pkturnkey's
    --uidmin/--uidmax, plus gid bounds and exclusions). Bounds apply only to
    entries that have ids (LDAP entries without uidNumber are all selected)."""

    uid_min: int = 0
    uid_max: int | None = None
    gid_min: int = 0
    gid_max: int | None = None
    exclude: tuple[str, ...] = ()  # name patterns, users and groups alike
    groups: bool = True
    empty_groups: bool = False

    def __post_init__(self) -> None:
        if self.uid_max is not None and self.uid_max < self.uid_min:
            raise InvalidInput(f"uid range {self.uid_min}-{self.uid_max} is empty")
        if self.gid_max is not None and self.gid_max < self.gid_min:
            raise InvalidInput(f"gid range {self.gid_min}-{self.gid_max} is empty")


@dataclass(frozen=True, slots=True)
class NewAccounts:
    """What a user or group the sync creates starts with (from the config)."""

    limit_by: LimitBy = LimitBy.QUOTA
    balance: Decimal = ZERO
    soft_limit: int | None = None
    hard_limit: int | None = None
    printers: tuple[str, ...] = ("*",)  # patterns: printers that get quota entries
    group_limit_by: LimitBy = LimitBy.QUOTA


@dataclass(frozen=True, slots=True)
class StoreView:
    """The part of the store the plan compares with."""

    users: Mapping[str, LimitBy] = field(default_factory=dict)
    groups: Mapping[str, frozenset[str]] = field(default_factory=dict)  # name → members
    printers: tuple[str, ...] = ()
    quota_entries: frozenset[tuple[str, str]] = frozenset()  # (user, printer)


@dataclass(frozen=True, slots=True)
class SyncPlan:
    """The difference. Every list sorted, so reports and replays are stable."""

    new_users: tuple[DirUser, ...] = ()
    new_groups: tuple[DirGroup, ...] = ()
    add_members: tuple[tuple[str, tuple[str, ...]], ...] = ()  # (group, users)
    remove_members: tuple[tuple[str, tuple[str, ...]], ...] = ()
    new_quotas: tuple[tuple[str, str], ...] = ()  # (user, printer)
    leavers: tuple[str, ...] = ()  # in the store, no longer in the directory
    disable: tuple[str, ...] = ()  # leavers to set to noprint now
    left_groups: tuple[str, ...] = ()  # groups no longer in the directory (kept)
    returned_disabled: tuple[str, ...] = ()  # back in the directory, still noprint
    leavers_disabled: tuple[str, ...] = ()  # leavers already noprint (nothing to do)

    @property
    def changes(self) -> int:
        """How many writes applying the plan makes (0: the store is in step)."""
        return (
            len(self.new_users)
            + len(self.new_groups)
            + len(self.new_quotas)
            + sum(len(m) for _, m in self.add_members)
            + sum(len(m) for _, m in self.remove_members)
            + len(self.disable)
        )


def _matches(name: str, patterns: Iterable[str]) -> bool:
    return any(fnmatchcase(name, p) for p in patterns)


def _in(value: int | None, low: int, high: int | None) -> bool:
    return value is None or (value >= low and (high is None or value <= high))


def select(directory: Directory, sel: Selection) -> tuple[list[DirUser], list[DirGroup]]:
    """The users and groups `sel` keeps, with group members narrowed to the kept
    users and each user's primary group (passwd's gid) counted as a membership."""
    users = {
        u.name: u
        for u in directory.users
        if _in(u.uid, sel.uid_min, sel.uid_max) and not _matches(u.name, sel.exclude)
    }
    if not sel.groups:
        return sorted(users.values(), key=lambda u: u.name), []
    by_gid: dict[int, list[str]] = {}
    for u in users.values():
        if u.gid is not None:
            by_gid.setdefault(u.gid, []).append(u.name)
    groups: list[DirGroup] = []
    for g in directory.groups:
        if not _in(g.gid, sel.gid_min, sel.gid_max) or _matches(g.name, sel.exclude):
            continue
        members = {m for m in g.members if m in users}
        if g.gid is not None:
            members.update(by_gid.get(g.gid, ()))
        if not members and not sel.empty_groups:
            continue
        groups.append(DirGroup(g.name, g.gid, tuple(sorted(members)), g.description))
    return sorted(users.values(), key=lambda u: u.name), sorted(groups, key=lambda g: g.name)


def plan(
    users: Sequence[DirUser],
    groups: Sequence[DirGroup],
    store: StoreView,
    new: NewAccounts,
    *,
    keep: Sequence[str] = (),
    disable_leavers: bool = False,
) -> SyncPlan:
    """The writes that make the store follow the directory (see the module's doc).

    Quota entries are created, with `new`'s limits, for directory users on the
    printers `new.printers` selects where an entry is missing, so a printer added
    later gets entries on the next run; existing entries are never changed.
    Groups no longer in the directory are reported, never emptied or deleted.
    """
    names = {u.name for u in users}
    new_users = tuple(u for u in users if u.name not in store.users)
    new_groups = tuple(g for g in groups if g.name not in store.groups)
    add: list[tuple[str, tuple[str, ...]]] = []
    remove: list[tuple[str, tuple[str, ...]]] = []
    for g in groups:
        have = store.groups.get(g.name, frozenset())
        want = set(g.members)
        if plus := tuple(sorted(want - have)):
            add.append((g.name, plus))
        # only members the directory manages leave a group; a kept user stays
        if minus := tuple(sorted(m for m in have - want if not _matches(m, keep))):
            remove.append((g.name, minus))
    printers = [p for p in store.printers if _matches(p, new.printers)]
    quotas = tuple(
        (u, p) for u in sorted(names) for p in printers if (u, p) not in store.quota_entries
    )
    leavers = tuple(sorted(n for n in store.users if n not in names and not _matches(n, keep)))
    disable = (
        tuple(n for n in leavers if store.users[n] != LimitBy.NOPRINT) if disable_leavers else ()
    )
    left_groups = tuple(
        sorted(
            set(store.groups)
            - {g.name for g in groups}
            - {n for n in store.groups if _matches(n, keep)}
        )
    )
    returned = tuple(sorted(n for n in names if store.users.get(n) == LimitBy.NOPRINT))
    already = tuple(n for n in leavers if store.users[n] == LimitBy.NOPRINT)
    return SyncPlan(
        new_users,
        new_groups,
        tuple(add),
        tuple(remove),
        quotas,
        leavers,
        disable,
        left_groups,
        returned,
        already,
    )


def too_many_leavers(plan_: SyncPlan, store_users: int, limit_percent: int) -> bool:
    """A directory that suddenly lacks most users is more likely a wrong search
    base or a broken NSS than a mass departure: disabling is then held back."""
    return (
        bool(plan_.disable)
        and store_users > 0
        and (len(plan_.disable) * 100 > store_users * limit_percent)
    )
