"""`pagetally import-pykota`: what the admin sees (the table, the rounding report,
exit codes for a missing file, an unknown backend, a server down, a wrong password)."""

from __future__ import annotations

import socket
from pathlib import Path

import pytest
from sqlalchemy import create_engine

from tests.cli.conftest import Cli
from tests.servers import ServerInfo, postgresql_server  # noqa: F401
from tests.storage.pykota_fake import create_schema, fill


def _pykota_sqlite(folder: Path, jobs: int = 500) -> Path:
    db = folder / "pykota.db"
    engine = create_engine(f"sqlite:///{db}")
    create_schema(engine)
    fill(engine, jobs=jobs)
    engine.dispose()
    conf = folder / "pykota.conf"
    conf.write_text(f"[global]\nstoragebackend: sqlitestorage\nstoragename: {db}\n")
    return conf


def test_import_prints_both_sides_and_the_rounding(cli: Cli, tmp_path: Path) -> None:
    conf = _pykota_sqlite(tmp_path)
    out = cli("import-pykota", "--from", str(conf), "--timezone", "UTC").stdout
    rows = {
        line.split("│")[1].strip(): [c.strip() for c in line.split("│")[2:5]]
        for line in out.splitlines()
        if line.startswith("│")
    }
    assert rows["users"] == ["40", "40", "40"]
    assert rows["jobs"] == ["500", "500", "500"]
    assert rows["payments"] == ["301", "301", "301"]
    assert rows["sum of balance"][0] == rows["sum of balance"][1]
    assert rows["sum of job prices"][0] == rows["sum of job prices"][1]
    assert "user 'user003' balance: 10.0000005 -> 10.000000" in out  # largest first
    assert "were rounded" in out
    again = cli("import-pykota", "--from", str(conf), "--timezone", "UTC").stdout
    rows = {
        line.split("│")[1].strip(): [c.strip() for c in line.split("│")[2:6]]
        for line in again.splitlines()
        if line.startswith("│")
    }
    assert rows["jobs"] == ["500", "500", "0", "0"]
    assert rows["users"] == ["40", "40", "0", "0"]
    assert len(cli.json("history")) == 500


def test_missing_file_is_a_configuration_error(cli: Cli, tmp_path: Path) -> None:
    result = cli("import-pykota", "--from", str(tmp_path / "pykota.conf"), code=3)
    assert "pykota.conf: PyKota configuration file not found" in result.stderr


def test_ldap_store_is_refused_clearly(cli: Cli, tmp_path: Path) -> None:
    conf = tmp_path / "pykota.conf"
    conf.write_text("[global]\nstoragebackend: ldapstorage\nstoragename: x\n")
    result = cli("import-pykota", "--from", str(conf), code=3)
    assert "LDAP stores cannot be imported" in result.stderr


def test_missing_sqlite_database(cli: Cli, tmp_path: Path) -> None:
    conf = tmp_path / "pykota.conf"
    conf.write_text(f"[global]\nstoragebackend: sqlitestorage\nstoragename: {tmp_path}/no.db\n")
    result = cli("import-pykota", "--from", str(conf), code=4)
    assert "does not exist" in result.stderr


def test_server_down_is_a_store_error(cli: Cli, tmp_path: Path) -> None:
    with socket.socket() as s:  # a port nothing listens on
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    conf = tmp_path / "pykota.conf"
    conf.write_text(
        f"[global]\nstoragebackend: pgstorage\nstorageserver: 127.0.0.1:{port}\n"
        "storagename: pykota\nstorageuser: pykotauser\nstorageuserpw: x\n"
    )
    (tmp_path / "pykotadmin.conf").write_text(
        "[global]\nstorageadmin: pykotaadmin\nstorageadminpw: secret-pw\n"
    )
    result = cli("import-pykota", "--from", str(conf), code=4)
    assert "cannot use the PostgreSQL database 'pykota' on 127.0.0.1" in result.stderr
    assert "secret-pw" not in result.stderr


@pytest.mark.slow
@pytest.mark.postgresql
def test_wrong_password_is_a_store_error(
    cli: Cli,
    tmp_path: Path,
    postgresql_server: ServerInfo,  # noqa: F811
) -> None:
    made = postgresql_server.new_database("pkw")
    conf = tmp_path / "pykota.conf"
    conf.write_text(
        f"[global]\nstoragebackend: pgstorage\nstorageserver: {made.server}\n"
        f"storagename: {made.name}\n"
    )
    (tmp_path / "pykotadmin.conf").write_text(
        f"[global]\nstorageadmin: {made.admin_user}\nstorageadminpw: not-the-password\n"
    )
    result = cli("import-pykota", "--from", str(conf), code=4)
    assert "password authentication failed" in result.stderr
    assert "not-the-password" not in result.stderr


def test_dates_pykota_wrote_are_local_those_sqlite_filled_in_are_utc(
    cli: Cli, tmp_path: Path
) -> None:
    conf = _pykota_sqlite(tmp_path, jobs=20)
    cli("import-pykota", "--from", str(conf), "--timezone", "Europe/Paris")
    with cli.store() as store:
        first = next(iter(store.history()))
        # job 1 is dated 2019-09-01 08:01:00 by SQLite's CURRENT_TIMESTAMP: UTC
        assert first.date.isoformat() == "2019-09-01T08:01:00+00:00"
        # the grace date PyKota wrote for group1 is Paris time (UTC+2 in September)
        limit = store.get_group_quota("group1", "lp1").date_limit
        assert limit is not None and limit.isoformat() == "2019-09-01T06:00:00+00:00"


def test_unknown_time_zone(cli: Cli, tmp_path: Path) -> None:
    conf = _pykota_sqlite(tmp_path, jobs=1)
    result = cli("import-pykota", "--from", str(conf), "--timezone", "Mars/Olympus", code=2)
    assert "unknown time zone 'Mars/Olympus'" in result.stderr
