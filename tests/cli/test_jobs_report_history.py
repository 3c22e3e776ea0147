"""`jobs add` through decide + charge, then `report` and `history` as scripts see them."""

from __future__ import annotations

import csv
import io
import json
from datetime import timedelta

from tests.cli.conftest import NOW, Cli


def setup_story(cli: Cli) -> None:
    cli("printers", "add", "lp1", "--price-per-page", "0.10", "--price-per-job", "0.05")
    cli("printers", "add", "floor", "--price-per-page", "0.01")
    cli("printers", "add-to-group", "floor", "lp1")
    cli("users", "add", "alice", "--limit-by", "quota")
    cli("users", "add", "bob", "--limit-by", "balance", "--balance", "1.00")
    cli("quotas", "set", "--printer", "lp1", "--soft", "5", "--hard", "10", "alice")
    cli("quotas", "set", "--printer", "lp1", "bob")


def job(cli: Cli, *args: str, code: int = 0) -> dict[str, object]:
    r = cli("jobs", "add", "--json", *args, code=code)
    return json.loads(r.stdout)


def test_decisions_and_exit_codes(cli: Cli) -> None:
    setup_story(cli)
    j = job(
        cli,
        "--user",
        "alice",
        "--printer",
        "lp1",
        "--pages",
        "3",
        "--host",
        "pc1",
        "--title",
        "report.pdf",
    )
    assert j["action"] == "allow" and j["price"] == "0.38"  # 3 x (0.10 + 0.01) + 0.05
    # laxist: checked against usage before the job, so this one overshoots
    assert job(cli, "-u", "alice", "-P", "lp1", "-p", "4", "--copies", "2")["action"] == "allow"
    denied = job(cli, "-u", "alice", "-P", "lp1", "-p", "1", code=1)
    assert denied["action"] == "deny" and denied["reason"]
    b = job(cli, "-u", "bob", "-P", "lp1", "-p", "5", "--billing-code", "proj")
    assert (b["action"], b["price"], b["balance_after"]) == ("warn", "0.60", "0.40")  # <= poorman
    assert job(cli, "-u", "bob", "-P", "lp1", "-p", "5")["action"] == "warn"  # poorman 1.0
    assert job(cli, "-u", "bob", "-P", "lp1", "-p", "1", code=1)["action"] == "deny"
    r = cli("jobs", "add", "-u", "bob", "-P", "lp1", "-p", "1", code=1)
    assert r.stdout.startswith("deny: ")
    r = cli("jobs", "add", "-u", "nobody", "-P", "lp1", "-p", "1", code=1)
    assert "nobody" in r.stdout and "unknown" in r.stdout


def test_same_job_twice_is_charged_once(cli: Cli) -> None:
    setup_story(cli)
    ident = ("--job-id", "77", "--job-uuid", "urn:uuid:1", "--host", "pc1")
    first = job(cli, "-u", "bob", "-P", "lp1", "-p", "1", *ident)
    again = job(cli, "-u", "bob", "-P", "lp1", "-p", "1", *ident)
    assert again["already_charged"] is True and first["already_charged"] is False
    assert cli.json("users", "list", "bob")[0]["balance"] == "0.84"
    assert len(cli.json("history")) == 1


def test_bad_job_input_changes_nothing(cli: Cli) -> None:
    setup_story(cli)
    before = cli.snapshot()
    cli("jobs", "add", "-u", "bob", "-P", "lp1", "-p", "-3", code=2)
    cli("jobs", "add", "-u", "bob", "-P", "lp1", "-p", "many", code=2)
    cli("jobs", "add", "-u", "bob", "-P", "lp1", "-p", "2", "--color-pages", "3", code=2)
    cli("jobs", "add", "-u", "bob", "-P", "lp1", code=2)
    assert cli.snapshot() == before


