"""API tokens in the SQL store: added (the secret returned once), listed, revoked,
verified. Only the token's SHA-256 is stored (core/tokens.py says why that is
enough); a token is found by that hash through its unique index, one query.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, Row, bindparam, insert, select, update

from pagetally.core.tokens import (
    ApiToken,
    TokenRole,
    check_label,
    looks_like_token,
    new_secret,
    token_hash,
)
from pagetally.errors import InvalidInput, NotFound, StorageError
from pagetally.storage.base import TokenStore
from pagetally.storage.schema import apitokens, users
from pagetally.storage.sql_base import SqlBase

_COLUMNS: tuple[Any, ...] = (
    apitokens.c.id,
    users.c.username,
    apitokens.c.role,
    apitokens.c.label,
    apitokens.c.created,
    apitokens.c.expires,
    apitokens.c.revoked,
)


def _token_of(row: Row[Any]) -> ApiToken:
    m = row._mapping
    return ApiToken(
        id=int(m["id"]),
        user=str(m["username"]),
        role=TokenRole(m["role"]),
        label=str(m["label"]),
        created=m["created"],
        expires=m["expires"],
        revoked=m["revoked"],
    )


_JOINED = apitokens.join(users, users.c.id == apitokens.c.userid)
#: every API request's lookup, built once (the hash bound per request)
_BY_HASH = (
    select(*_COLUMNS).select_from(_JOINED).where(apitokens.c.tokenhash == bindparam("digest"))
)


def token_store(store: object) -> TokenStore:
    """`store` as a TokenStore; StorageError when it keeps no tokens."""
    if not isinstance(store, TokenStore):
        raise StorageError("this store keeps no API tokens (the SQL stores do)")
    return store


class TokenMethods(SqlBase):
    """The store's part that keeps API tokens."""

    def add_api_token(
        self,
        user: str,
        role: TokenRole,
        created: datetime,
        *,
        label: str = "",
        expires: datetime | None = None,
    ) -> tuple[ApiToken, str]:
        """A new token for `user`: (what is stored, the secret to show once).
        The caller checks `role` against the user's own (core.tokens.check_role).
        NotFound for an unknown user."""
        role = TokenRole(role)
        check_label(label)
        if expires is not None and expires <= created:
            raise InvalidInput("a token's expiry must be in the future")
        secret = new_secret()

        def work(conn: Connection) -> ApiToken:
            uid = conn.execute(select(users.c.id).where(users.c.username == user)).scalar()
            if uid is None:
                raise NotFound("user", user)
            key = conn.execute(
                insert(apitokens).values(
                    userid=uid,
                    tokenhash=token_hash(secret),
                    role=role.value,
                    label=label,
                    created=created,
                    expires=expires,
                )
            ).inserted_primary_key
            assert key is not None
            return ApiToken(int(key[0]), user, role, label, created, expires, None)

        return self._write(work), secret

    def api_tokens(self, users_: Sequence[str] | None = None) -> list[ApiToken]:
        """Tokens (revoked ones too), of these users or of everyone, oldest first."""

        def work(conn: Connection) -> list[ApiToken]:
            stmt = select(*_COLUMNS).select_from(_JOINED)
            if users_ is not None:
                stmt = stmt.where(users.c.username.in_(list(users_)))
            return [_token_of(r) for r in conn.execute(stmt.order_by(apitokens.c.id))]

        return self._read(work)

    def revoke_api_token(self, token_id: int, date: datetime) -> ApiToken:
        """Revoke a token from `date` on (a token revoked before stays as it was).
        NotFound for an unknown id."""

        def work(conn: Connection) -> ApiToken:
            conn.execute(
                update(apitokens)
                .where(apitokens.c.id == token_id, apitokens.c.revoked.is_(None))
                .values(revoked=date)
            )
            row = conn.execute(
                select(*_COLUMNS).select_from(_JOINED).where(apitokens.c.id == token_id)
            ).first()
            if row is None:
                raise NotFound("token", str(token_id))
            return _token_of(row)

        return self._write(work)

    def verify_api_token(self, secret: str, now: datetime) -> ApiToken | None:
        """The token `secret` is, when it is known, not revoked and not expired;
        else None (the caller says "invalid token", never which of these)."""
        if not looks_like_token(secret):
            return None
        digest = token_hash(secret)

        def work(conn: Connection) -> ApiToken | None:
            row = conn.execute(_BY_HASH, {"digest": digest}).first()
            return None if row is None else _token_of(row)

        token = self._read(work)
        return token if token is not None and token.valid_at(now) else None
