"""core.directory: selection and the plan, pure (no store, no files)."""

from __future__ import annotations

from decimal import Decimal

import pytest

from pagetally.core.directory import (
    Directory,
    DirGroup,
    DirUser,
    NewAccounts,
    Selection,
    StoreView,
    plan,
    select,
    too_many_leavers,
)
from pagetally.core.models import LimitBy
from pagetally.errors import InvalidInput

DIR = Directory(
    "test",
    (
        DirUser("root", 0, 0),
        DirUser("ann", 1000, 100),
        DirUser("bob", 1001, 1001),
        DirUser("nobody", 65534, 65534),
        DirUser("cat", 1002, 1001),
    ),
    (
        DirGroup("users", 100, ("bob",)),
        DirGroup("bob", 1001),
        DirGroup("wheel", 10, ("ann",)),
        DirGroup("empty", 2000),
        DirGroup("nogroup", 65534),
    ),
)


def test_selection_is_pkturnkeys_uid_range_with_primary_groups() -> None:
    users, groups = select(
        DIR, Selection(uid_min=1000, uid_max=60000, gid_min=100, exclude=("nogroup",))
    )
    assert [u.name for u in users] == ["ann", "bob", "cat"]
    # ann is in `users` through her primary gid; `wheel` (gid 10) is below the range
    assert {g.name: g.members for g in groups} == {"bob": ("bob", "cat"), "users": ("ann", "bob")}


def test_empty_groups_and_users_only() -> None:
    _, groups = select(DIR, Selection(uid_min=1000, gid_min=100, empty_groups=True))
    assert "empty" in {g.name for g in groups}
    assert select(DIR, Selection(uid_min=1000, groups=False))[1] == []


def test_an_empty_range_is_refused() -> None:
    with pytest.raises(InvalidInput, match="1000-10"):
        Selection(uid_min=1000, uid_max=10)


def test_plan_adds_follows_members_and_reports_leavers() -> None:
    users, groups = select(DIR, Selection(uid_min=1000, uid_max=60000, gid_min=100))
    view = StoreView(
        users={
            "ann": LimitBy.BALANCE,
            "dan": LimitBy.QUOTA,
            "eve": LimitBy.NOPRINT,
            "guest": LimitBy.QUOTA,
        },
        groups={"users": frozenset({"ann", "dan", "guest"})},
        printers=("lp", "color", "plotter"),
        quota_entries=frozenset({("ann", "lp")}),
    )
    p = plan(
        users,
        groups,
        view,
        NewAccounts(printers=("lp", "color")),
        keep=("guest",),
        disable_leavers=True,
    )
    assert [u.name for u in p.new_users] == ["bob", "cat"]
    assert [g.name for g in p.new_groups] == ["bob"]
    assert p.add_members == (("bob", ("bob", "cat")), ("users", ("bob",)))
    assert p.remove_members == (("users", ("dan",)),)  # guest is kept
    assert ("ann", "lp") not in p.new_quotas and ("ann", "color") in p.new_quotas
    assert all(pr != "plotter" for _, pr in p.new_quotas)
    assert p.leavers == ("dan", "eve") and p.disable == ("dan",)
    assert p.leavers_disabled == ("eve",)
    assert p.changes == 2 + 1 + 3 + 1 + 5 + 1


def test_a_store_in_step_plans_nothing() -> None:
    users, groups = select(DIR, Selection(uid_min=1000, uid_max=60000, gid_min=100))
    view = StoreView(
        users={u.name: LimitBy.QUOTA for u in users},
        groups={g.name: frozenset(g.members) for g in groups},
        printers=("lp",),
        quota_entries=frozenset((u.name, "lp") for u in users),
    )
    assert plan(users, groups, view, NewAccounts(balance=Decimal(5))).changes == 0


def test_mass_leaving_is_held_back() -> None:
    view = StoreView(users={f"u{i}": LimitBy.QUOTA for i in range(100)})
    p = plan([DirUser("u1")], [], view, NewAccounts(), disable_leavers=True)
    assert len(p.disable) == 99
    assert too_many_leavers(p, 100, 10)
    assert not too_many_leavers(p, 100, 100)
