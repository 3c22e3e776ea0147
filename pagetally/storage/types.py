"""Column types that keep PageTally's two promises on every engine.

`Money`: exact Decimal with 6 decimals. PostgreSQL and MariaDB store NUMERIC(18, 6);
SQLite, which has no exact decimal type, stores an integer count of millionths, so
that `balance = balance - :price` stays exact there too.

`UtcDateTime`: timezone-aware UTC in, timezone-aware UTC out. PostgreSQL keeps
TIMESTAMPTZ; MariaDB naive UTC DATETIME(6); SQLite an integer count of microseconds
since 1970 (8 bytes instead of 26 of text, in the row and in every index on it).
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from threading import Lock
from typing import TYPE_CHECKING, Any

from sqlalchemy import BigInteger, DateTime, Dialect, Numeric, String
from sqlalchemy.types import TypeDecorator, TypeEngine

if TYPE_CHECKING:
    from sqlalchemy import Column

MONEY_PLACES = 6
_QUANTUM = Decimal(1).scaleb(-MONEY_PLACES)
_SCALE = 10**MONEY_PLACES
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


def to_money(value: Decimal | int | str) -> Decimal:
    """`value` rounded to the store's 6 decimals (a Decimal)."""
    return Decimal(value).quantize(_QUANTUM)


class Money(TypeDecorator[Decimal]):
    """Exact money: NUMERIC(18, 6), or integer millionths on SQLite."""

    impl = Numeric(18, MONEY_PLACES, asdecimal=True)
    cache_ok = True

    def load_dialect_impl(self, dialect: Dialect) -> TypeEngine[Any]:
        if dialect.name == "sqlite":
            return dialect.type_descriptor(BigInteger())
        return dialect.type_descriptor(Numeric(18, MONEY_PLACES, asdecimal=True))

    def process_bind_param(self, value: Decimal | None, dialect: Dialect) -> Any:
        if value is None:
            return None
        money = to_money(value)
        if dialect.name == "sqlite":
            return int(money * _SCALE)
        return money

    def process_result_value(self, value: Any, dialect: Dialect) -> Decimal | None:
        if value is None:
            return None
        if dialect.name == "sqlite":
            return to_money(Decimal(int(value)) / _SCALE)
        return to_money(Decimal(value))


class UtcDateTime(TypeDecorator[datetime]):
    """Aware UTC datetimes; naive input is refused (a bug, not a guess)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def load_dialect_impl(self, dialect: Dialect) -> TypeEngine[Any]:
        if dialect.name in ("mysql", "mariadb"):
            from sqlalchemy.dialects import mysql

            return dialect.type_descriptor(mysql.DATETIME(fsp=6))
        if dialect.name == "sqlite":
            return dialect.type_descriptor(BigInteger())
        return dialect.type_descriptor(DateTime(timezone=True))

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> Any:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given to the store; use timezone-aware UTC")
        utc = value.astimezone(UTC)
        if dialect.name == "sqlite":
            delta = utc - _EPOCH
            return (delta.days * 86400 + delta.seconds) * 1_000_000 + delta.microseconds
        if dialect.name == "postgresql":
            return utc
        return utc.replace(tzinfo=None)

    def process_result_value(self, value: Any, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if isinstance(value, int):  # SQLite's microseconds
            return _EPOCH + timedelta(microseconds=value)
        assert isinstance(value, datetime)
        if value.tzinfo is None:
            return value.replace(tzinfo=UTC)
        return value.astimezone(UTC)


#: name_type()'s columns made before MariaDB's dialect was loaded (see mysql_names).
_PLAIN_NAMES: dict[int, String] = {}
_names_lock = Lock()
_mysql_loaded = False


def name_type(length: int = 255) -> TypeEngine[str]:
    """A name column: case-sensitive everywhere (binary collation on MariaDB).

    Loading MariaDB's dialect for its VARCHAR costs every command's start-up, so
    until a MariaDB store is opened (`mysql_names`) this is a plain String, and
    the schema's columns get their MariaDB variant then."""
    with _names_lock:
        if _mysql_loaded:
            return _mysql_name(length)
        plain = String(length)
        _PLAIN_NAMES[id(plain)] = plain
        return plain


def _mysql_name(length: int) -> TypeEngine[str]:
    from sqlalchemy.dialects import mysql

    return String(length).with_variant(
        mysql.VARCHAR(length, charset="utf8mb4", collation="utf8mb4_bin"), "mysql", "mariadb"
    )


def mysql_names(columns: Iterable[Column[Any]]) -> None:
    """Give `columns` made by name_type() before now their MariaDB variant, and
    make name_type() return it from now on (a MariaDB store is being opened)."""
    global _mysql_loaded
    with _names_lock:
        _mysql_loaded = True
        for column in columns:
            plain = _PLAIN_NAMES.get(id(column.type))
            if plain is column.type:
                column.type = _mysql_name(plain.length or 255)
