"""The CLI against real PostgreSQL and MariaDB servers, with their two roles:
the admin (secrets file) writes; the read-only role reads and is refused writes
by the database itself."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from pagetally.storage.base import StoreSettings
from tests.cli.conftest import Cli, make_cli
from tests.cli.test_jobs_report_history import job, setup_story
from tests.servers import ServerInfo, mariadb_server, postgresql_server  # noqa: F401


def server_cli(
    tmp_path: Path, s: StoreSettings, *, admin_user: str | None, admin_password: str | None
) -> Cli:
    cli = make_cli(tmp_path)
    cli.conf.write_text(
        f"[global]\nstoragebackend: {s.backend}\nstorageserver: {s.server}\n"
        f"storagename: {s.name}\nstorageuser: {s.user}\nstorageuserpw: {s.password}\n"
    )
    if admin_user is not None:
        secrets = tmp_path / "pagetally-admin.conf"
        secrets.write_text(
            f"[global]\nstorageadmin: {admin_user}\nstorageadminpw: {admin_password}\n"
        )
        secrets.chmod(0o600)
    return cli


def admin_and_reader(
    server: ServerInfo,
    tmp_path: Path,
    setup: Callable[[Cli], None] = setup_story,
) -> tuple[StoreSettings, Cli, Cli]:
    """A fresh database with the schema and `setup`'s data; the CLI as its admin
    (secrets file) and as the read-only role."""
    s = server.new_database()
    (tmp_path / "admin").mkdir()
    admin = server_cli(
        tmp_path / "admin", s, admin_user=s.admin_user, admin_password=s.admin_password
    )
    admin("db", "upgrade")
    setup(admin)
    (tmp_path / "ro").mkdir()
    reader = server_cli(tmp_path / "ro", s, admin_user=None, admin_password=None)
    return s, admin, reader


def story_on(server: ServerInfo, tmp_path: Path) -> None:
    s, admin, reader = admin_and_reader(server, tmp_path)
    assert job(admin, "-u", "bob", "-P", "lp1", "-p", "5")["price"] == "0.60"
    rows = admin.json("report")
    assert [(r["name"], r["page_counter"]) for r in rows] == [("alice", 0), ("bob", 5)]

    assert [u["name"] for u in reader.json("users", "list")] == ["alice", "bob"]
    assert len(reader.json("history")) == 1
    assert "read-only credentials" in reader("users", "add", "eve", code=7).stderr

    # the read-only role given as if it were the admin: the database itself refuses
    (tmp_path / "fake").mkdir()
    fake = server_cli(tmp_path / "fake", s, admin_user=s.user, admin_password=s.password)
    before = admin.snapshot()
    for args in (
        ("users", "credit", "bob", "100"),
        ("jobs", "add", "-u", "bob", "-P", "lp1", "-p", "1"),
        ("users", "add", "eve"),
    ):
        r = fake(*args, code=None)
        # ReadOnlyStore (7) or the store's "permission denied" (4): one clear line
        assert r.exit_code in (4, 7), r.stderr
        assert len(r.stderr.strip().splitlines()) == 1 and "Traceback" not in r.stderr
        assert "denied" in r.stderr or "read-only" in r.stderr
    assert admin.snapshot() == before


@pytest.mark.slow
@pytest.mark.postgresql
def test_postgresql(postgresql_server: ServerInfo, tmp_path: Path) -> None:  # noqa: F811
    story_on(postgresql_server, tmp_path)


@pytest.mark.slow
@pytest.mark.mariadb
def test_mariadb(mariadb_server: ServerInfo, tmp_path: Path) -> None:  # noqa: F811
    story_on(mariadb_server, tmp_path)
