"""Reading a PyKota store: where it is (pykota.conf + pykotadmin.conf) and its rows.

PyKota 1.2x kept its data in PostgreSQL, MySQL or SQLite with one schema (its
initscripts/): tables users, groups, groupsmembers, printers, printergroupsmembers,
userpquota, grouppquota, jobhistory, payments, billingcodes, coefficients. Money is
FLOAT there (double on PostgreSQL and SQLite, single on MySQL), dates are naive
TIMESTAMPs (the server's local time) or, on SQLite, text. This module only reads:
the values come back raw (`Row`s) and `exact_money`/`naive_date` turn them into
PageTally's types, pure and testable.
"""

from __future__ import annotations

import configparser
from collections.abc import Iterator
from datetime import datetime, tzinfo
from decimal import Decimal
from pathlib import Path
from typing import Any

from sqlalchemy import Connection, Engine, column, func, select, table
from sqlalchemy.exc import DBAPIError

from pagetally.errors import ConfigError, StorageError, StoreUnavailable
from pagetally.storage.base import StoreSettings
from pagetally.storage.engine import make_engine, translate
from pagetally.storage.types import to_money

#: PyKota's storagebackend names and ours.
BACKENDS = {"pgstorage": "postgresql", "mysqlstorage": "mysql", "sqlitestorage": "sqlite"}

#: The columns read from each PyKota table (facts of its initscripts/).
COLUMNS: dict[str, tuple[str, ...]] = {
    "users": (
        "id",
        "username",
        "email",
        "balance",
        "lifetimepaid",
        "limitby",
        "description",
        "overcharge",
    ),
    "groups": ("id", "groupname", "description", "limitby"),
    "groupsmembers": ("groupid", "userid"),
    "printers": (
        "id",
        "printername",
        "description",
        "priceperpage",
        "priceperjob",
        "passthrough",
        "maxjobsize",
    ),
    "printergroupsmembers": ("groupid", "printerid"),
    "userpquota": (
        "id",
        "userid",
        "printerid",
        "lifepagecounter",
        "pagecounter",
        "softlimit",
        "hardlimit",
        "datelimit",
        "maxjobsize",
        "warncount",
    ),
    "grouppquota": (
        "id",
        "groupid",
        "printerid",
        "softlimit",
        "hardlimit",
        "maxjobsize",
        "datelimit",
    ),
    "jobhistory": (
        "id",
        "jobid",
        "userid",
        "printerid",
        "pagecounter",
        "jobsizebytes",
        "jobsize",
        "jobprice",
        "action",
        "filename",
        "title",
        "copies",
        "options",
        "hostname",
        "md5sum",
        "billingcode",
        "precomputedjobsize",
        "precomputedjobprice",
        "jobdate",
    ),
    "payments": ("id", "userid", "amount", "description", "date"),
    "billingcodes": ("id", "billingcode", "description", "balance", "pagecounter"),
    "coefficients": ("id", "printerid", "label", "coefficient"),
}


def _read_ini(path: Path) -> dict[str, str]:
    parser = configparser.RawConfigParser(strict=False)
    try:
        with path.open(encoding="utf-8", errors="replace") as fh:
            parser.read_file(fh)
    except FileNotFoundError:
        raise ConfigError("PyKota configuration file not found", path=str(path)) from None
    except PermissionError:
        raise ConfigError(
            "cannot read this file (permission denied; run as root or as PyKota's admin)",
            path=str(path),
        ) from None
    except configparser.Error as exc:
        raise ConfigError(f"not a PyKota configuration file: {exc}", path=str(path)) from None
    if not parser.has_section("global"):
        raise ConfigError("no [global] section: not a PyKota configuration file", path=str(path))
    return {k.lower(): v.strip() for k, v in parser.items("global")}


def settings_from(conf: str | Path) -> StoreSettings:
    """PyKota's store as `StoreSettings`, from its pykota.conf and the pykotadmin.conf
    beside it (its admin credentials; without that file the read-only ones are used:
    reading is all the import does). ConfigError names the file and directive."""
    path = Path(conf)
    main = _read_ini(path)
    admin_path = path.with_name("pykotadmin.conf")
    admin = _read_ini(admin_path) if admin_path.exists() else {}
    raw = main.get("storagebackend", "")
    if raw not in BACKENDS:
        hint = " (LDAP stores cannot be imported yet)" if raw == "ldapstorage" else ""
        raise ConfigError(
            f"storagebackend {raw!r} is not pgstorage, mysqlstorage or sqlitestorage{hint}",
            path=str(path),
            directive="storagebackend",
        )
    name = main.get("storagename", "")
    if not name:
        raise ConfigError("storagename is not set", path=str(path), directive="storagename")
    backend = BACKENDS[raw]
    server = main.get("storageserver") or None
    if backend == "sqlite":
        return StoreSettings(backend="sqlite", name=name)
    user = admin.get("storageadmin") or main.get("storageuser")
    password = (
        admin.get("storageadminpw") if admin.get("storageadmin") else main.get("storageuserpw")
    )
    if not user:
        raise ConfigError(
            "neither storageadmin (pykotadmin.conf) nor storageuser is set",
            path=str(path),
            directive="storageuser",
        )
    return StoreSettings(
        backend=backend, name=name, server=server, user=user, password=password or ""
    )


