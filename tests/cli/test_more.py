"""Smaller commands: quota resets, schema upgrade, user edits, the progress bar."""

from __future__ import annotations

from datetime import UTC
from pathlib import Path

from typer.testing import CliRunner

from pagetally.cli.env import Env
from pagetally.cli.main import app
from tests.cli.conftest import Cli, make_cli


def test_quota_reset(cli: Cli) -> None:
    cli("users", "add", "ann", "bob")
    cli("printers", "add", "lp1")
    cli("quotas", "set", "-P", "lp1", "--soft", "2", "--hard", "9", "ann", "bob")
    cli("jobs", "add", "-u", "ann", "-P", "lp1", "-p", "4")
    cli("jobs", "add", "-u", "bob", "-P", "lp1", "-p", "3")
    entry = cli.json("quotas", "list", "ann")[0]
    assert (entry["page_counter"], entry["life_page_counter"]) == (4, 4)
    assert entry["grace_until"] is not None
    cli("quotas", "reset", "-P", "lp1", "ann")
    entry = cli.json("quotas", "list", "ann")[0]
    assert (entry["page_counter"], entry["life_page_counter"], entry["grace_until"]) == (0, 4, None)
    cli("quotas", "reset", "-P", "lp1", "--used", "1", "--lifetime", "b*")
    entry = cli.json("quotas", "list", "bob")[0]
    assert (entry["page_counter"], entry["life_page_counter"]) == (1, 1)  # both set
    cli("quotas", "reset", "-P", "lp1", "--used", "-- -1", "ann", code=2)


def test_db_upgrade_creates_the_store(tmp_path: Path) -> None:
    cli = make_cli(tmp_path, store=False)
    for args in (("users", "list"), ("report",), ("users", "add", "ann"), ("history",)):
        r = cli(*args, code=4)  # a typo in storagename: refused, naming the path
        assert f"the SQLite store {cli.db} does not exist" in r.stderr
        assert "pagetally db upgrade" in r.stderr
    assert not cli.db.exists()
    r = cli("db", "upgrade")
    assert "up to date" in r.stderr
    assert cli.db.exists()
    cli("db", "upgrade")  # twice: nothing to do
    assert cli.json("users", "list") == []


def test_user_edit_fields(cli: Cli) -> None:
    cli("users", "add", "ann", "-d", "first")
    cli(
        "users",
        "edit",
        "ann",
        "--email",
        "ann@example.org",
        "--limit-by",
        "noprint",
        "--description",
        "moved",
    )
    u = cli.json("users", "list")[0]
    assert (u["email"], u["limit_by"], u["description"]) == ("ann@example.org", "noprint", "moved")
    assert "nothing to change" in cli("users", "edit", "ann", code=2).stderr
    cli("users", "edit", "ann", "--overcharge", "-- -1", code=2)
    cli("printers", "add", "lp1")
    cli("quotas", "set", "-P", "lp1", "ann")
    r = cli("jobs", "add", "-u", "ann", "-P", "lp1", "-p", "1", code=1)
    assert "noprint" in r.stdout


def test_history_kept_when_user_deleted(cli: Cli) -> None:
    cli("users", "add", "ann")
    cli("printers", "add", "lp1")
    cli("quotas", "set", "-P", "lp1", "ann")
    cli("jobs", "add", "-u", "ann", "-P", "lp1", "-p", "2")
    cli("users", "delete", "ann")
    assert [j["pages"] for j in cli.json("history")] == [2]


def test_progress_bar_once_work_takes_over_a_second(cli: Cli) -> None:
    """Issue 10: a bar on anything that takes over a second, whatever the number
    of items — none for 30 quick names, one for 3 slow ones (an injected clock
    that moves 0.6 s per reading)."""

    def invoke(ticks: list[float], *names: str) -> str:
        def tick() -> float:
            ticks[0] += ticks[1]
            return ticks[0]

        env = Env(tz=UTC, environ={}, force_terminal=True, width=100, ticks=tick)
        r = CliRunner().invoke(
            app, ["--config", str(cli.conf), "users", "add", "--balance", "1", *names], obj=env
        )
        assert r.exit_code == 0, r.stderr
        return r.stderr

    quick = invoke([0.0, 0.0], *[f"user{i:02d}" for i in range(30)])
    assert "adding users" not in quick and "initial balances" not in quick
    slow = invoke([0.0, 0.6], "ann", "bob", "cat")
    assert "initial balances" in slow and "3/3" in slow
    assert len(cli.json("users", "list")) == 33
    r = cli("users", "delete", "user0*")  # not a terminal: no bar
    assert "deleting users" not in r.stderr
    assert len(cli.json("users", "list")) == 23


def test_tables_show_local_time_machine_formats_utc(cli: Cli) -> None:
    from datetime import timedelta, timezone

    cli("users", "add", "ann")
    cli("printers", "add", "lp1")
    cli("quotas", "set", "-P", "lp1", "ann")
    cli("jobs", "add", "-u", "ann", "-P", "lp1", "-p", "1")  # at 12:00 UTC
    env = Env(clock=lambda: cli.now[0], tz=timezone(timedelta(hours=1)), environ={}, width=200)
    r = CliRunner().invoke(app, ["--config", str(cli.conf), "history"], obj=env)
    assert "2026-11-24 13:00" in r.stdout
    r = CliRunner().invoke(app, ["--config", str(cli.conf), "history", "-f", "json"], obj=env)
    assert '"2026-11-24T12:00:00+00:00"' in r.stdout


def test_big_tables_are_plain_text(cli: Cli, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    import pagetally.cli.output as output

    cli("users", "add", "ann", "bob", "--balance", "2")
    cli("printers", "add", "lp1")
    cli("quotas", "set", "-P", "lp1", "--soft", "3", "ann", "bob")
    monkeypatch.setattr(output, "RICH_MAX", 1)
    lines = cli("users", "list").stdout.splitlines()
    assert lines[0] == "Users"
    assert lines[1].split() == [
        "name",
        "limit_by",
        "balance",
        "lifetime_paid",
        "overcharge",
        "email",
        "description",
    ]
    assert lines[3].split()[:3] == ["ann", "quota", "2.00"]
    report = cli("report").stdout.splitlines()
    assert report[0] == "Report for user quota on printer lp1"
    assert report[1].split()[:4] == ["User", "overcharge", "used", "soft"]
    assert report[5].split()[0] == "Total" and report[5].split()[-1] == "4.00"
    assert "┃" not in "\n".join(report)
