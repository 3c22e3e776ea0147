"""Schema and migrations, read-only refusal, roles, a store that is down, row size."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest
from sqlalchemy import insert, text

from pagetally.core.models import User
from pagetally.errors import (
    ReadOnlyStore,
    SchemaOutOfDate,
    StorageError,
    StoreUnavailable,
)
from pagetally.storage import StoreSettings, open_store
from pagetally.storage.engine import make_engine
from pagetally.storage.migrate import head_revision
from pagetally.storage.roles import role_sql
from pagetally.storage.schema import SCHEMA_REVISION, jobhistory
from pagetally.storage.sql import SqlStore
from tests.servers import ServerInfo, free_port
from tests.storage.conftest import sql_only
from tests.storage.fakejobs import history_row


def test_schema_revision_is_the_migrations_head() -> None:
    assert SCHEMA_REVISION == head_revision()


def test_migrations_build_exactly_the_schema_in_schema_py(store: SqlStore) -> None:
    sql_only(store.settings, "Alembic migrations and schema.py are the SQL schema")
    from alembic.autogenerate import compare_metadata
    from alembic.migration import MigrationContext

    from pagetally.storage.schema import metadata

    store.find_users()
    engine = make_engine(store.settings, readonly=False)
    try:
        with engine.connect() as conn:
            diffs = compare_metadata(MigrationContext.configure(conn), metadata)
    finally:
        engine.dispose()
    assert diffs == []


def test_a_fresh_sqlite_file_is_created_and_migrated(tmp_path: Path) -> None:
    path = tmp_path / "new.db"
    store = open_store(StoreSettings(name=str(path)))
    assert store.find_users() == []
    assert path.exists()
    con = sqlite3.connect(path)
    tables = {r[0] for r in con.execute("SELECT name FROM sqlite_master WHERE type='table'")}
    assert con.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    assert con.execute("SELECT version_num FROM alembic_version").fetchone()[0] == SCHEMA_REVISION
    con.close()
    assert {"users", "jobhistory", "userpquota", "allowancegrants"} <= tables
    store.close()


def test_a_fresh_sqlite_file_opened_read_only_works(tmp_path: Path) -> None:
    store = open_store(StoreSettings(name=str(tmp_path / "ro.db")), readonly=True)
    assert store.find_users() == []
    with pytest.raises(ReadOnlyStore):
        store.add_user(User("x"))
    store.close()


def test_sqlite_in_a_missing_folder_is_unavailable(tmp_path: Path) -> None:
    store = open_store(StoreSettings(name=str(tmp_path / "no" / "such" / "pt.db")))
    with pytest.raises(StoreUnavailable, match="does not exist"):
        store.find_users()


def test_unknown_backend_is_refused() -> None:
    with pytest.raises(StorageError, match="unknown storage backend 'oracle'"):
        open_store(StoreSettings(backend="oracle"))


def test_readonly_store_refuses_every_write(ro_store: SqlStore, store: SqlStore) -> None:
    store.add_user(User("alice"))
    assert [u.name for u in ro_store.find_users()] == ["alice"]
    with pytest.raises(ReadOnlyStore, match=r"read-only.*admin credentials"):
        ro_store.add_user(User("mallory"))
    with pytest.raises(ReadOnlyStore):
        ro_store.delete_user("alice")
    with pytest.raises(ReadOnlyStore):
        ro_store.upgrade()
    assert [u.name for u in store.find_users()] == ["alice"]


@pytest.mark.slow
@pytest.mark.postgresql
def test_postgresql_readonly_role_lacks_write_grants(postgresql_server: ServerInfo) -> None:
    _readonly_role_lacks_grants(postgresql_server)


@pytest.mark.slow
@pytest.mark.mariadb
def test_mariadb_readonly_role_lacks_write_grants(mariadb_server: ServerInfo) -> None:
    _readonly_role_lacks_grants(mariadb_server)


def _readonly_role_lacks_grants(server: ServerInfo) -> None:
    """Even past our own check, the server refuses the read-only role's writes."""
    settings = server.new_database()
    open_store(settings).upgrade()
    engine = make_engine(settings, readonly=True)
    try:
        with engine.connect() as conn:
            assert conn.execute(text("SELECT COUNT(*) FROM users")).scalar() == 0
        for sql in (
            "INSERT INTO users (username, balance, lifetimepaid, limitby, description, "
            "overcharge) VALUES ('x', 0, 0, 'quota', '', 1)",
            "DELETE FROM jobhistory",
            "CREATE TABLE evil (x INTEGER)",
        ):
            with pytest.raises(Exception, match=r"(?i)denied"), engine.begin() as conn:
                conn.execute(text(sql))
    finally:
        engine.dispose()
    # the same role given as the admin: the store reports it, no driver traceback
    wrong = StoreSettings(
        backend=settings.backend,
        name=settings.name,
        server=settings.server,
        admin_user=settings.user,
        admin_password=settings.password,
    )
    store = open_store(wrong)
    with pytest.raises(StorageError, match="permission denied"):
        store.add_user(User("x"))


def _down(backend: str) -> StoreSettings:
    return StoreSettings(
        backend=backend,
        name="pagetally",
        server=f"127.0.0.1:{free_port()}",
        user="ro",
        password="s3cr3t-pw",
        admin_user="admin",
        admin_password="s3cr3t-pw",
    )


