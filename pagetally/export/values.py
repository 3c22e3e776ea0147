"""Values as scripts read them, in every machine format (CLI output, dumps, the
API's exports): money a decimal string ("4.70": 2 or more places, exact),
counters integers, dates ISO 8601 in UTC, enums their value, a missing value
empty (CSV) or null (JSON). Light: the CLI's start-up imports it.
"""

from __future__ import annotations

import enum
import functools
import json
from collections.abc import Iterable
from datetime import datetime
from decimal import Decimal
from typing import IO, Any

from pagetally.core.money import PRICE_PLACES, format_money

Row = dict[str, Any]


_PLAIN = (str, int, bool, type(None))


@functools.lru_cache(maxsize=8192)
def _money(value: Decimal) -> str:
    """Exact: amounts have 6 places at most, prices (price tables) up to 12."""
    return format_money(value, places=PRICE_PLACES)


def machine(value: Any) -> Any:
    """A value as it appears in JSON: Decimal -> str ("4.70": 2 or more places,
    exact), datetime -> ISO 8601, enum -> its value."""
    if type(value) in _PLAIN:
        return value
    if isinstance(value, Decimal):
        return _money(value)
    if isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, enum.Enum):
        return value.value
    return value


def text(value: Any) -> str:
    """A value as it appears in CSV: like JSON, None -> empty."""
    v = machine(value)
    if v is None:
        return ""
    if isinstance(v, bool):
        return "yes" if v else "no"
    return str(v)


def write_json_stream(out: IO[str], rows: Iterable[Row], indent: str = "") -> None:
    """A JSON list written as it is read, one object per line: millions of rows
    never sit in memory."""
    out.write("[")
    first = True
    for r in rows:
        out.write("\n" if first else ",\n")
        out.write(
            indent + " " + json.dumps({k: machine(v) for k, v in r.items()}, ensure_ascii=False)
        )
        first = False
    out.write("\n" + indent + "]" if not first else "]")
