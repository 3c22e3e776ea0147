"""The bulk edits and cron resets on real PostgreSQL and MariaDB servers: many
names in one command, limits kept, resets of whoever has an entry."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.cli.conftest import Cli
from tests.cli.test_servers import admin_and_reader
from tests.servers import ServerInfo, mariadb_server, postgresql_server  # noqa: F401


def site(cli: Cli) -> None:
    cli("printers", "add", "lp1", "lp2")


def bulk_on(server: ServerInfo, tmp_path: Path) -> None:
    _, admin, _ = admin_and_reader(server, tmp_path, site)
    names = [f"s{i:04d}" for i in range(1200)]
    admin("users", "add", *names)
    admin("quotas", "set", *names[:10], "-P", "lp1", "--soft", "5", "--hard", "9")
    admin("quotas", "set", "*", "-P", "*")  # creates the rest, keeps the limits
    admin("jobs", "add", "-u", names[3], "-P", "lp1", "-p", "4")
    admin("quotas", "reset", "*", "-P", "lp1", "--used", "+1", "--lifetime")
    rows = {(q["name"], q["printer"]): q for q in admin.json("quotas", "list")}
    assert len(rows) == 2400
    q = rows[(names[3], "lp1")]
    assert (q["soft_limit"], q["hard_limit"], q["page_counter"], q["life_page_counter"]) == (
        5,
        9,
        5,
        5,
    )
    assert rows[(names[500], "lp2")]["page_counter"] == 0


@pytest.mark.slow
@pytest.mark.postgresql
def test_postgresql(postgresql_server: ServerInfo, tmp_path: Path) -> None:  # noqa: F811
    bulk_on(postgresql_server, tmp_path)


@pytest.mark.slow
@pytest.mark.mariadb
def test_mariadb(mariadb_server: ServerInfo, tmp_path: Path) -> None:  # noqa: F811
    bulk_on(mariadb_server, tmp_path)
