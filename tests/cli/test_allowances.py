"""`pagetally allowances`: scheduled grants; `run` twice in a period grants once."""

from __future__ import annotations

from datetime import timedelta

from tests.cli.conftest import NOW, Cli


def test_monthly_credit_with_cap_is_idempotent(cli: Cli) -> None:
    cli("users", "add", "ann", "bob", "--limit-by", "balance")
    cli("groups", "add", "staff")
    cli("groups", "add-members", "staff", "ann", "bob")
    cli("allowances", "add", "ann", "--period", "month", "--credit", "5", "--cap", "8")
    cli("allowances", "add", "staff", "--group", "--period", "week", "--credit", "1")
    listed = cli.json("allowances", "list")
    assert [(a["target"], a["kind"], a["period"], a["credit"], a["cap"]) for a in listed] == [
        ("ann", "user", "month", "5.00", "8.00"),
        ("staff", "group", "week", "1.00", None),
    ]
    out = cli("allowances", "run").stdout
    assert "2026-11: granted" in out and "2026-W48: granted" in out
    balances = {u["name"]: u["balance"] for u in cli.json("users", "list")}
    assert balances == {"ann": "6.00", "bob": "1.00"}
    out = cli("allowances", "run").stdout
    assert out.count("already granted") == 2
    assert {u["name"]: u["balance"] for u in cli.json("users", "list")} == balances
    cli.now[0] = NOW + timedelta(days=6)  # Monday 30 November: next week, same month
    cli("allowances", "run")
    balances = {u["name"]: u["balance"] for u in cli.json("users", "list")}
    assert balances == {"ann": "7.00", "bob": "2.00"}
    cli.now[0] = NOW + timedelta(days=14)  # December: the monthly 5 is capped at 8 (+1)
    cli("allowances", "run")  # then the weekly 1 (no cap)
    assert {u["name"]: u["balance"] for u in cli.json("users", "list")} == {
        "ann": "9.00",
        "bob": "3.00",
    }


def test_page_allowance_and_bad_input(cli: Cli) -> None:
    cli("users", "add", "ann")
    cli("printers", "add", "lp1")
    cli("quotas", "set", "-P", "lp1", "--hard", "10", "ann")
    cli("jobs", "add", "-u", "ann", "-P", "lp1", "-p", "8")
    cli("allowances", "add", "ann", "--period", "day", "--pages", "5", "--printer", "lp1")
    cli("allowances", "run")
    assert cli.json("quotas", "list")[0]["page_counter"] == 3
    before = cli.snapshot()
    assert "nothing to grant" in cli("allowances", "add", "ann", code=2).stderr
    cli("allowances", "add", "ghost", "--credit", "1", code=5)
    cli("allowances", "add", "ann", "--credit", "-- -1", code=2)
    cli("allowances", "delete", "999", code=5)
    assert cli.snapshot() == before
    aid = cli.json("allowances", "list")[0]["id"]
    cli("allowances", "delete", str(aid))
    assert cli.json("allowances", "list") == []


def test_term_allowance_needs_termstarts(cli: Cli) -> None:
    cli("users", "add", "ann")
    cli("allowances", "add", "ann", "--period", "term", "--credit", "3")
    r = cli("allowances", "run", code=2)
    assert "termstarts" in r.stderr
    cli.conf.write_text(cli.conf.read_text() + "termstarts: 2026-09-01, 2027-01-04\n")
    assert "term:2026-09-01: granted" in cli("allowances", "run").stdout
