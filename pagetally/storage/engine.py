"""Engines for the three databases, and the errors their drivers raise, translated.

SQLite: WAL, a busy timeout, foreign keys, and `BEGIN IMMEDIATE` for every write
unit of work (so two writers queue instead of failing half-way); with `readonly`
the connection also refuses writes itself (`PRAGMA query_only`).
PostgreSQL (psycopg 3) and MariaDB/MySQL (PyMySQL): READ COMMITTED, row locks
where a decision must not race, and a retry of the whole unit of work on a
deadlock or serialization failure; pooled connections are tested before use only
after being idle a while (`_ping_when_idle`).
"""

from __future__ import annotations

import contextlib
import fcntl
import os
import re
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from sqlalchemy import URL, Engine, create_engine, event
from sqlalchemy.exc import DBAPIError, DisconnectionError

from pagetally.errors import ReadOnlyStore, StorageError, StoreUnavailable
from pagetally.storage.base import StoreSettings

SQLITE_BUSY_TIMEOUT_S = 60.0
POOL_SIZE = 6  # connections a process keeps to PostgreSQL or MariaDB, at most
PING_IDLE_S = 2.0  # a pooled server connection idle this long is tested before use
BACKENDS = ("sqlite", "postgresql", "mysql")
_ALIASES = {"postgres": "postgresql", "pgsql": "postgresql", "mariadb": "mysql"}


def backend_of(settings: StoreSettings) -> str:
    """The canonical backend name (sqlite | postgresql | mysql), or StorageError."""
    name = settings.backend.strip().lower()
    name = _ALIASES.get(name, name)
    if name not in BACKENDS:
        raise StorageError(
            f"unknown storage backend {settings.backend!r}: use sqlite, postgresql or mysql"
        )
    return name


def describe(settings: StoreSettings) -> str:
    """Where the store is, for messages (never a password)."""
    backend = backend_of(settings)
    if backend == "sqlite":
        return f"SQLite database {settings.name}"
    label = "PostgreSQL" if backend == "postgresql" else "MariaDB/MySQL"
    return f"{label} database {settings.name!r} on {settings.server or 'localhost'}"


def _host_port(server: str | None) -> tuple[str | None, int | None]:
    if not server:
        return None, None
    if server.startswith("/"):  # a Unix socket directory
        return server, None
    host, sep, port = server.rpartition(":")
    if sep and port.isdigit():
        return host.strip("[]"), int(port)
    return server, None


def make_url(settings: StoreSettings, *, readonly: bool) -> URL:
    """The SQLAlchemy URL: read-only credentials or the admin's."""
    backend = backend_of(settings)
    if backend == "sqlite":
        return URL.create("sqlite+pysqlite", database=settings.name)
    user = settings.user if readonly else (settings.admin_user or settings.user)
    password = (
        settings.password
        if readonly
        else (settings.admin_password if settings.admin_user else settings.password)
    )
    host, port = _host_port(settings.server)
    query: dict[str, str] = {}
    if host and host.startswith("/"):
        query = {"host": host} if backend == "postgresql" else {"unix_socket": host}
        host = None
    driver = "postgresql+psycopg" if backend == "postgresql" else "mysql+pymysql"
    if backend == "mysql":
        query["charset"] = "utf8mb4"
    return URL.create(
        driver,
        username=user,
        password=password,
        host=host,
        port=port,
        database=settings.name,
        query=query,
    )


