"""`pagetally printers`, `groups`, `quotas`, `billing-codes`: many names, wildcards,
nested printer groups, refused cycles, nothing changed on bad input."""

from __future__ import annotations

from tests.cli.conftest import Cli


def test_printers_prices_and_nested_groups(cli: Cli) -> None:
    cli(
        "printers",
        "add",
        "lp1",
        "lp2",
        "--price-per-page",
        "0.05",
        "--price-per-job",
        "0.10",
        "--max-job-size",
        "50",
    )
    cli("printers", "add", "floor1", "building", "--price-per-page", "0.01")
    cli("printers", "add-to-group", "floor1", "lp*")
    cli("printers", "add-to-group", "building", "floor1")
    by = {p["name"]: p for p in cli.json("printers", "list")}
    assert by["lp1"]["price_per_page"] == "0.05" and by["lp1"]["price_per_job"] == "0.10"
    assert by["lp1"]["max_job_size"] == 50
    assert by["lp1"]["groups"] == ["floor1", "building"]
    assert by["floor1"]["groups"] == ["building"]
    pm = cli.json("dump", "pmembers")
    assert {(r["pgroupname"], r["printername"]) for r in pm} == {
        ("floor1", "lp1"),
        ("floor1", "lp2"),
        ("building", "floor1"),
    }
    before = cli.snapshot()
    r = cli("printers", "add-to-group", "lp1", "building", code=2)
    assert "cycle" in r.stderr and len(r.stderr.strip().splitlines()) == 1
    cli("printers", "add-to-group", "floor1", "floor1", code=2)
    assert cli.snapshot() == before
    cli("printers", "remove-from-group", "floor1", "lp2")
    assert cli.json("printers", "list", "lp2")[0]["groups"] == []


def test_printer_edit(cli: Cli) -> None:
    cli("printers", "add", "lp1", "lp2", "color1", "--price-per-page", "0.05")
    cli("printers", "edit", "lp?", "--price-per-job", "1", "--passthrough")
    cli("printers", "edit", "color1", "--price-per-color-page", "0.5", "--media", "a3=2")
    by = {p["name"]: p for p in cli.json("printers", "list")}
    assert (by["lp2"]["price_per_job"], by["lp2"]["passthrough"]) == ("1.00", True)
    assert by["lp2"]["price_per_page"] == "0.05"
    assert by["color1"]["price_per_color_page"] == "0.50"
    cli("printers", "edit", "lp1", "--no-passthrough", "--max-job-size", "9")
    cli("printers", "edit", "lp1", "--no-max-job-size")
    assert cli.json("printers", "list", "lp1")[0]["passthrough"] is False
    assert cli.json("printers", "list", "lp1")[0]["max_job_size"] is None
    before = cli.snapshot()
    assert "nothing to change" in cli("printers", "edit", "lp1", code=2).stderr
    assert "price per page" in cli("printers", "edit", "lp*", "-p", "abc", code=2).stderr
    assert "SIZE=FACTOR" in cli("printers", "edit", "lp1", "--media", "a3", code=2).stderr
    cli("printers", "edit", "lp1", "nope", "-p", "1", code=5)
    assert cli.snapshot() == before
    cli("printers", "delete", "lp*")
    assert [p["name"] for p in cli.json("printers", "list")] == ["color1"]


def test_groups_and_members(cli: Cli) -> None:
    cli("users", "add", "ann", "al", "bob", "--balance", "2")
    cli("groups", "add", "staff", "students", "--limit-by", "balance")
    cli("groups", "add-members", "staff", "a*")
    cli("groups", "add-members", "students", "bob")
    by = {g["name"]: g for g in cli.json("groups", "list")}
    assert by["staff"]["members"] == ["al", "ann"] or by["staff"]["members"] == ["ann", "al"]
    assert by["staff"]["balance"] == "4.00" and by["staff"]["limit_by"] == "balance"
    um = cli.json("dump", "umembers", "groupname=staff")
    assert sorted(r["username"] for r in um) == ["al", "ann"]
    before = cli.snapshot()
    cli("groups", "add-members", "staff", "zed", code=5)
    cli("groups", "add-members", "nogroup", "bob", code=5)
    cli("groups", "remove-members", "staff", "bob", code=5)
    assert cli.snapshot() == before
    cli("groups", "remove-members", "staff", "al")
    assert cli.json("groups", "list", "staff")[0]["members"] == ["ann"]
    cli("groups", "edit", "st*", "--description", "people")
    assert {g["description"] for g in cli.json("groups", "list")} == {"people"}
    cli("groups", "delete", "students")
    assert [g["name"] for g in cli.json("groups", "list")] == ["staff"]


def test_quotas_many_names(cli: Cli) -> None:
    users = [f"u{i:03d}" for i in range(30)]
    cli("users", "add", *users)
    cli("printers", "add", "lp1", "lp2")
    cli("quotas", "set", "--printer", "lp*", "--soft", "10", "--hard", "20", "u00*")
    q = cli.json("quotas", "list")
    assert len(q) == 20  # u000..u009 on two printers
    assert {(e["soft_limit"], e["hard_limit"]) for e in q} == {(10, 20)}
    cli("quotas", "set", "--printer", "lp1", "u01*")  # accounting only
    assert len(cli.json("quotas", "list", "--printer", "lp1")) == 20
    before = cli.snapshot()
    assert (
        "above --hard"
        in cli("quotas", "set", "-P", "lp1", "--soft", "5", "--hard", "2", "u000", code=2).stderr
    )
    cli("quotas", "set", "-P", "lp1", "--soft", "-1", "u000", code=2)
    cli("quotas", "set", "-P", "nolp", "u000", code=5)
    cli("quotas", "set", "-P", "lp1", "u000", "ghost", code=5)
    assert cli.snapshot() == before
    cli("quotas", "delete", "-P", "lp2", "u00[0-4]")
    assert len(cli.json("quotas", "list", "-P", "lp2")) == 5


def test_group_quotas(cli: Cli) -> None:
    cli("users", "add", "ann")
    cli("groups", "add", "staff")
    cli("printers", "add", "lp1")
    cli("quotas", "set", "--group", "-P", "lp1", "--hard", "100", "staff")
    q = cli.json("quotas", "list", "--group")
    assert [(e["name"], e["kind"], e["hard_limit"]) for e in q] == [("staff", "group", 100)]
    assert cli.json("quotas", "list") == []
    cli("quotas", "set", "--group", "-P", "lp1", "ann", code=5)


def test_billing_codes(cli: Cli) -> None:
    cli("billing-codes", "add", "proj-a", "proj-b", "-d", "projects")
    cli("billing-codes", "edit", "proj-a", "--balance", "12.5")
    by = {c["code"]: c for c in cli.json("billing-codes", "list")}
    assert by["proj-a"]["balance"] == "12.50" and by["proj-b"]["description"] == "projects"
    cli("billing-codes", "add", "proj-a", code=6)
    cli("billing-codes", "delete", "proj-*")
    assert cli.json("billing-codes", "list") == []
