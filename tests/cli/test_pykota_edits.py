"""PyKota admins lose nothing: edits change only what they name, resets from cron
reset whoever has an entry. Command lines are PyKota's (man edpykota, 1.27) verbatim."""

from __future__ import annotations

from collections.abc import Callable, Sequence

import pytest

from pagetally.cli import aliases
from tests.cli.conftest import Cli

Translate = Callable[[Sequence[str]], list[list[str]]]


def pykota(
    cli: Cli, capsys: pytest.CaptureFixture[str], tool: str, *args: str, code: int = 0
) -> tuple[str, str]:
    """Run a PyKota command name (its argv as a site's cron job would give it)
    against the scratch store; returns (stdout, stderr)."""
    translate: Translate = getattr(aliases, f"{tool}_args")
    capsys.readouterr()
    try:
        aliases._pagetally_all(translate(["--config", str(cli.conf), *args]), tool)
    except SystemExit as done:
        got = done.code if isinstance(done.code, int) else (0 if done.code is None else 2)
        out, err = capsys.readouterr()
        assert got == code, f"exit {done.code} != {code}\n{out}\n{err}"
        return out, err
    raise AssertionError("the alias did not exit")


def limits(cli: Cli) -> dict[tuple[str, str], tuple[int | None, int | None]]:
    return {
        (q["name"], q["printer"]): (q["soft_limit"], q["hard_limit"])
        for q in cli.json("quotas", "list")
    }


@pytest.fixture
def site(cli: Cli) -> Cli:
    cli("users", "add", "john", "paul", "george", "ringo", "jerome", "joe")
    cli("printers", "add", "HP", "lp")
    return cli


def test_add_never_overwrites_limits(site: Cli, capsys: pytest.CaptureFixture[str]) -> None:
    site("quotas", "set", "john", "-P", "lp", "--soft", "50", "--hard", "60")
    pykota(site, capsys, "edpykota", "--add", "john", "paul", "george", "ringo")
    got = limits(site)
    assert got[("john", "lp")] == (50, 60)
    assert got[("paul", "lp")] == (None, None) and got[("john", "HP")] == (None, None)
    site("quotas", "set", "*", "-P", "*")
    assert limits(site)[("john", "lp")] == (50, 60)
    assert len(limits(site)) == 12  # everyone now has an entry; nobody lost a limit


def test_soft_only_keeps_or_follows_pykotas_rule(
    site: Cli, capsys: pytest.CaptureFixture[str]
) -> None:
    site("quotas", "set", "john", "-P", "lp", "--soft", "50", "--hard", "80")
    site("quotas", "set", "john", "-P", "lp", "--soft", "70")
    assert limits(site)[("john", "lp")] == (70, 80)  # pagetally: only what is named
    site("quotas", "set", "paul", "-P", "lp", "--soft", "70")
    assert limits(site)[("paul", "lp")] == (70, 70)  # a new entry: hard = soft
    _, err = pykota(site, capsys, "edpykota", "-P", "lp", "--softlimit", "40", "john")
    assert "hard limit set to soft limit (40)" in err
    assert limits(site)[("john", "lp")] == (40, 40)  # PyKota's rule, said on stderr
    r = site("quotas", "set", "john", "-P", "lp", "--soft", "90", code=2)
    assert "above the hard limit 40" in r.stderr
    assert limits(site)[("john", "lp")] == (40, 40)


