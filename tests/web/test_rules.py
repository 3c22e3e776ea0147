"""The web's pure rules: roles, rights, quota warnings, the login limiter, charts,
proxies, CSV cells."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from decimal import Decimal as D

import pytest

from pagetally.core.models import Action, JobRecord, LimitBy, User, UserQuota
from pagetally.errors import ConfigError
from pagetally.storage.webqueries import PrintedSums
from pagetally.web.charts import bars, figures
from pagetally.web.history import csv_lines
from pagetally.web.ratelimit import LoginLimiter
from pagetally.web.rights import (
    Identity,
    Role,
    may_change_site,
    may_request_refund,
    may_see_admin,
    may_see_user,
    role_of,
)
from pagetally.web.settings import WebSettings, parse_proxies
from pagetally.web.status import balance_warning, quota_line

NOW = datetime(2026, 11, 30, tzinfo=UTC)


def test_roles_from_names_and_groups() -> None:
    admins, readonly = {"root", "@wheel"}, {"@audit", "eve"}
    assert role_of("root", [], admins, readonly) is Role.ADMIN
    assert role_of("ann", ["wheel"], admins, readonly) is Role.ADMIN
    assert role_of("bob", ["audit"], admins, readonly) is Role.READONLY_ADMIN
    assert role_of("eve", ["wheel"], admins, readonly) is Role.ADMIN  # admin wins
    assert role_of("wheel", [], admins, readonly) is Role.USER  # a user named like a group
    assert role_of("@wheel", [], admins, readonly) is Role.USER  # "@wheel" lists the group


def test_rights() -> None:
    user, ro, adm = (Identity("u"), Identity("r", Role.READONLY_ADMIN), Identity("a", Role.ADMIN))
    assert may_see_user(user, "u") and not may_see_user(user, "v")
    assert may_see_user(ro, "v") and may_see_user(adm, "v")
    assert not may_see_admin(user) and may_see_admin(ro) and may_see_admin(adm)
    assert not may_change_site(user) and not may_change_site(ro) and may_change_site(adm)
    assert may_request_refund(user, "u") and not may_request_refund(adm, "u")


@pytest.mark.parametrize(
    ("used", "soft", "hard", "grace", "level"),
    [
        (0, 10, 20, None, "ok"),
        (9, 10, 20, None, "near"),
        (18, None, 20, None, "near"),
        (10, 10, 20, NOW + timedelta(days=1), "over"),
        (12, 10, 20, NOW - timedelta(seconds=1), "blocked"),
        (20, 10, 20, None, "blocked"),
        (1000, None, None, None, "ok"),
    ],
)
def test_quota_levels(
    used: int, soft: int | None, hard: int | None, grace: datetime | None, level: str
) -> None:
    q = UserQuota("u", "lp", page_counter=used, soft_limit=soft, hard_limit=hard, date_limit=grace)
    assert quota_line(q, NOW).level == level


def test_balance_warning() -> None:
    assert balance_warning(User("u", limit_by=LimitBy.QUOTA, balance=D(-5)), D(1), "") == ""
    low = balance_warning(User("u", limit_by=LimitBy.BALANCE, balance=D("0.50")), D(1), "EUR")
    assert low == "your balance is low: 0.50 EUR"
    assert "may be refused" in balance_warning(User("u", limit_by=LimitBy.BALANCE), D(1), "")


def test_login_limiter_window() -> None:
    clock = [0.0]
    lim = LoginLimiter(3, 900, clock=lambda: clock[0])
    for _ in range(3):
        assert lim.wait_seconds("1.2.3.4", "Alice") == 0
        lim.failed("1.2.3.4", "alice")
    assert lim.wait_seconds("1.2.3.4", "ALICE") > 0
    assert lim.wait_seconds("5.6.7.8", "alice") == 0  # another address
    assert lim.wait_seconds("1.2.3.4", "bob") == 0  # another user
    clock[0] = 901
    assert lim.wait_seconds("1.2.3.4", "alice") == 0
    lim.failed("1.2.3.4", "alice")
    lim.failed("1.2.3.4", "alice")
    lim.succeeded("1.2.3.4", "alice")  # the count starts again
    lim.failed("1.2.3.4", "alice")
    lim.failed("1.2.3.4", "alice")
    assert lim.wait_seconds("1.2.3.4", "alice") == 0


def test_proxies() -> None:
    s = WebSettings(proxies=parse_proxies("127.0.0.1, 10.0.0.0/8 ::1"))
    assert s.is_proxy("127.0.0.1") and s.is_proxy("10.9.8.7") and s.is_proxy("::1")
    assert not s.is_proxy("192.168.0.1") and not s.is_proxy(None)
    assert not s.is_proxy("testclient")
    with pytest.raises(ConfigError, match="webproxies"):
        parse_proxies("10.0.0.0/33")


def test_figures_and_duplex_savings() -> None:
    # the store's sums (printed_sums) of: 10 pages on 5 sheets and a refunded job of
    # 2 pages on 1 sheet on lp on the 1st, 3 on 3 on the 2nd; 4 colour pages
    # (sheets unknown: 4) on c (tests/storage/test_webqueries sums real jobs)
    f = figures(
        [
            PrintedSums("c", date(2026, 11, 1), 4, 4, 4),
            PrintedSums("lp", date(2026, 11, 1), 12, 0, 6),
            PrintedSums("lp", date(2026, 11, 2), 3, 0, 3),
        ],
        D("5"),
        D("2"),
    )
    assert (f.pages, f.sheets, f.sheets_saved) == (19, 13, 6)
    assert (f.colour, f.mono) == (4, 15)
    assert f.by_printer == [("lp", 15), ("c", 4)]
    assert f.per_month == [("2026-11", 19)]
    assert (f.paper_grams, f.co2_grams) == (D(30), D(12))


def test_bars_escape_labels() -> None:
    svg = str(bars("<t>", [("<b>x</b>", 3)]))
    assert "<b>" not in svg and "&lt;b&gt;x&lt;/b&gt;" in svg and "&lt;t&gt;" in svg


def test_csv_cells_are_not_formulas() -> None:
    job = JobRecord(
        1, NOW, "=cmd|' /C calc'!A0", "lp", Action.ALLOW, 1, title="@SUM(1)", price=D("-1.5")
    )
    text = "".join(csv_lines([job]))
    assert "'=cmd" in text and "'@SUM(1)" in text and ",-1.5," in text


def test_dashboard_sums_kept_a_minute_then_renewed_behind_the_page() -> None:
    from datetime import UTC, datetime
    from decimal import Decimal

    from pagetally.web.dashboard import MAX_AGE, Recent, Summary
    from tests.polling import wait_until

    clock = [0.0]
    made: list[int] = []

    def make() -> tuple[datetime, Summary]:
        made.append(len(made))
        return datetime(2026, 12, 1, tzinfo=UTC), Summary([], [], [], [], len(made), 0, Decimal(0))

    recent = Recent(clock=lambda: clock[0])
    assert recent.get(make)[1].jobs == 1
    clock[0] = MAX_AGE  # still fresh: nothing made again
    assert recent.get(make)[1].jobs == 1 and len(made) == 1
    clock[0] = MAX_AGE + 1  # too old: the old sums answer, new ones are made behind
    assert recent.get(make)[1].jobs == 1
    wait_until(lambda: recent.get(make)[1].jobs == 2, "the renewed sums")
    assert len(made) == 2
