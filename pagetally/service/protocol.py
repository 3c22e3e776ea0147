"""The wire protocol between the backend and `pagetally serve`: JSON lines.

A request is one line `{"op": NAME, "args": {...}}`; the answer one line
`{"ok": VALUE}` or `{"error": {"type": CLASS, "message": TEXT, "attrs": {...}}}`.
Values travel through `pagetally.core.codec` (exact Decimals, aware datetimes,
enums by value). An error's `type` names a class of `pagetally.errors`, and the
client raises that same class, so the backend's policies (store down, already
exists, not found) work the same remotely as with a local store.

`OPS` is the whole vocabulary: the Store methods the backend and its journal use,
plus a few reads and account creations. Anything else is refused.
This module imports only the standard library and `core`, never SQLAlchemy.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from pagetally import errors
from pagetally.core import codec
from pagetally.core.dialogs import Answer
from pagetally.core.models import (
    AccountSnapshot,
    BillingCode,
    ChargeRequest,
    ChargeResult,
    Group,
    JobFacts,
    JobRecord,
    Printer,
    User,
    UserQuota,
)
from pagetally.storage.base import HistoryFilter

PROTOCOL_VERSION = 1
MAX_LINE = 1 << 20  # bytes in one request or answer line (a snapshot is a few KB)


@dataclass(frozen=True)
class Op:
    """A remote call: argument names and types (in order), and the result's type."""

    args: tuple[tuple[str, Any], ...]
    result: Any


OPS: dict[str, Op] = {
    "ping": Op((), dict[str, str]),
    "snapshot": Op(
        (("user", str), ("printer", str), ("billing_code", str | None)), AccountSnapshot
    ),
    "charge": Op((("request", ChargeRequest),), ChargeResult),
    "history": Op((("flt", HistoryFilter),), list[JobRecord]),
    "record_job_answers": Op(
        (("facts", JobFacts), ("answers", list[Answer]), ("date", datetime)), int
    ),
    "add_billing_code": Op((("code", BillingCode),), BillingCode),
    "get_billing_code": Op((("code", str),), BillingCode),
    "get_user": Op((("name", str),), User),
    "get_user_pin_hash": Op((("name", str),), str | None),
    "get_printer": Op((("name", str),), Printer),
    "get_user_quota": Op((("user", str), ("printer", str)), UserQuota),
    "groups_of": Op((("user", str),), list[Group]),
    "printer_chain": Op((("printer", str),), list[Printer]),
    "add_user": Op((("user", User), ("opening", str)), User),
    "add_printer": Op((("printer", Printer),), Printer),
    "set_user_quota": Op(
        (
            ("user", str),
            ("printer", str),
            ("soft_limit", int | None),
            ("hard_limit", int | None),
            ("max_job_size", int | None),
        ),
        UserQuota,
    ),
}


class ProtocolError(errors.StoreUnavailable):
    """The other side sent something that is not this protocol (or nothing)."""


def encode_request(op: str, args: dict[str, Any]) -> bytes:
    return (
        json.dumps(
            {"op": op, "args": codec.to_jsonable(args)}, separators=(",", ":"), ensure_ascii=False
        )
        + "\n"
    ).encode()


def decode_request(line: bytes) -> tuple[str, Op, dict[str, Any]]:
    """(op name, op, typed arguments); InvalidInput for anything malformed."""
    try:
        data = json.loads(line)
    except (UnicodeDecodeError, json.JSONDecodeError) as e:
        raise errors.InvalidInput(f"not a JSON request: {e}") from None
    if not isinstance(data, dict) or not isinstance(data.get("op"), str):
        raise errors.InvalidInput("a request is an object with an 'op'")
    name, raw = data["op"], data.get("args", {})
    op = OPS.get(name)
    if op is None:
        raise errors.InvalidInput(f"unknown operation {name[:40]!r}")
    if not isinstance(raw, dict):
        raise errors.InvalidInput("'args' must be an object")
    unknown = set(raw) - {n for n, _ in op.args}
    if unknown:
        raise errors.InvalidInput(f"{name}: unknown argument(s) {sorted(unknown)}")
    try:
        args = {n: codec.from_jsonable(tp, raw[n]) for n, tp in op.args if n in raw}
    except (KeyError, TypeError, ValueError, ArithmeticError) as e:
        raise errors.InvalidInput(f"{name}: bad arguments ({type(e).__name__}: {e})") from None
    return name, op, args


def encode_result(value: object) -> bytes:
    return (codec.dumps({"ok": value}) + "\n").encode()


def encode_error(exc: errors.PageTallyError) -> bytes:
    attrs = {k: v for k, v in vars(exc).items() if isinstance(v, str | int | None)}
    body = {"type": type(exc).__name__, "message": str(exc), "attrs": attrs}
    return (json.dumps({"error": body}, ensure_ascii=False) + "\n").encode()


def decode_answer(line: bytes, result_type: Any) -> Any:
    """The answer's value, or raise the error it carries as its own class."""
    try:
        data = json.loads(line)
    except (UnicodeDecodeError, json.JSONDecodeError) as e:
        raise ProtocolError(f"the accounting service sent garbage: {e}") from None
    if not isinstance(data, dict):
        raise ProtocolError("the accounting service sent garbage")
    if "error" in data:
        raise error_from(data["error"])
    if "ok" not in data:
        raise ProtocolError("the accounting service sent an answer without a value")
    return codec.from_jsonable(result_type, data["ok"])


def error_from(body: object) -> errors.PageTallyError:
    """Rebuild a typed error: the same pagetally.errors class, message and attributes.

    A name that is not a PageTallyError class there becomes a plain StorageError."""
    if not isinstance(body, dict):
        return ProtocolError("the accounting service sent a malformed error")
    name, message = str(body.get("type", "")), str(body.get("message", ""))
    cls = getattr(errors, name, None)
    if not (isinstance(cls, type) and issubclass(cls, errors.PageTallyError)):
        return errors.StorageError(f"accounting service: {name}: {message}")
    exc = cls.__new__(cls)
    Exception.__init__(exc, message)  # skip subclasses' own __init__ (kind, name, ...)
    attrs = body.get("attrs")
    if isinstance(attrs, dict):
        for key, value in attrs.items():
            if isinstance(key, str) and not key.startswith("_"):
                setattr(exc, key, value)
    return exc
