"""core/tokens: roles' order, the ceiling, a user's role from lists."""

from __future__ import annotations

import pytest

from pagetally.core.tokens import (
    TokenRole,
    check_role,
    lesser,
    looks_like_token,
    new_secret,
    role_of_user,
    token_hash,
)
from pagetally.errors import InvalidInput


def test_lesser_and_ceiling() -> None:
    assert lesser(TokenRole.ADMIN, TokenRole.READONLY) is TokenRole.READONLY
    assert lesser(TokenRole.USER, TokenRole.ADMIN) is TokenRole.USER
    assert check_role(TokenRole.READONLY, TokenRole.ADMIN, "a") is TokenRole.READONLY
    with pytest.raises(InvalidInput, match="own role is readonly"):
        check_role(TokenRole.ADMIN, TokenRole.READONLY, "a")


def test_role_of_user() -> None:
    assert role_of_user("ann", ["staff"], ["@staff"], []) is TokenRole.ADMIN
    assert role_of_user("ann", [], ["bob"], ["ann"]) is TokenRole.READONLY
    assert role_of_user("ann", ["x"], ["@staff"], ["@y"]) is TokenRole.USER


def test_secrets_are_fresh_and_hashed() -> None:
    a, b = new_secret(), new_secret()
    assert a != b and looks_like_token(a) and not looks_like_token("ptk_short")
    assert len(token_hash(a)) == 64 and token_hash(a) != token_hash(b)
