"""docs/cli.md is what `--help` says; PyKota's command names translate faithfully."""

from __future__ import annotations

import csv
import io
from pathlib import Path

import pytest

from pagetally.cli.aliases import dumpykota_args, edpykota_args, repykota_args
from pagetally.cli.docs import render
from pagetally.cli.main import app
from tests.cli.conftest import Cli

DOCS = Path(__file__).resolve().parents[2] / "docs" / "cli.md"


def test_cli_reference_is_up_to_date() -> None:
    assert DOCS.read_text() == render(app), (
        "docs/cli.md is out of date: run `.venv/bin/python -m pagetally.cli.main docs "
        "> docs/cli.md`"
    )


def test_every_command_is_documented() -> None:
    text = DOCS.read_text()
    for section in (
        "pagetally users add",
        "pagetally printers add-to-group",
        "pagetally quotas set",
        "pagetally jobs add",
        "pagetally report",
        "pagetally history",
        "pagetally dump",
        "pagetally allowances run",
        "pagetally db upgrade",
        "pagetally payments refund",
    ):
        assert f"## `{section}`" in text


def test_dumpykota_translation() -> None:
    assert dumpykota_args(["-d", "users", "-f", "ssv", "username=jo*"])[0] == [
        "dump",
        "users",
        "username=jo*",
        "--format",
        "ssv",
        "--output",
        "-",
    ]
    assert dumpykota_args([])[0][:2] == ["dump", "history"]


def test_repykota_and_edpykota_translation() -> None:
    assert repykota_args(["-g", "-P", "lp1,lp2", "staff"])[0] == [
        "report",
        "--group",
        "--printer",
        "lp1",
        "--printer",
        "lp2",
        "staff",
    ]
    assert edpykota_args(["-P", "lp1", "-S", "50", "-H", "60", "jo"]) == [
        [
            "quotas",
            "set",
            "--printer",
            "lp1",
            "--soft",
            "50",
            "--hard",
            "60",
            "--only-existing",
            "jo",
        ]
    ]
    assert edpykota_args(["-a", "-P", "lp1", "jo"]) == [["quotas", "set", "--printer", "lp1", "jo"]]
    assert edpykota_args(["-r", "jo"]) == [["quotas", "reset", "--printer", "*", "--used=0", "jo"]]
    assert edpykota_args(["-d", "-g", "-P", "lp1", "staff"])[0] == [
        "quotas",
        "delete",
        "--group",
        "--printer",
        "lp1",
        "staff",
    ]


def test_aliases_run_the_same_code(
    cli: Cli, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    from pagetally.cli import aliases

    cli("users", "add", "jo", "ann")
    cli("printers", "add", "lp1")
    monkeypatch.setenv("PAGETALLY_CONFIG", str(cli.conf))
    monkeypatch.setattr("sys.argv", ["edpykota", "-a", "-P", "lp1", "-S", "5", "-H", "9", "jo"])
    with pytest.raises(SystemExit) as done:
        aliases.edpykota()
    assert done.value.code == 0
    monkeypatch.setattr("sys.argv", ["dumpykota", "-d", "upquotas", "username=jo"])
    capsys.readouterr()
    with pytest.raises(SystemExit) as done:
        aliases.dumpykota()
    assert done.value.code == 0
    rows = list(csv.DictReader(io.StringIO(capsys.readouterr().out)))
    assert [(r["username"], r["softlimit"], r["hardlimit"]) for r in rows] == [("jo", "5", "9")]
    monkeypatch.setattr("sys.argv", ["repykota", "-P", "lp1"])
    with pytest.raises(SystemExit) as done:
        aliases.repykota()
    assert done.value.code == 0
    assert "Report for user quota on printer lp1" in capsys.readouterr().out


def test_pkusers_pkprinters_pkbcodes_translation() -> None:
    from pagetally.cli.aliases import pkbcodes_args, pkprinters_args, pkusers_args

    assert pkusers_args(["--add", "-l", "balance", "-b", "+10", "-C", "cash", "jo", "ann"]) == [
        ["users", "add", "jo", "ann", "--skip-existing", "--limit-by", "balance"],
        ["users", "edit", "jo", "ann", "--limit-by", "balance"],
        ["payments", "credit", "jo", "ann", "10", "--note", "cash"],
    ]
    assert pkusers_args(["-i", "it,coders", "jo"]) == [
        ["groups", "add-members", "it", "jo"],
        ["groups", "add-members", "coders", "jo"],
    ]
    assert pkusers_args(["-b", "-2", "jo"]) == [["payments", "debit", "jo", "2", "--note", ""]]
    assert pkusers_args(["--groups", "--delete", "staff"]) == [["groups", "delete", "staff"]]
    assert pkusers_args(["-b", "10", "jo"]) == [
        ["payments", "set-balance", "jo", "10", "--note", ""]
    ]
    assert pkprinters_args(["-a", "-c", "0.05,0.1", "-g", "floor", "lp1"]) == [
        ["printers", "add", "lp1", "--skip-existing"],
        ["printers", "edit", "lp1", "--price-per-page=0.05", "--price-per-job=0.1"],
        ["printers", "add-to-group", "floor", "lp1"],
    ]
    assert pkbcodes_args(["-r", "proj*"]) == [["billing-codes", "edit", "proj*", "--balance", "0"]]


def test_pkusers_runs(cli: Cli, monkeypatch: pytest.MonkeyPatch) -> None:
    from pagetally.cli import aliases

    monkeypatch.setenv("PAGETALLY_CONFIG", str(cli.conf))
    cli("groups", "add", "it")
    monkeypatch.setattr(
        "sys.argv", ["pkusers", "-a", "-l", "balance", "-b", "+3", "-i", "it", "jo"]
    )
    with pytest.raises(SystemExit) as done:
        aliases.pkusers()
    assert done.value.code == 0
    u = cli.json("users", "list")[0]
    assert (u["name"], u["limit_by"], u["balance"]) == ("jo", "balance", "3.00")
    assert cli.json("groups", "list")[0]["members"] == ["jo"]
    monkeypatch.setattr("sys.argv", ["pkusers", "-i", "nogroup", "jo"])
    with pytest.raises(SystemExit) as done:
        aliases.pkusers()
    assert done.value.code == 5
