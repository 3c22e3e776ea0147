"""`pagetally report` built from the aggregating query (storage/reports.py) prints
exactly what the object-by-object version printed (tests/cli/report_before.py,
the command as it was), in every format, for users and groups and filters."""

from __future__ import annotations

import json
from datetime import timedelta
from decimal import Decimal

import pytest
import typer
from sqlalchemy import update
from typer.testing import CliRunner

from pagetally.cli.env import Env
from pagetally.core.models import Group, LimitBy, Payment, PaymentKind, PriceTable, Printer, User
from pagetally.storage.schema import userpquota
from tests.cli import report_before
from tests.cli.conftest import NOW, Cli

BEFORE = typer.Typer(add_completion=False)
BEFORE.callback()(lambda: None)
report_before.register(BEFORE)


def _store(cli: Cli) -> None:
    cli.conf.write_text(
        cli.conf.read_text() + "poorman: 2\n\n[lp2]\npoorman: 7.5\nbalancezero: -1\ngracedelay: 3\n"
    )
    with cli.store(readonly=False) as s:
        s.add_printer(
            Printer(
                "lp1",
                description="first <floor>",
                prices=PriceTable(per_page=Decimal("0.10"), per_job=Decimal("0.05")),
            )
        )
        s.add_printer(Printer("lp2"))
        s.add_printer(Printer('lp,3 "q"'))
        people = [
            User("alice", limit_by=LimitBy.QUOTA),
            User("bob", limit_by=LimitBy.BALANCE, balance=Decimal("1.5")),
            User("carol", limit_by=LimitBy.BALANCE, balance=Decimal("-2"), overcharge=Decimal(0)),
            User("dan", limit_by=LimitBy.BALANCE, balance=Decimal("5.125")),
            User("erin", limit_by=LimitBy.NOQUOTA),
            User("frank", limit_by=LimitBy.NOCHANGE),
            User("gus", limit_by=LimitBy.NOPRINT),
            User('<b>h&i"</b>', limit_by=LimitBy.QUOTA),
            User("zoë, jr", limit_by=LimitBy.BALANCE, balance=Decimal("0")),
        ]
        for u in people:
            s.add_user(u)
        s.add_payment(Payment("bob", Decimal("3.25"), PaymentKind.CREDIT, "", NOW))
        limits = [(5, 10), (None, None), (3, None), (None, 4), (0, 0)]
        for i, u in enumerate(people):
            for j, p in enumerate(("lp1", "lp2", 'lp,3 "q"')):
                if (i + j) % 4 == 3:
                    continue
                soft, hard = limits[(i + j) % len(limits)]
                s.set_user_quota(u.name, p, soft_limit=soft, hard_limit=hard)
                s.reset_user_quota(
                    u.name,
                    p,
                    page_counter=(i * 3 + j) % 7,
                    life_page_counter=(i * 5 + j) % 11,
                    lifetime=True,
                )
        with s._engine.begin() as conn:  # grace deadlines, past and future
            conn.execute(
                update(userpquota)
                .where(userpquota.c.id % 3 == 0)
                .values(datelimit=NOW - timedelta(days=1))
            )
            conn.execute(
                update(userpquota)
                .where(userpquota.c.id % 3 == 1)
                .values(datelimit=NOW + timedelta(days=2, minutes=7))
            )
            conn.execute(update(userpquota).where(userpquota.c.id % 5 == 0).values(warncount=3))
        for g, lb, members in (
            ("staff", LimitBy.BALANCE, ["bob", "dan"]),
            ("empty", LimitBy.QUOTA, []),
            ("all & more", LimitBy.QUOTA, [u.name for u in people]),
        ):
            s.add_group(Group(g, limit_by=lb))
            s.add_members(g, members)
            s.set_group_quota(g, "lp1", soft_limit=4, hard_limit=20)
            s.set_group_quota(g, "lp2")


def _env(cli: Cli) -> Env:
    env = cli.env()
    env.config_path = str(cli.conf)
    return env


CASES = [
    [],
    ["b*", "[a-c]*", "zo*"],
    ["--printer", "lp2"],
    ["--printer", "lp[12]", "alice", "nobody"],
    ["--in-group", "staff"],
    ["--in-group", "empty"],
    ["--group"],
    ["--group", "--printer", "lp1", "s*"],
]


@pytest.mark.parametrize("rich_max", [2000, 3], ids=["rich", "plain"])
@pytest.mark.parametrize("args", CASES, ids=lambda a: " ".join(a) or "all")
def test_same_output_as_before(
    cli: Cli, args: list[str], rich_max: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Tables as Rich draws them and, past output.RICH_MAX rows (here 3, so that
    most printers' are), as plain text laid out from columns."""
    monkeypatch.setattr("pagetally.cli.output.RICH_MAX", rich_max)
    _store(cli)
    runner = CliRunner()
    for fmt in ("table", "csv", "json"):
        full = [*args, "--format", fmt]
        new = cli("report", *full)
        old = runner.invoke(BEFORE, ["report", *full], obj=_env(cli))
        assert old.exit_code == 0, old.stderr
        assert new.stdout == old.stdout, fmt
        assert new.stderr == old.stderr
    if not args:  # the store holds every case: flags, statuses, grace both ways
        rows = json.loads(new.stdout)
        assert {r["flag"] for r in rows} == {"-Q", "+Q", "-B", "?B", "+B", "NQ", "NC", "NP"}
        assert {r["status"] for r in rows} == {"", "DENY", "WARNING"}
        assert any(r["grace_until"] for r in rows) and len(rows) > 20
