"""Store fixtures: every store test runs on SQLite, PostgreSQL, MariaDB and LDAP.

The servers (tests/servers.py) start once per session; each holds one migrated
database that is emptied before every test. SQLite gets a new file per test, a
copy of one migrated per session (tests/sqlite_store.py). LDAP gets a fresh
branch of the session's private slapd per test (tests/slapd.py); a test that
checks something only SQL has says so with `sql_only(reason)`.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from sqlalchemy import delete

from pagetally.storage import StoreSettings, open_store
from pagetally.storage.engine import make_engine
from pagetally.storage.schema import TABLES
from pagetally.storage.sql import SqlStore
from tests.servers import ServerInfo, mariadb_server, postgresql_server  # noqa: F401
from tests.slapd import SlapdServer, slapd_server  # noqa: F401
from tests.sqlite_store import migrated_sqlite

ENGINES = [
    pytest.param("sqlite", id="sqlite"),
    pytest.param("postgresql", marks=[pytest.mark.slow, pytest.mark.postgresql], id="postgresql"),
    pytest.param("mysql", marks=[pytest.mark.slow, pytest.mark.mariadb], id="mariadb"),
    pytest.param("ldap", marks=[pytest.mark.slow, pytest.mark.ldap], id="ldap"),
]


def sql_only(settings: StoreSettings, reason: str) -> None:
    """Skip on the LDAP store: the test checks something only a SQL store has."""
    if settings.backend == "ldap":
        pytest.skip(f"SQL only: {reason}")


def _migrated(server: ServerInfo) -> StoreSettings:
    settings = server.new_database()
    store = open_store(settings)
    store.upgrade()
    store.close()
    return settings


@pytest.fixture(scope="session")
def pg_settings(postgresql_server: ServerInfo) -> StoreSettings:  # noqa: F811
    return _migrated(postgresql_server)


@pytest.fixture(scope="session")
def maria_settings(mariadb_server: ServerInfo) -> StoreSettings:  # noqa: F811
    return _migrated(mariadb_server)


def wipe(settings: StoreSettings) -> None:
    """Empty every table (children first)."""
    engine = make_engine(settings, readonly=False)
    try:
        with engine.begin() as conn:
            for table in reversed(TABLES):
                conn.execute(delete(table))
    finally:
        engine.dispose()


@pytest.fixture(params=ENGINES)
def settings(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> StoreSettings:
    if request.param == "ldap":
        server: SlapdServer = request.getfixturevalue("slapd_server")
        fresh = server.new_directory()
        st = open_store(fresh)
        st.upgrade()
        st.close()
        return fresh
    if request.param == "sqlite":
        db = migrated_sqlite(tmp_path_factory.mktemp("db") / "pt.db")
        return StoreSettings(backend="sqlite", name=str(db))
    name = "pg_settings" if request.param == "postgresql" else "maria_settings"
    found: StoreSettings = request.getfixturevalue(name)
    wipe(found)
    return found


@pytest.fixture
def store(settings: StoreSettings) -> Iterator[SqlStore]:
    st = open_store(settings)
    try:
        yield st
    finally:
        st.close()


@pytest.fixture
def ro_store(store: SqlStore, settings: StoreSettings) -> Iterator[SqlStore]:
    """The same database through the read-only credentials (after `store` migrated it)."""
    store.find_users()
    st = open_store(settings, readonly=True)
    try:
        yield st
    finally:
        st.close()
