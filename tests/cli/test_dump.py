"""`pagetally dump` (dumpykota): every data type and format, parsed back."""

from __future__ import annotations

import csv
import io
import json
import re
import xml.etree.ElementTree as ET
from datetime import timedelta

import pytest

from pagetally.export.data import COLUMNS
from tests.cli.conftest import NOW, Cli, make_cli
from tests.cli.test_jobs_report_history import job, setup_story


@pytest.fixture(scope="module")
def story(tmp_path_factory: pytest.TempPathFactory) -> Cli:
    """One store for the module: the dump tests only read it."""
    cli = make_cli(tmp_path_factory.mktemp("dump"))
    setup_story(cli)
    cli("groups", "add", "staff")
    cli("groups", "add-members", "staff", "alice")
    cli("quotas", "set", "--group", "-P", "lp1", "--hard", "40", "staff")
    cli("billing-codes", "add", "proj")
    job(
        cli,
        "-u",
        "alice",
        "-P",
        "lp1",
        "-p",
        "2",
        "--copies",
        "2",
        "--host",
        "pc1",
        "--job-id",
        "11",
        "--title",
        'a "quoted", title; with\ttab',
    )
    cli.now[0] = NOW + timedelta(days=3)
    job(
        cli,
        "-u",
        "bob",
        "-P",
        "lp1",
        "-p",
        "1",
        "--billing-code",
        "proj",
        "--host",
        "pc2",
        "--job-id",
        "12",
    )
    job(cli, "-u", "carol", "-P", "lp1", "-p", "50", "--job-id", "13", code=1)  # unknown user
    return cli


@pytest.mark.parametrize(("fmt", "sep"), [("csv", ","), ("ssv", ";"), ("tsv", "\t")])
@pytest.mark.parametrize("datatype", sorted(COLUMNS))
def test_separated_formats(story: Cli, datatype: str, fmt: str, sep: str) -> None:
    out = story("dump", datatype, "--format", fmt).stdout
    rows = list(csv.reader(io.StringIO(out), delimiter=sep))
    assert tuple(rows[0]) == COLUMNS[datatype]
    assert all(len(r) == len(COLUMNS[datatype]) for r in rows)
    expected = {
        "users": 2,
        "groups": 1,
        "printers": 2,
        "upquotas": 2,
        "gpquotas": 1,
        "history": 3,
        "payments": 1,
        "billingcodes": 1,
        "umembers": 1,
        "pmembers": 1,
    }
    assert len(rows) - 1 == expected[datatype]


def test_history_csv_values(story: Cli) -> None:
    rows = list(csv.DictReader(io.StringIO(story("dump", "history").stdout)))
    assert rows[0]["title"] == 'a "quoted", title; with\ttab'
    assert (rows[0]["username"], rows[0]["jobsize"], rows[0]["copies"]) == ("alice", "4", "2")
    assert rows[1]["billingcode"] == "proj" and rows[2]["action"] == "deny"
    assert rows[2]["username"] == "carol"


def test_json(story: Cli) -> None:
    users = json.loads(story("dump", "users", "--format", "json").stdout)
    assert [u["username"] for u in users] == ["alice", "bob"]
    assert users[1]["balance"] == "0.84"
    everything = json.loads(story("dump", "all", "--format", "json").stdout)
    assert set(everything) == set(COLUMNS)
    assert len(everything["history"]) == 3 and everything["umembers"] == [
        {"groupname": "staff", "username": "alice"}
    ]


def test_xml(story: Cli) -> None:
    root = ET.fromstring(story("dump", "history", "--format", "xml").stdout)
    assert root.tag == "pagetally"
    dump = root.find("dump")
    assert dump is not None and dump.get("type") == "history" and dump.get("storage") == "sqlite"
    entries = dump.findall("entry")
    assert len(entries) == 3
    fields = {a.get("name"): (a.get("type"), a.text) for a in entries[0]}
    assert fields["username"] == ("str", "alice")
    assert fields["jobsize"] == ("int", "4")
    assert fields["title"] == ("str", 'a "quoted", title; with\ttab')
    assert fields["jobprice"][0] == "decimal"
    allroot = ET.fromstring(story("dump", "all", "--format", "xml").stdout)
    assert {d.get("type") for d in allroot.findall("dump")} == set(COLUMNS)


def test_cups_page_log(story: Cli) -> None:
    lines = story("dump", "history", "--format", "cups").stdout.splitlines()
    # alice: 2 pages x 2 copies -> pages 1..2 with copies 2; bob: 1 page; the denied job: none
    assert lines == [
        "lp1 alice 11 [24/Nov/2026:12:00:00 +0000] 1 2 - pc1",
        "lp1 alice 11 [24/Nov/2026:12:00:00 +0000] 2 2 - pc1",
        "lp1 bob 12 [27/Nov/2026:12:00:00 +0000] 1 1 proj pc2",
    ]
    pattern = re.compile(
        r"\S+ \S+ \S+ \[\d\d/[A-Z][a-z]{2}/\d{4}:\d\d:\d\d:\d\d [+-]\d{4}\] "
        r"\d+ \d+ \S+ \S+"
    )
    assert all(pattern.fullmatch(line) for line in lines)
    r = story("dump", "users", "--format", "cups", code=2)
    assert "history only" in r.stderr


def test_filters(story: Cli) -> None:
    def users_of(*filters: str) -> list[str]:
        out = json.loads(story("dump", "history", *filters, "--format", "json").stdout)
        return [r["username"] for r in out]

    assert users_of("username=bob") == ["bob"]
    assert users_of("username=a*") == ["alice"]
    assert users_of("hostname=pc2") == ["bob"]
    assert users_of("billingcode=proj") == ["bob"]
    assert users_of("printername=lp1", "start=20261125") == ["bob", "carol"]
    assert users_of("end=20261124") == ["alice"]
    assert users_of("start=today") == ["bob", "carol"]  # the clock says 2026-11-27
    assert users_of("start=today+1") == []
    assert users_of("start=now-1", "end=now+5") == ["bob", "carol"]
    pays = json.loads(story("dump", "payments", "username=bob", "--format", "json").stdout)
    assert [p["amount"] for p in pays] == ["1.00"]
    bad = story("dump", "users", "hostname=pc1", code=2)
    assert "does not apply to users" in bad.stderr
    assert "KEY=VALUE" in story("dump", "history", "who=me", code=2).stderr
    assert "date" in story("dump", "history", "start=soon", code=2).stderr
    assert "json or xml" in story("dump", "all", "--format", "csv", code=2).stderr


def test_output_file(story: Cli, tmp_path) -> None:  # type: ignore[no-untyped-def]
    target = tmp_path / "out.tsv"
    story("dump", "printers", "--format", "tsv", "--output", str(target))
    assert target.read_text().splitlines()[0].split("\t") == list(COLUMNS["printers"])
