"""`pagetally db roles`: the two database roles made from the configuration, against
real PostgreSQL and MariaDB servers; then the admin writes and the reader only reads."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from pagetally.cli.main import app
from pagetally.storage.base import StoreSettings
from tests.cli.conftest import Cli, make_cli
from tests.cli.test_servers import server_cli
from tests.servers import ServerInfo, mariadb_server, postgresql_server  # noqa: F401


def test_sqlite_has_no_roles(tmp_path: Path) -> None:
    cli = make_cli(tmp_path)
    r = cli("db", "roles", code=2)
    assert "SQLite has no database roles" in r.stderr


def _fresh(server: ServerInfo, tag: str) -> StoreSettings:
    """Settings for a database and roles that do not exist yet."""
    n = f"{os.getpid()}{tag}"
    return StoreSettings(
        backend=server.backend,
        name=f"roles{n}",
        server=server.server,
        user=f"rro{n}",
        password="ro 'secret\\",
        admin_user=f"radm{n}",
        admin_password="adm-secret",
    )


def _roles_as(cli: Cli, superuser: str, password: str) -> tuple[int, str]:
    r = cli.runner.invoke(
        app,
        ["--config", str(cli.conf), "db", "roles", "--superuser", superuser, "--password-stdin"],
        input=password + "\n",
        obj=cli.env(),
    )
    return r.exit_code, r.stderr


def roles_story(server: ServerInfo, tmp_path: Path) -> None:
    s = _fresh(server, "a")
    (tmp_path / "admin").mkdir()
    admin = server_cli(
        tmp_path / "admin", s, admin_user=s.admin_user, admin_password=s.admin_password
    )
    printed = admin("db", "roles", "--sql").stdout
    assert f"{s.admin_user}" in printed and "SELECT" in printed

    # the database does not exist yet: the admin cannot use it
    assert admin("users", "list", code=None).exit_code != 0
    code, err = _roles_as(admin, server.superuser, "not-the-password")
    assert code != 0 and len(err.strip().splitlines()) == 1 and "Traceback" not in err

    for _ in range(2):  # idempotent
        code, err = _roles_as(admin, server.superuser, server.superpassword)
        assert code == 0, err
        assert "now run `pagetally db upgrade`" in err
    admin("db", "upgrade")
    admin("users", "add", "alice", "--balance", "5")

    (tmp_path / "ro").mkdir()
    reader = server_cli(tmp_path / "ro", s, admin_user=None, admin_password=None)
    assert [u["name"] for u in reader.json("users", "list")] == ["alice"]
    fake = server_cli(tmp_path / "ro", s, admin_user=s.user, admin_password=s.password)
    assert fake("users", "add", "eve", code=None).exit_code in (4, 7)
    assert [u["name"] for u in admin.json("users", "list")] == ["alice"]


@pytest.mark.slow
@pytest.mark.postgresql
def test_roles_postgresql(postgresql_server: ServerInfo, tmp_path: Path) -> None:  # noqa: F811
    roles_story(postgresql_server, tmp_path)


@pytest.mark.slow
@pytest.mark.mariadb
def test_roles_mariadb(mariadb_server: ServerInfo, tmp_path: Path) -> None:  # noqa: F811
    roles_story(mariadb_server, tmp_path)