def test_edpykota_man_page_examples(site: Cli, capsys: pytest.CaptureFixture[str]) -> None:
    site("groups", "add", "support", "financial")
    pykota(site, capsys, "edpykota", "--add", "john", "paul", "george", "ringo")
    assert {k for k in limits(site)} == {
        (u, p) for u in ("john", "paul", "george", "ringo") for p in ("HP", "lp")
    }
    pykota(
        site,
        capsys,
        "edpykota",
        "--printer",
        "HP",
        "--softlimit",
        "50",
        "--hardlimit",
        "60",
        "jerome",
    )  # no --add: PyKota changed existing entries only
    assert ("jerome", "HP") not in limits(site)
    pykota(
        site,
        capsys,
        "edpykota",
        "--add",
        "--printer",
        "HP",
        "--softlimit",
        "50",
        "--hardlimit",
        "60",
        "jerome",
    )
    assert limits(site)[("jerome", "HP")] == (50, 60)
    pykota(
        site,
        capsys,
        "edpykota",
        "--groups",
        "--add",
        "--softlimit",
        "500",
        "--hardlimit",
        "600",
        "support",
        "financial",
    )
    groups = site.json("quotas", "list", "--group")
    assert {(g["name"], g["printer"], g["soft_limit"], g["hard_limit"]) for g in groups} == {
        (g, p, 500, 600) for g in ("support", "financial") for p in ("HP", "lp")
    }
    site("jobs", "add", "-u", "jerome", "-P", "HP", "-p", "7")
    site("jobs", "add", "-u", "john", "-P", "HP", "-p", "3")
    pykota(site, capsys, "edpykota", "--reset", "--printer", "HP", "jerome", "jo*")
    used = {
        (q["name"], q["printer"]): (q["page_counter"], q["life_page_counter"])
        for q in site.json("quotas", "list")
    }
    assert used[("jerome", "HP")] == (0, 7) and used[("john", "HP")] == (0, 3)
    assert ("joe", "HP") not in used  # joe had no entry: none created, no failure
    pykota(site, capsys, "edpykota", "--printer", "HP", "--noquota", "jerome")
    assert limits(site)[("jerome", "HP")] == (None, None)
    pykota(site, capsys, "edpykota", "--add", "--skipexisting")
    after = limits(site)
    assert len(after) == 12 and after[("john", "lp")] == (None, None)
    pykota(site, capsys, "edpykota", "--printer", "HP", "--increase", "10", "jerome")
    assert limits(site)[("jerome", "HP")] == (10, 10)
    pykota(site, capsys, "edpykota", "-P", "HP", "--maxjobsize", "5", "jerome")
    assert site.json("quotas", "list", "jerome", "-P", "HP")[0]["max_job_size"] == 5
    pykota(site, capsys, "edpykota", "-P", "HP", "--maxjobsize", "unlimited", "jerome")
    assert site.json("quotas", "list", "jerome", "-P", "HP")[0]["max_job_size"] is None
    pykota(site, capsys, "edpykota", "-P", "HP", "--used", "+4", "jerome")
    q = site.json("quotas", "list", "jerome", "-P", "HP")[0]
    assert (q["page_counter"], q["life_page_counter"]) == (4, 11)
    out, _ = pykota(site, capsys, "edpykota", "-L", "-P", "HP", "jerome")
    assert "jerome" in out


def test_monthly_reset_from_cron(site: Cli, capsys: pytest.CaptureFixture[str]) -> None:
    site("quotas", "set", "john", "paul", "-P", "lp", "--hard", "100")
    site("quotas", "set", "ringo", "-P", "HP", "--hard", "100")
    site("groups", "add", "floor1")
    site("groups", "add-members", "floor1", "paul", "george")
    for user, prn in (("john", "lp"), ("paul", "lp"), ("ringo", "HP")):
        site("jobs", "add", "-u", user, "-P", prn, "-p", "9")
    pykota(site, capsys, "edpykota", "--reset", "--printer", "lp")
    counters = {(q["name"], q["printer"]): q["page_counter"] for q in site.json("quotas", "list")}
    assert counters == {("john", "lp"): 0, ("paul", "lp"): 0, ("ringo", "HP"): 9}
    pykota(site, capsys, "edpykota", "--reset")  # everyone, every printer
    pykota(site, capsys, "edpykota", "--reset")  # twice: idempotent
    site("quotas", "reset", "*", "-P", "*")
    counters = {(q["name"], q["printer"]): q["page_counter"] for q in site.json("quotas", "list")}
    assert counters == {("john", "lp"): 0, ("paul", "lp"): 0, ("ringo", "HP"): 0}
    assert len(counters) == 3  # nobody got an entry
    site("jobs", "add", "-u", "paul", "-P", "lp", "-p", "2")
    site("quotas", "reset", "--group", "floor1", "-P", "*")
    assert site.json("quotas", "list", "paul")[0]["page_counter"] == 0
    site("quotas", "reset", "nosuch", "-P", "*", code=5)  # a typo is still an error


