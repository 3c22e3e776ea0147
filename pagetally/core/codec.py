"""The domain's values as JSON and back, exactly: Decimal as text, datetimes as
ISO 8601 with offset, enums by value, tuples and dicts (tuple keys joined).

Used where a value leaves the process: the backend's local journal of charges
made while the store was down, and messages between the backend and a resident
accounting service. Only the dataclasses of `core.models` are expected.
"""

from __future__ import annotations

import dataclasses
import enum
import json
import types
import typing
from datetime import datetime
from decimal import Decimal
from functools import cache
from typing import Any, TypeVar

T = TypeVar("T")
_KEY_SEP = "\x1f"  # joins tuple keys (group, printer): a character no name holds


def to_jsonable(value: object) -> Any:
    """Turn a models value (dataclass, Decimal, datetime, enum, ...) into JSON data."""
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {f.name: to_jsonable(getattr(value, f.name)) for f in dataclasses.fields(value)}
    if isinstance(value, enum.Enum):
        return value.value
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, dict):
        return {
            (_KEY_SEP.join(k) if isinstance(k, tuple) else str(k)): to_jsonable(v)
            for k, v in value.items()
        }
    if isinstance(value, list | tuple):
        return [to_jsonable(v) for v in value]
    return value


def dumps(value: object) -> str:
    return json.dumps(to_jsonable(value), separators=(",", ":"), ensure_ascii=False)


def loads(cls: type[T], text: str) -> T:
    value: T = from_jsonable(cls, json.loads(text))
    return value


@cache
def _hints(cls: type) -> dict[str, Any]:
    return typing.get_type_hints(cls)


def from_jsonable(tp: Any, data: Any) -> Any:
    """Rebuild a value of type `tp` from `to_jsonable`'s output."""
    if data is None:
        return None
    origin = typing.get_origin(tp)
    if origin in (typing.Union, types.UnionType):
        args = [a for a in typing.get_args(tp) if a is not type(None)]
        return from_jsonable(args[0], data) if len(args) == 1 else data
    if dataclasses.is_dataclass(tp) and isinstance(tp, type):
        hints = _hints(tp)
        kwargs = {
            f.name: from_jsonable(hints[f.name], data[f.name])
            for f in dataclasses.fields(tp)
            if f.name in data
        }
        return tp(**kwargs)
    if origin is dict:
        ktype, vtype = typing.get_args(tp)
        out = {}
        for k, v in data.items():
            key: Any = tuple(k.split(_KEY_SEP)) if typing.get_origin(ktype) is tuple else k
            out[key] = from_jsonable(vtype, v)
        return out
    if origin is tuple:
        targs = typing.get_args(tp)
        if len(targs) == 2 and targs[1] is Ellipsis:
            return tuple(from_jsonable(targs[0], v) for v in data)
        return tuple(from_jsonable(a, v) for a, v in zip(targs, data, strict=True))
    if origin is list:
        (item,) = typing.get_args(tp)
        return [from_jsonable(item, v) for v in data]
    if isinstance(tp, type):
        if issubclass(tp, enum.Enum):
            return tp(data)
        if tp is Decimal:
            return Decimal(data)
        if tp is datetime:
            return datetime.fromisoformat(data)
    return data
