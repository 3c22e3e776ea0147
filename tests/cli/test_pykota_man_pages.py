"""Each example of PyKota 1.27's man pages (pkusers, pkprinters, pkbcodes, repykota,
dumpykota, pkrefund), verbatim, against a scratch store: what PyKota said it does."""

from __future__ import annotations

import csv
import io
from datetime import UTC, datetime
from pathlib import Path

import pytest

from pagetally.cli.aliases import edpykota_args, pkprinters_args
from tests.cli.conftest import Cli
from tests.cli.test_pykota_edits import pykota

Cap = pytest.CaptureFixture[str]


def users(cli: Cli) -> dict[str, dict[str, str]]:
    return {u["name"]: u for u in cli.json("users", "list")}


def test_pkusers_examples(cli: Cli, capsys: Cap) -> None:
    pykota(cli, capsys, "pkusers", "--add", "john", "paul", "george", "ringo/ringo@example.com")
    got = users(cli)
    assert sorted(got) == ["george", "john", "paul", "ringo"]
    assert got["ringo"]["email"] == "ringo@example.com" and got["john"]["email"] is None
    pykota(cli, capsys, "pkusers", "--add", "--groups", "coders", "it")
    assert [g["name"] for g in cli.json("groups", "list")] == ["coders", "it"]
    pykota(cli, capsys, "pkusers", "--add", "--ingroups", "coders,it", "jerome")
    assert all(g["members"] == ["jerome"] for g in cli.json("groups", "list"))
    pykota(cli, capsys, "pkusers", "--limitby", "balance", "--balance", "10.0", "john")
    assert (users(cli)["john"]["limit_by"], users(cli)["john"]["balance"]) == ("balance", "10.00")
    pykota(cli, capsys, "pkusers", "--balance", "10.0", "john")  # absolute: unchanged
    assert users(cli)["john"]["balance"] == "10.00"
    pykota(
        cli,
        capsys,
        "pkusers",
        "--balance",
        "+10.0",
        "--comment",
        "He paid with his blood.",
        "jerome",
    )
    assert users(cli)["jerome"]["balance"] == "10.00"
    notes = [p["description"] for p in cli.json("payments", "list", "-u", "jerome")]
    assert notes == ["He paid with his blood."]
    pykota(cli, capsys, "pkusers", "--email", "@example.com")
    assert users(cli)["paul"]["email"] == "paul@example.com"
    assert users(cli)["ringo"]["email"] == "ringo@example.com"
    # "pkusers --overcharge -1 jerome: User jerome will actually earn money
    # whenever he prints" (PyKota's man page): a negative factor is taken
    cli("users", "add", "theboss", "--limit-by", "balance", "--balance", "1.00")
    pykota(cli, capsys, "pkusers", "--overcharge", "-1.50", "theboss")
    assert users(cli)["theboss"]["overcharge"] == "-1.50"
    cli("printers", "add", "lp0", "--price-per-page", "0.10")
    cli("quotas", "set", "theboss", "-P", "lp0")
    cli("jobs", "add", "--user", "theboss", "--printer", "lp0", "--pages", "2")
    assert users(cli)["theboss"]["balance"] == "1.30"  # 2 × 0.10 × -1.50 earned
    out, _ = pykota(cli, capsys, "pkusers", "--list")
    assert "jerome" in out and "ringo" in out
    cli("users", "add", "rachel", "jerry")
    pykota(cli, capsys, "pkusers", "--delete", "jer*", "rach*")
    assert sorted(users(cli)) == ["george", "john", "paul", "ringo", "theboss"]