def make_engine(settings: StoreSettings, *, readonly: bool, pool_size: int = 0) -> Engine:
    """An engine for the store; SQLite's file is not created here. `pool_size`:
    connections kept open for reuse (0: the default, small; a server with many
    threads keeps one per thread: a connection beyond the pool's size is closed
    when it is given back, and opened again for the next unit of work)."""
    backend = backend_of(settings)
    url = make_url(settings, readonly=readonly)
    if backend == "sqlite":
        sized = {"pool_size": pool_size, "max_overflow": 10} if pool_size else {}
        engine = create_engine(
            url,
            connect_args={"timeout": SQLITE_BUSY_TIMEOUT_S, "check_same_thread": False},
            **sized,
        )
        _sqlite_events(engine, readonly=readonly)
        return engine
    from pagetally.storage.schema import for_dialect

    for_dialect(backend)  # the server's own DDL options, before anything is compiled
    args: dict[str, Any] = {"connect_timeout": 10}
    engine = create_engine(
        url,
        connect_args=args,
        isolation_level="READ COMMITTED",
        # every connection opened is kept: with a smaller pool and overflow, the
        # service's threads (8 writers on one `pagetally serve`) opened and closed
        # one connection every 3-5 charges, each a server process and a SCRAM
        # login, which cost more server CPU than the charges (bench/scale.py,
        # "new connections a charge"). The most a process opens is the same 6;
        # a 7th concurrent unit of work waits for one (a one-connection CLI or
        # backend never opens more than one); the web's threads ask more (pool_at_least).
        pool_size=max(pool_size, POOL_SIZE),  # the web asks one a worker thread
        max_overflow=0,
    )
    _ping_when_idle(engine)
    return engine


def _ping_when_idle(engine: Engine) -> None:
    """Test a pooled connection before use only when it has been idle PING_IDLE_S
    seconds or more; a dead one is replaced (DisconnectionError makes the pool
    connect afresh).

    SQLAlchemy's `pool_pre_ping` pings at every checkout: a round trip per unit of
    work, two per printed job. A connection used a moment ago is alive but for a
    server restarted within that moment, which takes longer than PING_IDLE_S."""

    @event.listens_for(engine, "checkin")
    def _checkin(_dbapi_conn: Any, record: Any) -> None:
        if record is not None:
            record.info["pagetally_idle_since"] = time.monotonic()

    @event.listens_for(engine, "checkout")
    def _checkout(dbapi_conn: Any, record: Any, _proxy: Any) -> None:
        since = record.info.get("pagetally_idle_since")
        if since is None or time.monotonic() - since < PING_IDLE_S:
            return  # fresh, or used a moment ago
        try:
            alive = engine.dialect.do_ping(dbapi_conn)
        except Exception as e:  # the driver's own error for a dead connection
            raise DisconnectionError(f"pooled connection is gone: {e}") from e
        if not alive:
            raise DisconnectionError("pooled connection is gone")


def _sqlite_events(engine: Engine, *, readonly: bool) -> None:
    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_conn: Any, _record: Any) -> None:
        dbapi_conn.isolation_level = None  # we emit BEGIN ourselves
        cur = dbapi_conn.cursor()
        cur.execute(f"PRAGMA busy_timeout = {int(SQLITE_BUSY_TIMEOUT_S * 1000)}")
        if not readonly:
            cur.execute("PRAGMA journal_mode = WAL")
        cur.execute("PRAGMA synchronous = NORMAL")
        cur.execute("PRAGMA foreign_keys = ON")
        if readonly:
            cur.execute("PRAGMA query_only = ON")
        cur.close()

    @event.listens_for(engine, "begin")
    def _on_begin(conn: Any) -> None:
        write = conn.get_execution_options().get("pagetally_write", False)
        conn.exec_driver_sql("BEGIN IMMEDIATE" if write else "BEGIN")


@contextlib.contextmanager
def sqlite_writer_turn(settings: StoreSettings) -> Iterator[None]:
    """Wait for our turn to write, on an OS lock beside the database file.

    SQLite's own busy handler polls with sleeps of up to 100 ms, which wastes most
    of the time when many backends write at once; a blocking flock hands the turn
    over at once. BEGIN IMMEDIATE and busy_timeout still guard other writers.
    """
    path = settings.name + ".writelock"
    try:
        fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o660)
    except OSError:  # a read-only folder: rely on SQLite's own locking
        yield
        return
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        yield
    finally:
        os.close(fd)  # closing releases the lock