@pytest.mark.parametrize("backend", ["postgresql", "mysql"])
def test_a_database_that_is_down_is_unavailable(backend: str) -> None:
    store = open_store(_down(backend))
    with pytest.raises(StoreUnavailable, match=r"cannot use the .*127\.0\.0\.1:\d+") as info:
        store.find_users()
    assert "Traceback" not in str(info.value)
    assert "s3cr3t" not in str(info.value)
    with pytest.raises(StoreUnavailable):
        open_store(_down(backend), readonly=True).find_users()


@pytest.mark.slow
@pytest.mark.postgresql
def test_wrong_password_is_unavailable(pg_settings: StoreSettings) -> None:
    bad = StoreSettings(
        backend="postgresql",
        name=pg_settings.name,
        server=pg_settings.server,
        user=pg_settings.user,
        password="wrong",
    )
    with pytest.raises(StoreUnavailable, match="authentication failed"):
        open_store(bad, readonly=True).find_users()


@pytest.mark.slow
@pytest.mark.postgresql
def test_an_old_schema_says_run_db_upgrade(postgresql_server: ServerInfo) -> None:
    settings = postgresql_server.new_database()
    store = open_store(settings)
    with pytest.raises(SchemaOutOfDate, match="run `pagetally db upgrade`"):
        store.find_users()
    store.upgrade()
    engine = make_engine(settings, readonly=False)
    with engine.begin() as conn:
        conn.execute(text("UPDATE alembic_version SET version_num = '0000'"))
    engine.dispose()
    with pytest.raises(SchemaOutOfDate, match=r"has schema 0000.*pagetally db upgrade"):
        open_store(settings, readonly=True).find_users()
    store.close()


def test_role_sql_quotes_passwords() -> None:
    settings = StoreSettings(
        backend="postgresql",
        name="pt",
        user="ro",
        password="it's",
        admin_user="adm",
        admin_password="x",
    )
    sql = [s for _db, s in role_sql(settings)]
    assert "CREATE ROLE \"ro\" LOGIN PASSWORD 'it''s'" in sql
    assert any('GRANT SELECT ON TABLES TO "ro"' in s for s in sql)
    my = [
        s
        for _db, s in role_sql(
            StoreSettings(
                backend="mysql",
                name="pt",
                user="ro",
                password="a\\'b",
                admin_user="adm",
                admin_password="x",
            )
        )
    ]
    assert "GRANT SELECT ON `pt`.* TO 'ro'@'%'" in my
    assert "CREATE USER IF NOT EXISTS 'ro'@'%' IDENTIFIED BY 'a\\\\\\'b'" in my
    with pytest.raises(Exception, match="plain identifier"):
        role_sql(StoreSettings(backend="postgresql", name="pt; DROP", user="ro", admin_user="adm"))


def test_history_rows_stay_well_under_1kb(settings: StoreSettings, store: SqlStore) -> None:
    """Measured with typical rows, indexes included (SQLite, PostgreSQL, MariaDB)."""
    sql_only(settings, "measures SQL table rows")
    store.find_users()
    n = 5000
    engine = make_engine(settings, readonly=False)
    try:
        before = _table_bytes(engine, settings.backend)
        with engine.begin() as conn:
            conn.execute(insert(jobhistory), [history_row(i, 1000, 20) for i in range(n)])
        per_row = (_table_bytes(engine, settings.backend) - before) / n
    finally:
        engine.dispose()
    print(f"\n{settings.backend}: {per_row:.0f} bytes per history row, indexes included")
    assert 50 < per_row < 1024


def _table_bytes(engine: object, backend: str) -> int:
    from sqlalchemy import Engine

    assert isinstance(engine, Engine)
    with engine.connect() as conn:
        if backend == "sqlite":
            conn.exec_driver_sql("PRAGMA wal_checkpoint(TRUNCATE)")
            pages = conn.exec_driver_sql("PRAGMA page_count").scalar()
            size = conn.exec_driver_sql("PRAGMA page_size").scalar()
            return int(pages or 0) * int(size or 0)
        if backend == "postgresql":
            conn.exec_driver_sql("ANALYZE jobhistory")
            found = conn.exec_driver_sql("SELECT pg_total_relation_size('jobhistory')").scalar()
            return int(found or 0)
        conn.exec_driver_sql("ANALYZE TABLE jobhistory")
        found = conn.exec_driver_sql(
            "SELECT data_length + index_length FROM information_schema.tables "
            "WHERE table_schema = DATABASE() AND table_name = 'jobhistory'"
        ).scalar()
        return int(found or 0)


@pytest.mark.slow
@pytest.mark.parametrize(
    "server_name",
    [
        pytest.param("postgresql_server", marks=pytest.mark.postgresql),
        pytest.param("mariadb_server", marks=pytest.mark.mariadb),
    ],
)
def test_creating_the_roles_twice_keeps_the_data(
    server_name: str, request: pytest.FixtureRequest
) -> None:
    from pagetally.storage.roles import create_roles

    server: ServerInfo = request.getfixturevalue(server_name)
    settings = server.new_database()
    store = open_store(settings)
    store.upgrade()
    store.add_user(User("alice"))
    create_roles(settings, server.superuser, server.superpassword)  # again
    ro = open_store(settings, readonly=True)
    assert [u.name for u in ro.find_users()] == ["alice"]
    ro.close()
    store.close()
