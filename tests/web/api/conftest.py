"""API test fixtures: the web tests' site (tests/web/site.py) with API tokens:
one per kind of caller, a revoked one, and one whose role its user lost."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from pagetally.core.tokens import TokenRole
from pagetally.storage.sql import SqlStore
from tests.web.site import NOW


@dataclass
class Tokens:
    alice: str
    bob: str
    audrey: str  # a read-only admin (@auditors)
    root: str  # an admin
    revoked: str
    expired: str
    demoted: str  # an admin token of bob, who is a plain user


@pytest.fixture
def tokens(site: SqlStore) -> Tokens:
    def add(user: str, role: TokenRole = TokenRole.USER, **kw: object) -> str:
        return site.add_api_token(user, role, NOW - timedelta(days=1), **kw)[1]  # type: ignore[arg-type]

    revoked = site.add_api_token("root", TokenRole.ADMIN, NOW - timedelta(days=1))
    site.revoke_api_token(revoked[0].id, NOW - timedelta(hours=1))
    return Tokens(
        alice=add("alice"),
        bob=add("bob"),
        audrey=add("audrey", TokenRole.READONLY),
        root=add("root", TokenRole.ADMIN),
        revoked=revoked[1],
        expired=add("root", TokenRole.ADMIN, expires=NOW - timedelta(minutes=1)),
        demoted=add("bob", TokenRole.ADMIN),
    )


@pytest.fixture
def api(app: FastAPI) -> TestClient:
    return TestClient(app, raise_server_exceptions=False)


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}
