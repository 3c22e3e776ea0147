"""`pagetally users` and `payments`: many names, wildcards, bad input."""

from __future__ import annotations

from tests.cli.conftest import Cli


def test_add_list_edit_delete(cli: Cli) -> None:
    cli(
        "users",
        "add",
        "alice",
        "bob",
        "carol",
        "--limit-by",
        "balance",
        "--balance",
        "5",
        "--email",
        "x@example.org",
    )
    users = cli.json("users", "list")
    assert [u["name"] for u in users] == ["alice", "bob", "carol"]
    assert users[0] == {
        "name": "alice",
        "limit_by": "balance",
        "balance": "5.000000",
        "lifetime_paid": "5.000000",
        "overcharge": "1.000000",
        "email": "x@example.org",
        "description": "",
    } or users[0]["balance"] in ("5", "5.00", "5.000000")
    cli("users", "edit", "a*", "b*", "--overcharge", "0.5")
    by = {u["name"]: u for u in cli.json("users", "list")}
    assert float(by["alice"]["overcharge"]) == 0.5 and float(by["bob"]["overcharge"]) == 0.5
    assert float(by["carol"]["overcharge"]) == 1
    cli("users", "delete", "[ab]*")
    assert [u["name"] for u in cli.json("users", "list")] == ["carol"]
    table = cli("users", "list").stdout
    assert "carol" in table and "balance" in table


def test_add_existing_changes_nothing(cli: Cli) -> None:
    cli("users", "add", "alice")
    r = cli("users", "add", "bob", "alice", code=6)
    assert "user 'alice' already exists" in r.stderr
    assert [u["name"] for u in cli.json("users", "list")] == ["alice"]
    cli("users", "add", "bob", "alice", "--skip-existing")
    assert [u["name"] for u in cli.json("users", "list")] == ["alice", "bob"]


def test_unknown_user_is_refused_and_nothing_changes(cli: Cli) -> None:
    cli("users", "add", "alice", "--balance", "2")
    before = cli.snapshot()
    r = cli("users", "delete", "alice", "nobody", code=5)
    assert r.stderr.strip() == "pagetally: error: user 'nobody' does not exist"
    r = cli("users", "edit", "zz*", "--overcharge", "2", code=5)
    assert "no user matches 'zz*'" in r.stderr
    assert cli.snapshot() == before


def test_wildcard_in_new_name_refused(cli: Cli) -> None:
    r = cli("users", "add", "al*", code=2)
    assert "wildcard" in r.stderr


def test_credit_and_bad_amounts(cli: Cli) -> None:
    cli("users", "add", "alice", "bob", "--limit-by", "balance")
    cli("users", "credit", "alice", "bob", "2.50", "--note", "cash")
    by = {u["name"]: u for u in cli.json("users", "list")}
    assert float(by["alice"]["balance"]) == 2.5 and float(by["bob"]["lifetime_paid"]) == 2.5
    before = cli.snapshot()
    for bad in ("-3", "abc", "1e3", "nan", "0.0000001", ""):
        r = cli("users", "credit", "alice", "--", bad, code=2)
        assert r.stderr.startswith("pagetally: error: amount:"), r.stderr
        assert len(r.stderr.strip().splitlines()) == 1
    r = cli("payments", "credit", "alice", "0", code=2)
    assert cli.snapshot() == before
    pays = cli.json("payments", "list", "--user", "alice")
    assert [(p["kind"], float(p["amount"]), p["description"]) for p in pays] == [
        ("credit", 2.5, "cash")
    ]


def test_payment_kinds(cli: Cli) -> None:
    cli("users", "add", "alice", "--balance", "10")
    cli("payments", "refund", "alice", "1", "--note", "jammed")
    cli("payments", "free", "alice", "2")
    cli("payments", "debit", "alice", "0.5")
    u = cli.json("users", "list", "alice")[0]
    assert float(u["balance"]) == 12.5
    assert float(u["lifetime_paid"]) == 10
    kinds = [(p["kind"], float(p["amount"])) for p in cli.json("payments", "list")]
    assert kinds == [("credit", 10), ("refund", 1), ("free", 2), ("debit", -0.5)]
    cli("payments", "list", "--user", "nobody", code=5)


def test_bad_options(cli: Cli) -> None:
    r = cli("users", "add", "x", "--limit-by", "lots", code=2)
    assert len(r.stderr.strip().splitlines()) == 1
    assert "--limit-by" in r.stderr
    r = cli("users", "add", "x", "--email", "nope", code=2)
    assert "e-mail" in r.stderr
    r = cli("users", "frobnicate", code=2)
    assert "No such command" in r.stderr
