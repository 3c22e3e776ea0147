"""What every API route shares: JSON errors, the store and clock, the caller,
bearer tokens, and values as JSON.

Errors are JSON `{"detail": "..."}` with the status PageTally's error carries
(errors.py: 400 bad input, 404 unknown, 409 conflict, 503 store down); a
request FastAPI cannot read is its own 422. A bearer token (`Authorization:
Bearer ptk_...`, `pagetally tokens add`) is one more identity resolver: it acts
with the lesser of its role and its user's role now (core/tokens.py).
"""

from __future__ import annotations

import enum
import operator
import time
from collections.abc import Callable, Coroutine
from datetime import datetime
from decimal import Decimal
from typing import Any

from fastapi import HTTPException, Request, Response
from fastapi.responses import JSONResponse
from fastapi.routing import APIRoute

from pagetally.core.tokens import TokenRole, lesser
from pagetally.errors import PageTallyError, StorageError
from pagetally.export.values import machine
from pagetally.storage.base import ApiStore
from pagetally.web.identity import identity_for, state_of
from pagetally.web.rights import Identity, Role

PREFIX = "/api/v1"


class ApiRoute(APIRoute):
    """A route whose PageTally errors become JSON with their HTTP status (an
    unexpected one is still a 500, logged by the server)."""

    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        handler = super().get_route_handler()

        async def run(request: Request) -> Response:
            try:
                return await handler(request)
            except PageTallyError as exc:
                from pagetally.web.metrics import count_store_error

                if isinstance(exc, StorageError) and exc.http_status >= 500:
                    count_store_error()
                return JSONResponse({"detail": str(exc)}, status_code=exc.http_status)

        return run


def store_of(request: Request) -> ApiStore:
    store = state_of(request).store
    return store  # type: ignore[return-value]  # the SQL store is an ApiStore


def now_of(request: Request) -> datetime:
    return state_of(request).now()


def answer(data: Any) -> JSONResponse:
    """`data` (JSON values already, see `row`) as the response, as it is: FastAPI
    would otherwise walk it again (jsonable_encoder), the largest part of a
    page's time."""
    return JSONResponse(data)


_PLAIN = frozenset({str, int, bool, type(None)})
#: how a value of a type becomes JSON (enums are added as met)
_CONVERT: dict[type, Callable[[Any], Any]] = {Decimal: machine, datetime: datetime.isoformat}
#: a dataclass's field names, by class (None: not a dataclass)
_FIELDS: dict[type, tuple[str, ...] | None] = {}


def row(value: Any) -> Any:
    """A dataclass (or list of them) as JSON values: money as exact strings,
    dates ISO 8601, enums their value; `id` fields kept. (A page of jobs is
    a thousand values: each is converted by its type's function, found once.)"""
    cls = type(value)
    if cls in _PLAIN:
        return value
    convert = _CONVERT.get(cls)
    if convert is not None:
        return convert(value)
    if cls is list:
        return [row(v) for v in value]
    names = _FIELDS.get(cls, ())
    if names == ():
        fields = getattr(value, "__dataclass_fields__", None)
        names = _FIELDS[cls] = None if fields is None else tuple(fields)
    if names is None:
        if isinstance(value, enum.Enum):
            _CONVERT[cls] = operator.attrgetter("value")
        return machine(value)
    plain, conv = _PLAIN, _CONVERT
    out = {}
    for name in names:
        v = getattr(value, name)
        kind = type(v)
        if kind in plain:
            out[name] = v
        else:
            c = conv.get(kind)
            out[name] = c(v) if c is not None else row(v)
    return out


_ROLE = {
    TokenRole.USER: Role.USER,
    TokenRole.READONLY: Role.READONLY_ADMIN,
    TokenRole.ADMIN: Role.ADMIN,
}
_TOKEN_ROLE = {v: k for k, v in _ROLE.items()}


def bearer_token(request: Request) -> Identity | None:
    """The identity of an `Authorization: Bearer` token; 401 for a token that is
    unknown, revoked or expired (never which); None when there is no token."""
    header = request.headers.get("authorization")
    if not header:
        return None
    scheme, _, secret = header.partition(" ")
    if scheme.lower() != "bearer":
        return None
    state = state_of(request)
    verify = getattr(state.store, "verify_api_token", None)
    token = verify(secret.strip(), state.now()) if verify is not None else None
    if token is None:
        raise HTTPException(
            401,
            "invalid token (unknown, revoked or expired)",
            headers={"WWW-Authenticate": "Bearer"},
        )
    if token.expires is not None:  # the identity cache keeps it no longer than the token lives
        left = (token.expires - state.now()).total_seconds()
        request.state.identity_until = time.monotonic() + left
    own = identity_for(state, token.user, "token")
    role = _ROLE[lesser(token.role, _TOKEN_ROLE[own.role])]
    return Identity(token.user, role, "token")