def describe_source(settings: StoreSettings) -> str:
    if settings.backend == "sqlite":
        return f"PyKota's SQLite database {settings.name}"
    return (
        f"PyKota's {settings.backend} database {settings.name!r} on "
        f"{settings.server or 'localhost'}"
    )


class PyKotaSource:
    """A read-only connection to a PyKota store."""

    def __init__(self, settings: StoreSettings) -> None:
        self.settings = settings
        if settings.backend == "sqlite" and not Path(settings.name).is_file():
            raise StoreUnavailable(
                f"{describe_source(settings)} does not exist (storagename in pykota.conf)"
            )
        self.engine: Engine = make_engine(settings, readonly=True)
        self._check()

    def _fail(self, err: DBAPIError) -> StorageError:
        return translate(err, self.settings, readonly=True)

    def _check(self) -> None:
        try:
            with self.engine.connect() as conn:
                missing = [t for t in COLUMNS if not self.engine.dialect.has_table(conn, t)]
        except DBAPIError as err:
            raise self._fail(err) from None
        if missing:
            raise StorageError(
                f"{describe_source(self.settings)} is not a PyKota store: "
                f"table(s) {', '.join(missing)} missing"
            )

    def rows(self, name: str) -> list[Any]:
        """Every row of a small table, ordered by its key."""
        return list(self.stream(name))

    def stream(self, name: str, *, after: int | None = None, chunk: int = 5000) -> Iterator[Any]:
        """The rows of `name` ordered by id (or the whole key), read in chunks of
        `chunk` by keyset (id > last), so that a million jobs never sit in memory
        and no server-side cursor is held open across our writes."""
        cols = COLUMNS[name]
        tbl = table(name, *(column(c) for c in cols))
        if cols[0] != "id":  # the membership tables: small, read whole
            try:
                with self.engine.connect() as conn:
                    yield from conn.execute(select(tbl).order_by(*tbl.c)).fetchall()
            except DBAPIError as err:
                raise self._fail(err) from None
            return
        last = -(2**62) if after is None else after
        while True:
            try:
                with self.engine.connect() as conn:
                    batch = conn.execute(
                        select(tbl).where(tbl.c.id > last).order_by(tbl.c.id).limit(chunk)
                    ).fetchall()
            except DBAPIError as err:
                raise self._fail(err) from None
            yield from batch
            if len(batch) < chunk:
                return
            last = batch[-1].id

    def scalar(self, fn: Any) -> Any:
        try:
            with self.engine.connect() as conn:
                return fn(conn)
        except DBAPIError as err:
            raise self._fail(err) from None

    def count(self, name: str) -> int:
        tbl = table(name)
        return int(
            self.scalar(lambda c: c.execute(select(func.count()).select_from(tbl)).scalar_one())
        )

    def sum_pages(self) -> int:
        tbl = table("jobhistory", column("jobsize"))

        def work(conn: Connection) -> int:
            return int(conn.execute(select(func.coalesce(func.sum(tbl.c.jobsize), 0))).scalar_one())

        return int(self.scalar(work))

    def close(self) -> None:
        self.engine.dispose()


# --- values -------------------------------------------------------------------


def exact_money(value: Any) -> tuple[Decimal, Decimal]:
    """(what PyKota meant, that rounded to the store's 6 places) for one FLOAT.

    What PyKota meant is the shortest decimal that reads back as the same float
    (`repr`): 0.1 is 0.1, not 0.1000000000000000055...; 0.1 + 0.2 is
    0.30000000000000004, which the store keeps as 0.300000 (and the caller reports).
    NULL is 0."""
    if value is None:
        exact = Decimal(0)
    elif isinstance(value, float):
        if value != value or value in (float("inf"), float("-inf")):
            raise StorageError(f"PyKota holds a money value that is not a number: {value!r}")
        exact = Decimal(repr(value))
    else:
        exact = Decimal(str(value))
    return exact, to_money(exact)


def naive_date(value: Any, tz: tzinfo) -> datetime | None:
    """A PyKota date (datetime, or SQLite's text) as aware UTC; naive ones are in `tz`
    (PyKota wrote the server's local time). None/'' stays None; bad text raises."""
    if value is None or value == "":
        return None
    if isinstance(value, datetime):
        when = value
    else:
        text = str(value).strip()
        try:
            when = datetime.fromisoformat(text)
        except ValueError:
            raise StorageError(f"PyKota holds a date that cannot be read: {text!r}") from None
    if when.tzinfo is None:
        when = when.replace(tzinfo=tz)
    from datetime import UTC

    return when.astimezone(UTC)


def truthy(value: Any) -> bool:
    """PyKota's passthrough: BOOLEAN, ENUM('t','f') or SQLite's 0/1/'t'/'true'."""
    if isinstance(value, str):
        return value.strip().lower() in ("t", "true", "1", "yes", "y")
    return bool(value)
