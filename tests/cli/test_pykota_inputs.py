"""Numbers checked like money, names that are not UTF-8, values beyond any column:
a clear error (exit 2), never an internal error (exit 70), nothing changed."""

from __future__ import annotations

import pytest

from tests.cli.conftest import Cli

BIG = "9" * 32


@pytest.fixture
def site(cli: Cli) -> Cli:
    cli("users", "add", "ann")
    cli("printers", "add", "lp")
    cli("quotas", "set", "ann", "-P", "lp")
    return cli


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("users", "credit", "ann", BIG), "too large"),
        (("users", "credit", "ann", "1.505"), "more decimal places than EUR has (2)"),
        (("users", "credit", "ann", "٣"), "is not a number"),
        (("users", "credit", "ann", "1,50"), "with a dot for the decimals (1.50)"),
        (("payments", "set-balance", "ann", "0.001"), "more decimal places"),
        (("users", "add", "bob", "--balance", BIG), "too large"),
        (("allowances", "add", "ann", "--credit", "0.333"), "more decimal places"),
        (("printers", "edit", "lp", "--price-per-page", BIG), "too large"),
        (("users", "edit", "ann", "--overcharge", BIG), "too large"),
        (("quotas", "set", "ann", "-P", "lp", "--soft", "1e23"), "valid integer"),
        (("quotas", "set", "ann", "-P", "lp", "--soft", "99999999999999999999999"), "out of range"),
        (("quotas", "set", "ann", "-P", "lp", "--hard", "3000000000"), "out of range"),
        (
            ("jobs", "add", "-u", "ann", "-P", "lp", "-p", str(2**62), "--copies", "4"),
            "out of range",
        ),
        (
            ("jobs", "add", "-u", "ann", "-P", "lp", "-p", str(2**20), "--copies", str(2**20)),
            "--pages × --copies",
        ),
        (("quotas", "reset", "ann", "-P", "lp", "--used", str(2**64)), "out of range"),
        (("allowances", "add", "ann", "--pages", str(2**40)), "out of range"),
        (("users", "add", "a\udcff"), "'a\\xff' is not UTF-8 text"),
        (("users", "list", "a\udcffb"), "not UTF-8 text"),
        (("history", "-u", "\udcff"), "not UTF-8 text"),
        (("billing-codes", "add", "x\udcfe"), "not UTF-8 text"),
    ],
)
def test_bad_numbers_and_names_are_clear_errors(
    site: Cli, args: tuple[str, ...], message: str
) -> None:
    before = site.snapshot()
    r = site(*args, code=2)
    assert message in r.stderr and "internal error" not in r.stderr
    assert site.snapshot() == before


def test_payments_in_the_currencys_units(site: Cli) -> None:
    site("users", "credit", "ann", "1.50")
    site("payments", "set-balance", "ann", "10")  # pkusers --balance 10.0: absolute
    assert site.json("users", "list")[0]["balance"] == "10.00"
    site.conf.write_text(site.conf.read_text() + "currency: JPY\n")
    site("users", "credit", "ann", "1.5", code=2)
    site("users", "credit", "ann", "100")


def test_smaller_findings(site: Cli) -> None:
    # "unknown printer" exits 5 everywhere it is named
    for args in (
        ("quotas", "list", "-P", "nosuch"),
        ("report", "-P", "nosuch"),
        ("quotas", "set", "ann", "-P", "nosuch"),
        ("history", "-P", "nosuch"),
    ):
        assert "nosuch" in site(*args, code=5).stderr
    # history -u for a user PageTally does not know shows the refused jobs
    site("jobs", "add", "-u", "ghost", "-P", "lp", "-p", "1", "--job-id", "4711", code=1)
    rows = site.json("history", "-u", "ghost")
    assert [(r["user"], r["action"], r["job_id"]) for r in rows] == [("ghost", "deny", "4711")]
    site("history", "-u", "nobody-at-all", code=5)
    table = site("history").stdout
    assert "job" in table and "4711" in table  # the CUPS job id in the table
    # groups list with 50 members keeps its columns
    members = [f"member{i:02d}" for i in range(50)]
    site("users", "add", *members)
    site("groups", "add", "big", "--description", "fifty")
    site("groups", "add-members", "big", *members)
    out = site("groups", "list").stdout
    line = next(x for x in out.splitlines() if "big" in x)
    assert "fifty" in line and "(+42 more)" in line
    assert site.json("groups", "list")[0]["members"] == members
    # help texts that match behaviour (docs/cli.md is the help, generated)
    from pagetally.cli.docs import render
    from pagetally.cli.main import app

    docs = render(app)
    add = docs.split("## `pagetally users add`")[1].split("## ")[0]
    assert "exact names, no wildcards" in add
    reset = docs.split("## `pagetally quotas reset`")[1].split("## ")[0]
    assert "-g, --group" in reset
    assert "<bool>" not in docs and "list[str]" not in docs
    assert "wildcard" in site("users", "add", "stud*", code=2).stderr