def test_report_json_shape(cli: Cli) -> None:
    setup_story(cli)
    job(cli, "-u", "alice", "-P", "lp1", "-p", "6")
    rows = cli.json("report")
    assert [(r["printer"], r["name"]) for r in rows] == [("lp1", "alice"), ("lp1", "bob")]
    alice = rows[0]
    for key in (
        "printer",
        "name",
        "kind",
        "limit_by",
        "page_counter",
        "life_page_counter",
        "soft_limit",
        "hard_limit",
        "balance",
        "life_time_paid",
        "grace_until",
    ):
        assert key in alice
    assert (alice["kind"], alice["limit_by"], alice["page_counter"]) == ("user", "quota", 6)
    assert (alice["soft_limit"], alice["hard_limit"], alice["flag"]) == (5, 10, "+Q")
    assert alice["grace_until"] == (NOW + timedelta(days=7)).isoformat()
    assert rows[1]["balance"] == "1.00" and rows[1]["flag"] == "?B"  # <= poorman
    assert cli.json("report", "--printer", "floor") == []
    assert [r["name"] for r in cli.json("report", "b*")] == ["bob"]
    cli("report", "--printer", "nope", code=5)
    table = cli("report").stdout
    assert "Report for user quota on printer lp1" in table and "Total" in table
    lines = list(csv.DictReader(io.StringIO(cli("report", "--format", "csv").stdout)))
    assert lines[0]["name"] == "alice" and lines[0]["page_counter"] == "6"


def test_report_groups(cli: Cli) -> None:
    setup_story(cli)
    cli("groups", "add", "staff", "--limit-by", "balance")
    cli("groups", "add-members", "staff", "alice", "bob")
    cli("quotas", "set", "--group", "-P", "lp1", "--hard", "50", "staff")
    job(cli, "-u", "bob", "-P", "lp1", "-p", "2")
    rows = cli.json("report", "--group")
    assert [(r["name"], r["kind"], r["hard_limit"]) for r in rows] == [("staff", "group", 50)]
    assert rows[0]["page_counter"] == 2 and rows[0]["balance"] == "0.73"


def test_history_json_shape_and_filters(cli: Cli) -> None:
    setup_story(cli)
    job(
        cli,
        "-u",
        "alice",
        "-P",
        "lp1",
        "-p",
        "2",
        "--host",
        "pc1",
        "--title",
        "a.pdf",
        "--job-id",
        "5",
        "--color-pages",
        "1",
    )
    cli.now[0] = NOW + timedelta(days=2)
    job(cli, "-u", "bob", "-P", "lp1", "-p", "1", "--billing-code", "proj")
    rows = cli.json("history")
    assert len(rows) == 2
    first = rows[0]
    assert set(first) >= {
        "id",
        "date",
        "user",
        "printer",
        "pages",
        "color_pages",
        "price",
        "action",
        "reason",
        "billing_code",
        "host",
        "title",
        "job_id",
    }
    assert (first["user"], first["printer"], first["pages"], first["color_pages"]) == (
        "alice",
        "lp1",
        2,
        1,
    )
    assert (first["action"], first["host"], first["title"], first["job_id"]) == (
        "allow",
        "pc1",
        "a.pdf",
        "5",
    )
    assert first["date"] == NOW.isoformat()
    assert rows[1]["billing_code"] == "proj"
    assert [r["user"] for r in cli.json("history", "--user", "bob")] == ["bob"]
    assert [r["user"] for r in cli.json("history", "--since", "20261125")] == ["bob"]
    assert [r["user"] for r in cli.json("history", "--until", "2026-11-24")] == ["alice"]
    assert [r["user"] for r in cli.json("history", "--limit", "1")] == ["bob"]
    cli("history", "--user", "ghost", code=5)
    cli("history", "--since", "yesterdayish", code=2)
    text = cli("history").stdout
    assert "alice" in text and "a.pdf" in text


def test_machine_formats_are_pinned(cli: Cli) -> None:
    """Scripts depend on these: adding a field is fine, renaming or removing is not."""
    setup_story(cli)
    job(cli, "-u", "bob", "-P", "lp1", "-p", "1")
    assert list(cli.json("report")[0]) == [
        "printer",
        "name",
        "kind",
        "limit_by",
        "flag",
        "overcharge",
        "page_counter",
        "life_page_counter",
        "soft_limit",
        "hard_limit",
        "balance",
        "life_time_paid",
        "grace_until",
        "status",
        "warn_count",
    ]
    assert list(cli.json("history")[0]) == [
        "id",
        "date",
        "user",
        "printer",
        "pages",
        "color_pages",
        "copies",
        "price",
        "action",
        "reason",
        "billing_code",
        "host",
        "title",
        "job_id",
    ]
    header = cli("history", "--format", "csv").stdout.splitlines()[0]
    assert header == (
        "id,date,user,printer,pages,color_pages,copies,price,action,reason,"
        "billing_code,host,title,job_id"
    )