def sqlite_parent_ok(settings: StoreSettings) -> None:
    """Refuse early, with a clear message, a SQLite path whose folder is missing."""
    parent = Path(settings.name).expanduser().parent
    if not parent.is_dir():
        raise StoreUnavailable(
            f"cannot open SQLite database {settings.name}: folder {parent} does not exist"
        )


def sqlite_exists(settings: StoreSettings, where: str) -> None:
    """Refuse a SQLite store whose file does not exist: only `pagetally db upgrade`
    (or setup) creates one, so that a typo in `storagename` is an error, not a new
    empty database. `where` names the configuration file."""
    path = Path(settings.name).expanduser()
    if settings.backend == "sqlite" and not path.exists():
        raise StoreUnavailable(
            f"the SQLite store {path} does not exist (storagename in {where}): check the "
            "name, or create it with `pagetally db upgrade`"
        )


# --- errors -------------------------------------------------------------------

_RETRYABLE_PG = {"40001", "40P01", "55P03"}  # serialization, deadlock, lock not available
_RETRYABLE_MYSQL = {1205, 1213}  # lock wait timeout, deadlock
_DENIED_PG = {"42501"}  # insufficient privilege
_DENIED_MYSQL = {1142, 1143, 1044, 1227, 1370}  # command/column/db denied
_UNAVAILABLE_MYSQL = {1045, 1049, 2002, 2003, 2005, 2006, 2013}
_UNIQUE_PG = {"23505"}
_UNIQUE_MYSQL = {1062}


def _codes(err: DBAPIError) -> tuple[str | None, int | None, str]:
    orig = err.orig
    pg = getattr(orig, "sqlstate", None)
    args = getattr(orig, "args", ())
    my = args[0] if args and isinstance(args[0], int) else None
    text = str(orig).strip().splitlines()[0] if str(orig).strip() else type(orig).__name__
    return pg, my, text


def is_retryable(err: DBAPIError) -> bool:
    """A deadlock, serialization failure or busy database: try the whole unit again."""
    pg, my, text = _codes(err)
    if pg in _RETRYABLE_PG or my in _RETRYABLE_MYSQL:
        return True
    return "database is locked" in text or "database is busy" in text


def is_unique_violation(err: DBAPIError) -> bool:
    pg, my, text = _codes(err)
    return pg in _UNIQUE_PG or my in _UNIQUE_MYSQL or "UNIQUE constraint failed" in text


def translate(err: DBAPIError, settings: StoreSettings, *, readonly: bool) -> StorageError:
    """A PageTally error for a driver error: no driver traceback reaches a person."""
    pg, my, text = _codes(err)
    where = describe(settings)
    if (
        pg in _DENIED_PG
        or my in _DENIED_MYSQL
        or "readonly database" in text
        or ("attempt to write a readonly database" in text)
    ):
        if readonly:
            return ReadOnlyStore(
                f"{where}: this is a read-only connection; writing needs the admin "
                "credentials (storageadmin in the admin-only secrets file)"
            )
        return StorageError(f"{where}: permission denied: {text}")
    unavailable = (
        err.connection_invalidated
        or my in _UNAVAILABLE_MYSQL
        or (pg is not None and pg.startswith(("08", "28", "3D", "57P")))
        or re.search(
            r"connection|could not connect|unable to open database|authentication|"
            r"Can't connect|Access denied|server closed|timeout expired",
            text,
            re.IGNORECASE,
        )
        is not None
    )
    if unavailable:
        return StoreUnavailable(f"cannot use the {where}: {_scrub(text)}")
    return StorageError(f"{where}: {_scrub(text)}")


def _scrub(text: str) -> str:
    """Drop anything that looks like a password from a driver message."""
    return re.sub(r"(password=)\S+", r"\1***", text)
