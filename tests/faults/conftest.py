"""Fixtures of the fault-injection suite: the socket printer and the site, on
SQLite and on PostgreSQL (tests/servers.py), and the table of faults × runs
(printed vs charged) the suite fills: written to $PAGETALLY_FAULTS_TABLE when
set, for the record of a run."""

from __future__ import annotations

import os
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from pagetally.storage import StoreSettings
from tests.faults.printer import SocketPrinter
from tests.faults.site import Site, fault_site
from tests.servers import postgresql_server  # noqa: F401  (a fixture)


@dataclass
class Row:
    store: str
    fault: str
    runs: int = 0
    printed: int = 0
    charged: int = 0
    ok: int = 0  # runs where printed == charged, none twice, balance exact, nothing stuck


TABLE: dict[tuple[str, str], Row] = {}


def record(site: Site, fault: str, printed: int, charged: int, ok: bool) -> None:
    row = TABLE.setdefault((site.settings.backend, fault), Row(site.settings.backend, fault))
    row.runs += 1
    row.printed += printed
    row.charged += charged
    row.ok += int(ok)


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    target = os.environ.get("PAGETALLY_FAULTS_TABLE")
    if not target or not TABLE:
        return
    lines = [
        "| store | fault | runs | printed | charged | exact |",
        "|---|---|---:|---:|---:|---:|",
    ]
    lines += [
        f"| {r.store} | {r.fault} | {r.runs} | {r.printed} | {r.charged} | {r.ok}/{r.runs} |"
        for r in TABLE.values()
    ]
    Path(target).write_text("\n".join(lines) + "\n")


@pytest.fixture(scope="module")
def printer() -> Iterator[SocketPrinter]:
    printer = SocketPrinter()
    try:
        yield printer
    finally:
        printer.stop()


@pytest.fixture(
    scope="module", params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgresql)]
)
def site(request: pytest.FixtureRequest, printer: SocketPrinter) -> Iterator[Site]:
    if request.param == "sqlite":
        folder = Path(tempfile.mkdtemp(prefix="pagetally-faults-db-"))
        settings = StoreSettings(backend="sqlite", name=str(folder / "pagetally.db"))
    else:
        server = request.getfixturevalue("postgresql_server")
        settings = server.new_database("ptfault")
    with fault_site(settings, printer) as site:
        site.start_service()
        yield site