def test_pkprinters_examples(cli: Cli, capsys: Cap) -> None:
    argv = ["--add", "--cups", "-D", "HP Printer", "--charge", "0.05,0.1", "hp2100", "hp2200"]
    assert pkprinters_args(argv)[-1] == ["setup", "cups", "hp2100", "hp2200"]
    pykota(cli, capsys, "pkprinters", *[a for a in argv if a != "--cups"])
    by = {p["name"]: p for p in cli.json("printers", "list")}
    assert (by["hp2100"]["price_per_page"], by["hp2100"]["price_per_job"]) == ("0.05", "0.10")
    assert by["hp2200"]["description"] == "HP Printer"
    pykota(cli, capsys, "pkprinters", "--add", "Laser", "HP", "Lexmark")
    pykota(cli, capsys, "pkprinters", "--groups", "Laser,HP", "hp*")
    pykota(cli, capsys, "pkprinters", "--groups", "Lexmark", "hp2200")
    pykota(cli, capsys, "pkprinters", "--groups", "Lexmark", "--remove", "hp2200")
    assert cli.json("printers", "list", "hp2200")[0]["groups"] == ["HP", "Laser"] or sorted(
        cli.json("printers", "list", "hp2200")[0]["groups"]
    ) == ["HP", "Laser"]
    pykota(cli, capsys, "pkprinters", "--maxjobsize", "unlimited", "hp2100")
    pykota(cli, capsys, "pkprinters", "--delete", "*")
    assert cli.json("printers", "list") == []


def test_pkbcodes_examples(cli: Cli, capsys: Cap) -> None:
    pykota(cli, capsys, "pkbcodes", "-D", "Financial Department", "financial")  # no --add
    codes = cli.json("billing-codes", "list")
    assert [(c["code"], c["description"]) for c in codes] == [("financial", "Financial Department")]
    pykota(cli, capsys, "pkbcodes", "-D", "Finance", "financial")  # again: describes it
    assert cli.json("billing-codes", "list")[0]["description"] == "Finance"
    out, _ = pykota(cli, capsys, "pkbcodes", "--list")
    assert "financial" in out
    pykota(cli, capsys, "pkbcodes", "--delete", "fin*")
    assert cli.json("billing-codes", "list") == []


@pytest.fixture
def printed(cli: Cli) -> Cli:
    """jerome, joe and ann printed on HP2100, laser1 and epson (today, real clock:
    PyKota's date filters are relative to now)."""
    cli.now[0] = datetime.now(UTC)
    cli("printers", "add", "HP2100", "laser1", "epson", "--price-per-page", "0.10")
    cli("users", "add", "jerome", "joe", "ann", "--balance", "5")
    cli("groups", "add", "staff")
    cli("groups", "add-members", "staff", "joe")
    cli("quotas", "set", "*", "-P", "*", "--hard", "100")
    for n, (user, prn) in enumerate(
        [
            ("jerome", "HP2100"),
            ("jerome", "HP2100"),
            ("joe", "laser1"),
            ("ann", "epson"),
            ("jerome", "epson"),
        ]
    ):
        cli("jobs", "add", "-u", user, "-P", prn, "-p", "3", "--job-id", str(503 + n))
    return cli


def test_repykota_examples(printed: Cli, capsys: Cap) -> None:
    out, _ = pykota(printed, capsys, "repykota")
    assert all(f"Report for user quota on printer {p}" in out for p in ("HP2100", "epson"))
    out, _ = pykota(printed, capsys, "repykota", "--printer", "HP2100")
    assert "printer HP2100" in out and "printer epson" not in out
    out, _ = pykota(printed, capsys, "repykota", "--printer", "laser*,*pson", "jerome", "jo*")
    assert "printer laser1" in out and "printer epson" in out and "HP2100" not in out
    assert "ann" not in out
    out, _ = pykota(printed, capsys, "repykota", "--ingroups", "staff")
    assert "joe" in out and "jerome" not in out


def dumped(out: str) -> list[dict[str, str]]:
    return list(csv.DictReader(io.StringIO(out)))


