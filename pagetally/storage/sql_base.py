"""The SQL store's machinery: engines, units of work, schema checks, migrations.

Each public method of the store is one unit of work (`_read` or `_write`): it
commits whole or not at all, is retried whole on a deadlock or busy database, and
turns driver errors into PageTally's (StoreUnavailable naming the server,
ReadOnlyStore, ...). SQLite writers take turns on an OS lock first.
"""

from __future__ import annotations

import contextlib
import os
import time
from collections.abc import Callable
from typing import Any, Self, TypeVar

from sqlalchemy import Connection, Engine, inspect, text
from sqlalchemy.exc import DBAPIError, IntegrityError

from pagetally.errors import (
    AlreadyExists,
    InvalidInput,
    ReadOnlyStore,
    SchemaOutOfDate,
    StorageError,
    StoreUnavailable,
)
from pagetally.storage.base import StoreSettings
from pagetally.storage.engine import (
    backend_of,
    describe,
    is_retryable,
    is_unique_violation,
    make_engine,
    sqlite_writer_turn,
    translate,
)
from pagetally.storage.schema import (
    SCHEMA_REVISION,
)

T = TypeVar("T")
RETRIES = 30


class _Conflict(Exception):
    """A concurrent writer got there first: run the unit of work again."""


class SqlBase:
    """What every part of the SQL store shares: settings, engine, units of work."""

    def __init__(self, settings: StoreSettings, *, readonly: bool = False) -> None:
        self.settings = settings
        self.readonly = readonly
        self.backend = backend_of(settings)
        self._engine: Engine = make_engine(settings, readonly=readonly)
        self._schema_ok = False
        self._file_id: tuple[int, int] | None = None  # SQLite: the file's device and inode
        # PostgreSQL: each account's state as this store's last charge left it
        # (pg_charge.decide_and_charge_once decides on it, the server checks it)
        self._pg_states: dict[tuple[str, str, str | None], str] = {}
        if self.backend == "sqlite":
            with contextlib.suppress(StoreUnavailable):
                self._same_file()  # the file as it is now, when it exists

    # --- units of work -------------------------------------------------------
    def _unit(self, fn: Callable[[Connection], T], *, write: bool) -> T:
        if write and self.readonly:
            raise ReadOnlyStore(
                f"the {describe(self.settings)} is open read-only: this change needs the "
                "admin credentials (storageadmin in the admin-only secrets file)"
            )
        if self.backend == "sqlite":
            self._same_file()
        if not self._schema_ok:
            self._check_schema()
            if self.backend == "sqlite" and self._file_id is None:
                self._same_file()  # created just now
        delay = 0.005
        for attempt in range(RETRIES):
            try:
                turn = (
                    sqlite_writer_turn(self.settings)
                    if write and self.backend == "sqlite"
                    else contextlib.nullcontext()
                )
                with turn, self._engine.connect() as conn:
                    if write:
                        conn.execution_options(pagetally_write=True)
                    elif self.backend == "postgresql":
                        # READ COMMITTED gives each statement its own snapshot, in a
                        # transaction or not: a read skips BEGIN and COMMIT, two
                        # round trips (psycopg sends BEGIN on its own)
                        conn.execution_options(isolation_level="AUTOCOMMIT")
                    with conn.begin():
                        return fn(conn)
            except _Conflict:
                pass
            except OverflowError as err:  # a number beyond the driver's 64-bit range
                raise InvalidInput(
                    f"a number is too large for the {describe(self.settings)} ({err})"
                ) from None
            except DBAPIError as err:
                if attempt == RETRIES - 1 or not is_retryable(err):
                    raise translate(err, self.settings, readonly=self.readonly) from None
            time.sleep(delay)
            delay = min(delay * 2, 0.5)
        raise StorageError(f"{describe(self.settings)}: too many conflicting writers, gave up")

    def _same_file(self) -> None:
        """A SQLite file moved or deleted under a running process would otherwise
        go on taking charges through its open connections, where nobody looks
        (or be created again, empty): noticed here, before every unit of work
        (one stat). A file replaced by another is used from then on."""
        name = self.settings.name
        if not name or name == ":memory:" or name.startswith("file:"):
            return
        try:
            st = os.stat(name)
        except FileNotFoundError:
            if self._file_id is None:
                return  # not created yet: `upgrade` creates it
            self._engine.dispose()
            raise StoreUnavailable(
                f"the SQLite database {name} was moved or deleted while in use"
            ) from None
        except OSError as e:
            raise StoreUnavailable(f"cannot reach the SQLite database {name}: {e}") from None
        ident = (st.st_dev, st.st_ino)
        if self._file_id is not None and ident != self._file_id:
            self._engine.dispose()  # its connections hold the old file open
            self._schema_ok = False
        self._file_id = ident

    def _read(self, fn: Callable[[Connection], T]) -> T:
        return self._unit(fn, write=False)

    def _write(self, fn: Callable[[Connection], T]) -> T:
        return self._unit(fn, write=True)

    # --- lifecycle -------------------------------------------------------------
    def schema_revision(self) -> str | None:
        """The revision the database is at (None: no PageTally schema yet)."""
        try:
            with self._engine.connect() as conn:
                if not inspect(conn).has_table("alembic_version"):
                    return None
                found = conn.execute(text("SELECT version_num FROM alembic_version")).scalar()
                return None if found is None else str(found)
        except DBAPIError as err:
            raise translate(err, self.settings, readonly=self.readonly) from None

    def _check_schema(self) -> None:
        if self.backend == "sqlite":
            from pagetally.storage.engine import sqlite_parent_ok

            sqlite_parent_ok(self.settings)
        found = self.schema_revision()
        if found == SCHEMA_REVISION:
            self._schema_ok = True
            return
        if found is not None and found > SCHEMA_REVISION:
            raise StorageError(
                f"the {describe(self.settings)} has schema {found}, newer than this "
                f"PageTally ({SCHEMA_REVISION}): upgrade PageTally"
            )
        if self.backend == "sqlite":  # one server's own file: created and migrated on use
            self._migrate()
            self._schema_ok = True
            return
        state = "has no PageTally schema" if found is None else f"has schema {found}"
        raise SchemaOutOfDate(
            f"the {describe(self.settings)} {state}; this PageTally needs {SCHEMA_REVISION}: "
            "run `pagetally db upgrade`"
        )

    def upgrade(self) -> None:
        if self.readonly:
            raise ReadOnlyStore(
                f"the {describe(self.settings)} is open read-only: `pagetally db upgrade` "
                "needs the admin credentials"
            )
        if self.backend == "sqlite":
            from pagetally.storage.engine import sqlite_parent_ok

            sqlite_parent_ok(self.settings)
        self._migrate()
        self._schema_ok = True

    def _migrate(self) -> None:
        from pagetally.storage.migrate import upgrade_to_head

        # a read-only SQLite store migrates its file through a writing connection
        # (SQLite has no roles; the file's permissions are the guard)
        engine = make_engine(self.settings, readonly=False) if self.readonly else self._engine
        try:
            upgrade_to_head(engine)
        except DBAPIError as err:
            raise translate(err, self.settings, readonly=self.readonly) from None
        finally:
            if engine is not self._engine:
                engine.dispose()

    def pool_at_least(self, size: int) -> None:
        """Keep `size` connections open for reuse (a server running units of work
        in `size` threads at once); the engine is replaced when its pool is smaller."""
        if self._engine.pool.size() >= size:  # type: ignore[attr-defined]
            return
        old = self._engine
        self._engine = make_engine(self.settings, readonly=self.readonly, pool_size=size)
        old.dispose()

    def close(self) -> None:
        self._engine.dispose()

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # --- helpers ---------------------------------------------------------------
    @staticmethod
    def _insert(conn: Connection, stmt: Any, kind: str, name: str) -> int:
        try:
            key = conn.execute(stmt).inserted_primary_key
        except IntegrityError as err:
            if is_unique_violation(err):
                raise AlreadyExists(kind, name) from None
            raise
        assert key is not None
        return int(key[0])

    @staticmethod
    def _upsert(fn: Callable[[Connection], T]) -> Callable[[Connection], T]:
        """A create-or-update that lost a race to a concurrent create runs again."""

        def work(conn: Connection) -> T:
            try:
                return fn(conn)
            except IntegrityError as err:
                if is_unique_violation(err):
                    raise _Conflict from None
                raise

        return work
