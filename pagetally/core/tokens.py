"""API tokens for scripts (`pagetally tokens`, the REST API, the notifier client).

A token is a random secret shown once; the store keeps only its SHA-256 (a
secret of 256 random bits needs no slow hash: nobody can guess it, and a
leaked table gives nobody a token). A token belongs to a user and carries a
role no greater than the user's own; when used, it acts with the lesser of its
role and the user's role at that moment, so a user who loses a role loses it
for their tokens too.
"""

from __future__ import annotations

import enum
import hashlib
import secrets
from dataclasses import dataclass
from datetime import datetime

from pagetally.errors import InvalidInput

#: Every token starts so: a scanner for leaked secrets (or a person) knows it.
PREFIX = "ptk_"
#: Random bytes in a token (256 bits).
SECRET_BYTES = 32
LABEL_MAX = 200


class TokenRole(enum.StrEnum):
    """What a token may do: the web's three roles, weakest first."""

    USER = "user"  # sees and acts for its user only
    READONLY = "readonly-admin"  # sees everything, changes nothing (web.rights.Role)
    ADMIN = "admin"  # sees and changes everything

    @property
    def rank(self) -> int:
        return _RANK[self]


_RANK = {TokenRole.USER: 0, TokenRole.READONLY: 1, TokenRole.ADMIN: 2}


def lesser(a: TokenRole, b: TokenRole) -> TokenRole:
    """The weaker of two roles (what a token acts with: its own or its user's)."""
    return a if a.rank <= b.rank else b


def check_role(requested: TokenRole, user_role: TokenRole, user: str) -> TokenRole:
    """`requested`, when it is no greater than the user's own role; else InvalidInput."""
    if requested.rank > user_role.rank:
        raise InvalidInput(
            f"a token of user {user} cannot have role {requested.value}: "
            f"{user}'s own role is {user_role.value}"
        )
    return requested


def new_secret() -> str:
    """A fresh token: the prefix and 43 URL-safe characters."""
    return PREFIX + secrets.token_urlsafe(SECRET_BYTES)


def token_hash(secret: str) -> str:
    """What the store keeps of a token: its SHA-256, 64 hex digits."""
    return hashlib.sha256(secret.encode("utf-8", "surrogatepass")).hexdigest()


def looks_like_token(secret: str) -> bool:
    """A cheap check before the store is asked (no query for junk)."""
    return secret.startswith(PREFIX) and 20 <= len(secret) <= 200 and secret.isascii()


def check_label(label: str) -> str:
    if len(label) > LABEL_MAX:
        raise InvalidInput(f"a token's label is at most {LABEL_MAX} characters")
    if any(ord(c) < 32 for c in label):
        raise InvalidInput("a token's label must not hold control characters")
    return label


@dataclass(frozen=True)
class ApiToken:
    """A token as the store keeps it (never the secret)."""

    id: int
    user: str
    role: TokenRole
    label: str
    created: datetime
    expires: datetime | None = None
    revoked: datetime | None = None

    def valid_at(self, now: datetime) -> bool:
        return self.revoked is None and (self.expires is None or now < self.expires)


def role_of_user(
    user: str,
    groups: list[str],
    admins: list[str],
    readonly_admins: list[str],
) -> TokenRole:
    """A user's role from lists of names and `@group`s (admins win over read-only)."""

    def listed(entries: list[str]) -> bool:
        return any(e == user or (e.startswith("@") and e[1:] in groups) for e in entries)

    if listed(admins):
        return TokenRole.ADMIN
    if listed(readonly_admins):
        return TokenRole.READONLY
    return TokenRole.USER