def test_nothing_changes_when_one_entry_is_wrong(site: Cli) -> None:
    site("quotas", "set", "john", "-P", "lp", "--soft", "5", "--hard", "10")
    site("quotas", "set", "paul", "-P", "lp", "--soft", "50", "--hard", "60")
    before = site.snapshot()
    assert "john on lp" in site("quotas", "set", "*", "-P", "lp", "--soft", "20", code=2).stderr
    assert "negative" in site("quotas", "set", "*", "-P", "lp", "--increase", "-7", code=2).stderr
    assert site.snapshot() == before


def test_allowances_reach_whoever_matches_when_they_run(site: Cli) -> None:
    site("users", "add", "stud1", "--limit-by", "balance")
    site("groups", "add", "staff")
    site("groups", "add-members", "staff", "john")
    site("quotas", "set", "stud1", "-P", "lp")
    site("allowances", "add", "stud*", "--credit", "2")
    site("allowances", "add", "@staff", "--credit", "1")
    site("allowances", "add", "*", "--reset-counters", "-P", "lp")
    assert "matches nobody yet" in site("allowances", "add", "tmp*", "--credit", "1").stderr
    site("users", "add", "stud2", "tmp9")  # added after the allowances
    site("quotas", "set", "stud2", "-P", "lp")
    site("groups", "add-members", "staff", "paul")
    site("jobs", "add", "-u", "stud2", "-P", "lp", "-p", "3")
    site("allowances", "run")
    bal = {u["name"]: u["balance"] for u in site.json("users", "list")}
    assert (bal["stud1"], bal["stud2"], bal["john"], bal["paul"], bal["tmp9"]) == (
        "2.00",
        "2.00",
        "1.00",
        "1.00",
        "1.00",
    )
    assert site.json("quotas", "list", "stud2")[0]["page_counter"] == 0
    site("allowances", "run")  # idempotent within the period
    assert {u["name"]: u["balance"] for u in site.json("users", "list")} == bal
    kinds = [(a["target"], a["kind"]) for a in site.json("allowances", "list")]
    assert kinds[:2] == [("stud*", "user"), ("staff", "group")]
    site("allowances", "add", "@nogroup", "--credit", "1", code=5)


def test_thousands_of_names_in_one_command(cli: Cli) -> None:
    """Before: 'Expression tree is too large (maximum depth 1000)' at 1,000 names.
    30,000 in one command is timed by bench/bulk.py."""
    names = [f"s{i:05d}" for i in range(2500)]
    cli("printers", "add", "lp")
    cli("users", "add", *names)
    cli("users", "add", *names[:1200], "--skip-existing")
    assert "already exists" in cli("users", "add", "new1", names[1999], code=6).stderr
    cli("quotas", "set", *names, "-P", "lp", "--hard", "10")
    cli("jobs", "add", "-u", names[2400], "-P", "lp", "-p", "4")
    cli("quotas", "reset", *names, "-P", "lp", "--used", "+1")
    rows = {q["name"]: q for q in cli.json("quotas", "list")}
    assert len(rows) == 2500 and rows[names[2400]]["page_counter"] == 5
    assert rows[names[0]]["hard_limit"] == 10 and rows[names[0]]["page_counter"] == 1
    assert len(cli.json("users", "list", *names[:1700])) == 1700
