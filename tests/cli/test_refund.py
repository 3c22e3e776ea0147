"""`pagetally jobs refund` and `pkrefund`: what an admin sees, and what changes."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from pagetally.cli.aliases import pkrefund_args
from pagetally.cli.main import app
from tests.cli.conftest import Cli
from tests.cli.test_servers import admin_and_reader
from tests.servers import ServerInfo, mariadb_server, postgresql_server  # noqa: F401


def setup_story(cli: Cli) -> None:
    """bob (balance 5, limit by balance) prints on lp1 (0.10 a page) inside floor."""
    cli("printers", "add", "lp1", "--price-per-page", "0.10")
    cli("printers", "add", "floor")
    cli("printers", "add-to-group", "floor", "lp1")
    cli("users", "add", "bob", "--limit-by", "balance", "--balance", "5")
    cli("quotas", "set", "--printer", "lp1", "bob")
    cli("quotas", "set", "--printer", "floor", "bob")
    cli("billing-codes", "add", "proj")
    cli("billing-codes", "edit", "proj", "--balance", "10")


def charge(cli: Cli, job_id: str, pages: str = "12", *extra: str, code: int = 0) -> int:
    r = cli(
        "jobs",
        "add",
        "--json",
        "-u",
        "bob",
        "-P",
        "lp1",
        "-p",
        pages,
        "--job-id",
        job_id,
        *extra,
        code=code,
    )
    row: int = json.loads(r.stdout)["job"]
    return row


def balance(cli: Cli) -> str:
    return str(cli.json("users", "list")[0]["balance"])


def report(cli: Cli) -> list[tuple[str, int, int]]:
    return [(r["printer"], r["page_counter"], r["life_page_counter"]) for r in cli.json("report")]


def test_refund_by_printer_and_cups_id(cli: Cli) -> None:
    setup_story(cli)
    charge(cli, "42", "12", "--billing-code", "proj")
    assert balance(cli) == "3.80"
    r = cli("jobs", "refund", "42", "--printer", "lp1", "--reason", "paper jam", "--force")
    assert r.stdout == (
        "refunded job 42 on lp1 (row 1, bob): 1.20 EUR; bob's balance is now 5.00 EUR\n"
    )
    assert balance(cli) == "5.00"
    pays = cli.json("payments", "list", "--user", "bob")
    assert [(p["kind"], p["amount"], p["description"]) for p in pays] == [
        ("credit", "5.00", "initial balance"),
        ("refund", "1.20", "Refund of job 42 on lp1: 1.20 EUR; paper jam"),
    ]
    # money only: the report still counts the pages
    assert report(cli) == [("floor", 12, 12), ("lp1", 12, 12)]
    hist = cli.json("history")
    assert [(h["id"], h["action"], h["price"], h["pages"]) for h in hist] == [
        (1, "refund", "1.20", 12)
    ]
    assert (
        hist[0]["reason"]
        == "Refund of job 42 on lp1: 1.20 EUR; paper jam (was allow: Within every limit)"
    )
    dumped = cli.json("dump", "history")
    assert [(d["action"], d["jobprice"]) for d in dumped] == [("refund", "1.20")]
    assert "refund" in cli("history").stdout
    code = cli.json("billing-codes", "list")[0]
    assert (code["balance"], code["page_counter"]) == ("10.00", 12)


def test_partial_refund_with_pages_by_row_id(cli: Cli) -> None:
    setup_story(cli)
    charge(cli, "1", "10")
    row = charge(cli, "2", "20", "--billing-code", "proj")
    r = cli("jobs", "refund", str(row), "--fraction", "0.5", "--pages", "--force", "--json")
    out = json.loads(r.stdout)
    assert [(o["job"], o["amount"], o["pages"], o["balance_after"]) for o in out] == [
        (row, "1.00", 20, "3.00")
    ]
    assert balance(cli) == "3.00"  # 5 - 1 - 2 + 1
    assert report(cli) == [("floor", 10, 10), ("lp1", 10, 10)]
    code = cli.json("billing-codes", "list")[0]
    assert (code["balance"], code["page_counter"]) == ("9.00", 0)


def test_refused_refunds_change_nothing(cli: Cli) -> None:
    setup_story(cli)
    row = charge(cli, "42", "12")
    cli("jobs", "refund", str(row), "--force")
    cli("users", "edit", "bob", "--limit-by", "noprint")
    denied = charge(cli, "43", "100", code=1)
    cli("users", "edit", "bob", "--limit-by", "balance")
    good = charge(cli, "44", "1")
    before = cli.snapshot()
    r = cli("jobs", "refund", str(row), "--force", code=2)
    assert "job 42 was refunded already" in r.stderr
    r = cli("jobs", "refund", str(denied), "--force", code=2)
    assert "job 43 was not charged (action deny): nothing to refund" in r.stderr
    r = cli("jobs", "refund", "99", "--force", code=5)
    assert "job '99' does not exist" in r.stderr
    r = cli("jobs", "refund", "42", "--printer", "floor", "--force", code=5)
    assert "job '42 on floor' does not exist" in r.stderr
    r = cli("jobs", "refund", "abc", "--force", code=2)
    assert "'abc' is not a history row id: give --printer" in r.stderr
    r = cli("jobs", "refund", str(good), "--fraction", "1.5", "--force", code=2)
    assert "between 0 and 1" in r.stderr
    # one bad job among good ones: nothing is refunded
    r = cli("jobs", "refund", str(good), str(row), "--force", code=2)
    assert r.stdout == ""
    assert cli.snapshot() == before
    assert cli.json("history")[-1]["action"] == "allow"
    assert balance(cli) == "4.90"


def test_ambiguous_cups_id_lists_the_rows(cli: Cli) -> None:
    setup_story(cli)
    first = charge(cli, "7", "1", "--host", "pc1")
    second = charge(cli, "7", "2", "--host", "pc2")
    r = cli("jobs", "refund", "7", "-P", "lp1", "--force", code=2)
    msg = " ".join(r.stderr.split())
    assert "CUPS job 7 on lp1 matches 2 history rows" in msg
    assert f"row {first}, bob" in msg and f"row {second}, bob" in msg and "from pc2" in msg
    assert "Name one by its row id" in msg
    cli("jobs", "refund", str(second), "--force")
    assert [h["action"] for h in cli.json("history")] == ["allow", "refund"]


def test_refund_asks_first_without_force(cli: Cli) -> None:
    setup_story(cli)
    row = charge(cli, "5", "3")
    args = ["--config", str(cli.conf), "jobs", "refund", str(row)]
    r = cli.runner.invoke(app, args, obj=cli.env(), input="n\n")
    assert r.exit_code == 0
    assert "Refund 0.30 EUR for job 5 on lp1 (row 1, bob" in r.stdout
    assert "skipped job 5" in r.stderr
    assert balance(cli) == "4.70"
    r = cli.runner.invoke(app, args, obj=cli.env(), input="y\n")
    assert r.exit_code == 0 and "refunded job 5" in r.stdout
    assert balance(cli) == "5.00"


@pytest.mark.parametrize(
    ("argv", "expected"),
    [
        (["-f", "12"], ["jobs", "refund", "12", "--force"]),
        (
            ["--force", "--reason", "jam", "-P", "lp1", "42", "43"],
            ["jobs", "refund", "42", "43", "--printer", "lp1", "--reason", "jam", "--force"],
        ),
        (
            ["-r", "jam", "jobid=42", "printername=lp1"],
            [
                "jobs",
                "refund",
                "--filter",
                "jobid=42",
                "--filter",
                "printername=lp1",
                "--reason",
                "jam",
            ],
        ),
        (
            ["--force", "username=jerome", "printername=HP2100"],  # man pkrefund, verbatim
            [
                "jobs",
                "refund",
                "--filter",
                "username=jerome",
                "--filter",
                "printername=HP2100",
                "--force",
            ],
        ),
    ],
)
def test_pkrefund_translation(argv: list[str], expected: list[str]) -> None:
    assert pkrefund_args(argv) == [expected]


def test_pkrefund_refuses_what_it_cannot_translate() -> None:
    with pytest.raises(SystemExit, match="pkrefund: name the jobs"):
        pkrefund_args(["-f"])


def test_pkrefund_runs_the_refund(
    cli: Cli, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    from pagetally.cli import aliases

    setup_story(cli)
    charge(cli, "42", "12")
    monkeypatch.setenv("PAGETALLY_CONFIG", str(cli.conf))
    argv = ["pkrefund", "-f", "-r", "jam", "jobid=42", "printername=lp1"]
    monkeypatch.setattr("sys.argv", argv)
    capsys.readouterr()
    with pytest.raises(SystemExit) as done:
        aliases.pkrefund()
    assert done.value.code == 0
    assert capsys.readouterr().out.startswith("refunded job 42 on lp1 (row 1, bob): 1.20 EUR")
    assert balance(cli) == "5.00"
    with pytest.raises(SystemExit) as done:
        aliases.pkrefund()
    assert done.value.code == 5  # by filters: no charged job is left to refund
    assert "charged job" in capsys.readouterr().err


def refund_on(server: ServerInfo, tmp_path: Path) -> None:
    """The admin refunds on a server; the read-only role cannot."""
    _s, admin, reader = admin_and_reader(server, tmp_path, setup_story)
    row = charge(admin, "42", "12", "--billing-code", "proj")
    r = reader("jobs", "refund", str(row), "--force", code=7)
    assert "read-only credentials" in r.stderr
    r = admin("jobs", "refund", "42", "-P", "lp1", "--pages", "--fraction", "0.25", "--force")
    assert r.stdout == (
        "refunded job 42 on lp1 (row 1, bob): 0.30 EUR and 12 pages; "
        "bob's balance is now 4.10 EUR\n"
    )
    assert balance(admin) == "4.10"
    assert report(admin) == [("floor", 0, 0), ("lp1", 0, 0)]
    code = admin.json("billing-codes", "list")[0]
    assert (code["balance"], code["page_counter"]) == ("9.10", 0)
    assert [(h["action"], h["price"]) for h in reader.json("history")] == [("refund", "1.20")]
    assert "refunded already" in admin("jobs", "refund", str(row), "--force", code=2).stderr


@pytest.mark.slow
@pytest.mark.postgresql
def test_refund_on_postgresql(postgresql_server: ServerInfo, tmp_path: Path) -> None:  # noqa: F811
    refund_on(postgresql_server, tmp_path)


@pytest.mark.slow
@pytest.mark.mariadb
def test_refund_on_mariadb(mariadb_server: ServerInfo, tmp_path: Path) -> None:  # noqa: F811
    refund_on(mariadb_server, tmp_path)