def test_dumpykota_examples(
    printed: Cli, capsys: Cap, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    out, _ = pykota(printed, capsys, "dumpykota", "--data", "history", "--format", "csv")
    assert len(dumped(out)) == 5
    monkeypatch.chdir(tmp_path)
    pykota(printed, capsys, "dumpykota", "--data", "users", "--format", "xml", "-o", "users.xml")
    assert "jerome" in (tmp_path / "users.xml").read_text()
    out, _ = pykota(
        printed, capsys, "dumpykota", "--data", "history", "printername=HP2100", "username=jerome"
    )
    assert [r["jobid"] for r in dumped(out)] == ["503", "504"]
    year = datetime.now(UTC).year
    out, _ = pykota(
        printed,
        capsys,
        "dumpykota",
        "--data",
        "history",
        f"start={year}01",
        f"end={year}1231235959",
    )
    assert len(dumped(out)) == 5
    out, _ = pykota(
        printed, capsys, "dumpykota", "--data", "history", "start=200503", "end=20050730234615"
    )
    assert dumped(out) == []
    out, _ = pykota(printed, capsys, "dumpykota", "-d", "history", "jobid=505")
    assert [r["username"] for r in dumped(out)] == ["joe"]
    out, _ = pykota(printed, capsys, "dumpykota", "-d", "history", "--sum", "username=jerome")
    rows = dumped(out)
    assert [(r["username"], r["jobsize"], r["jobprice"]) for r in rows] == [
        ("jerome", "9", "0.900000")
    ] or [(r["username"], r["jobsize"]) for r in rows] == [("jerome", "9")]
    out, _ = pykota(printed, capsys, "dumpykota", "-d", "payments", "--sum")
    assert {r["username"]: r["amount"] for r in dumped(out)}["jerome"].startswith("5")
    out, _ = pykota(printed, capsys, "dumpykota", "-d", "users", "-O", "-username")
    assert [r["username"] for r in dumped(out)] == ["joe", "jerome", "ann"]
    _, err = pykota(printed, capsys, "dumpykota", "-d", "users", "-O", "nosuch", code=2)
    assert "has no column 'nosuch'" in err


def test_pkrefund_examples(printed: Cli, capsys: Cap, monkeypatch: pytest.MonkeyPatch) -> None:
    def balance(user: str) -> str:
        return str(users(printed)[user]["balance"])

    monkeypatch.setattr("sys.stdin", io.StringIO("y\n"))
    _, err = pykota(printed, capsys, "pkrefund", "--output", "/tmp/receipts.pdf", "jobid=503")
    assert "1 receipt(s)" in err and balance("jerome") == "4.40"  # 5 - 0.90 + 0.30
    assert Path("/tmp/receipts.pdf").read_bytes().startswith(b"%PDF")
    monkeypatch.setattr("sys.stdin", io.StringIO("y\n"))
    pykota(
        printed, capsys, "pkrefund", "--reason", "Hardware problem", "jobid=505", "start=today-7"
    )
    assert balance("joe") == "5.00"
    pykota(printed, capsys, "pkrefund", "--force", "username=jerome", "printername=HP2100")
    assert balance("jerome") == "4.70"  # job 504 (503 was refunded already)
    pykota(
        printed, capsys, "pkrefund", "--force", "printername=epson", "start=200602", "end=tomorrow"
    )
    assert (balance("ann"), balance("jerome")) == ("5.00", "5.00")


def test_edpykota_list_and_bad_combinations(cli: Cli) -> None:
    assert edpykota_args(["-L", "jo*"]) == [["quotas", "list", "--printer", "*", "jo*"]]
    with pytest.raises(SystemExit, match="incompatible"):
        edpykota_args(["--delete", "--softlimit", "5", "jo"])


def test_every_alias_has_config_version_and_argument_files(
    cli: Cli, capsys: Cap, tmp_path: Path
) -> None:
    cli("users", "add", "jerome")
    args = tmp_path / "args"
    args.write_text("--list\n\njerome\n")
    for tool in ("pkusers", "edpykota", "pkprinters", "pkbcodes", "repykota", "dumpykota"):
        pykota(
            cli, capsys, tool, "-A", str(args) if tool in ("pkusers", "pkbcodes") else "/dev/null"
        )
        with pytest.raises(SystemExit) as done:
            from pagetally.cli import aliases

            getattr(aliases, f"{tool}_args")(["--version"])
        assert done.value.code == 0
        assert "PageTally" in capsys.readouterr().out
    out, _ = pykota(cli, capsys, "pkusers", "-A", str(args))
    assert "jerome" in out
    _, err = pykota(cli, capsys, "pkusers", "-A", str(tmp_path / "none"), code=2)
    assert "cannot read the arguments file" in err
