"""Every /api/v1 route walked as each kind of caller: without a token, with a bad,
revoked or expired token, as another user, as a read-only admin, and with an
admin token whose user is not an admin. Nothing is seen or changed that should
not be: each answer is the one the rights (web/rights.py) give, and the store is
the same after the walk. The walk covers every route the application has: a new
route fails here until it is listed."""

from __future__ import annotations

import json
import re
from decimal import Decimal as D
from typing import Any

import pytest
from fastapi import FastAPI
from fastapi.routing import APIRoute
from fastapi.testclient import TestClient

from pagetally.export.data import Filters
from pagetally.export.formats import DataType, DumpFormat, dump_to
from pagetally.storage.sql import SqlStore
from tests.web.api.conftest import Tokens, bearer
from tests.web.site import NOW

BOB_JOB = 4  # bob's job in tests/web/site.py (alice's are 1-3)

#: (method, path) -> (the path with bob's (another user's) names, a valid body,
#: who may: "me" any caller for themselves, "own" the user themselves or admins,
#: "view" admins and read-only admins, "change" admins only)
ROUTES: dict[tuple[str, str], tuple[str, Any, str]] = {
    ("GET", "/api/v1/me"): ("/api/v1/me", None, "me"),
    ("GET", "/api/v1/me/status"): ("/api/v1/me/status", None, "me"),
    ("GET", "/api/v1/me/jobs"): ("/api/v1/me/jobs", None, "me"),
    ("GET", "/api/v1/me/payments"): ("/api/v1/me/payments", None, "me"),
    ("GET", "/api/v1/me/usage"): ("/api/v1/me/usage", None, "me"),
    ("GET", "/api/v1/me/export"): ("/api/v1/me/export", None, "me"),
    ("POST", "/api/v1/quote"): ("/api/v1/quote", None, "quote"),
    ("GET", "/api/v1/users"): ("/api/v1/users", None, "view"),
    ("GET", "/api/v1/users/{name}"): ("/api/v1/users/bob", None, "own"),
    ("GET", "/api/v1/users/{name}/status"): ("/api/v1/users/bob/status", None, "own"),
    ("POST", "/api/v1/users"): ("/api/v1/users", {"name": "mallory"}, "change"),
    ("PATCH", "/api/v1/users/{name}"): ("/api/v1/users/bob", {"description": "x"}, "change"),
    ("DELETE", "/api/v1/users/{name}"): ("/api/v1/users/bob", None, "change"),
    ("POST", "/api/v1/users/{name}/credit"): (
        "/api/v1/users/bob/credit",
        {"amount": "50"},
        "change",
    ),
    ("GET", "/api/v1/groups"): ("/api/v1/groups", None, "view"),
    ("GET", "/api/v1/groups/{name}"): ("/api/v1/groups/auditors", None, "view"),
    ("POST", "/api/v1/groups"): ("/api/v1/groups", {"name": "g2"}, "change"),
    ("DELETE", "/api/v1/groups/{name}"): ("/api/v1/groups/auditors", None, "change"),
    ("POST", "/api/v1/groups/{name}/members"): (
        "/api/v1/groups/auditors/members",
        {"names": ["bob"]},
        "change",
    ),
    ("DELETE", "/api/v1/groups/{name}/members/{user}"): (
        "/api/v1/groups/auditors/members/audrey",
        None,
        "change",
    ),
    ("GET", "/api/v1/printers"): ("/api/v1/printers", None, "view"),
    ("GET", "/api/v1/printers/{name}"): ("/api/v1/printers/lp1", None, "view"),
    ("POST", "/api/v1/printers"): ("/api/v1/printers", {"name": "p9"}, "change"),
    ("PATCH", "/api/v1/printers/{name}"): (
        "/api/v1/printers/lp1",
        {"price_per_page": "0"},
        "change",
    ),
    ("DELETE", "/api/v1/printers/{name}"): ("/api/v1/printers/lp1", None, "change"),
    ("GET", "/api/v1/printer-groups"): ("/api/v1/printer-groups", None, "view"),
    ("POST", "/api/v1/printer-groups/{name}/members"): (
        "/api/v1/printer-groups/color1/members",
        {"names": ["lp1"]},
        "change",
    ),
    ("DELETE", "/api/v1/printer-groups/{name}/members/{printer}"): (
        "/api/v1/printer-groups/color1/members/lp1",
        None,
        "change",
    ),
    ("GET", "/api/v1/quotas"): ("/api/v1/quotas", None, "view"),
    ("PUT", "/api/v1/quotas/{user}/{printer}"): (
        "/api/v1/quotas/bob/lp1",
        {"hard_limit": 1000},
        "change",
    ),
    ("POST", "/api/v1/quotas/{user}/{printer}/reset"): (
        "/api/v1/quotas/bob/lp1/reset",
        {},
        "change",
    ),
    ("DELETE", "/api/v1/quotas/{user}/{printer}"): ("/api/v1/quotas/bob/lp1", None, "change"),
    ("GET", "/api/v1/group-quotas"): ("/api/v1/group-quotas", None, "view"),
    ("PUT", "/api/v1/group-quotas/{group}/{printer}"): (
        "/api/v1/group-quotas/auditors/lp1",
        {"hard_limit": 5},
        "change",
    ),
    ("GET", "/api/v1/report"): ("/api/v1/report", None, "view"),
    ("GET", "/api/v1/billing-codes"): ("/api/v1/billing-codes", None, "view"),
    ("POST", "/api/v1/billing-codes"): ("/api/v1/billing-codes", {"code": "c1"}, "change"),
    ("PATCH", "/api/v1/billing-codes/{code}"): (
        "/api/v1/billing-codes/c0",
        {"balance": "5"},
        "change",
    ),
    ("DELETE", "/api/v1/billing-codes/{code}"): ("/api/v1/billing-codes/c0", None, "change"),
    ("GET", "/api/v1/payments"): ("/api/v1/payments", None, "view"),
    ("POST", "/api/v1/payments"): ("/api/v1/payments", {"user": "bob", "amount": "9"}, "change"),
    ("POST", "/api/v1/jobs/{job_id}/refund"): (f"/api/v1/jobs/{BOB_JOB}/refund", {}, "change"),
    ("GET", "/api/v1/refund-requests"): ("/api/v1/refund-requests", None, "view"),
    ("POST", "/api/v1/refund-requests/{request_id}/approve"): (
        "/api/v1/refund-requests/1/approve",
        {},
        "change",
    ),
    ("POST", "/api/v1/refund-requests/{request_id}/refuse"): (
        "/api/v1/refund-requests/1/refuse",
        {},
        "change",
    ),
    ("GET", "/api/v1/jobs"): ("/api/v1/jobs", None, "view"),
    ("GET", "/api/v1/jobs/{job_id}"): (f"/api/v1/jobs/{BOB_JOB}", None, "own"),
    ("GET", "/api/v1/jobs/{job_id}/receipt"): (f"/api/v1/jobs/{BOB_JOB}/receipt", None, "own"),
    ("GET", "/api/v1/dashboards/usage"): ("/api/v1/dashboards/usage", None, "view"),
    ("GET", "/api/v1/dashboards/top-users"): ("/api/v1/dashboards/top-users", None, "view"),
    ("GET", "/api/v1/dashboards/printers"): ("/api/v1/dashboards/printers", None, "view"),
    ("GET", "/api/v1/dashboards/refusals"): ("/api/v1/dashboards/refusals", None, "view"),
    ("GET", "/api/v1/exports/{datatype}"): ("/api/v1/exports/all?format=json", None, "view"),
}


def _snapshot(store: SqlStore) -> str:
    import io
    from datetime import UTC

    out = io.StringIO()
    dump_to(out, store, DataType.ALL, DumpFormat.JSON, Filters({}), storage="sqlite", tz=UTC)
    return out.getvalue() + json.dumps([t.__dict__ for t in store.api_tokens()], default=str)


def test_every_route_is_walked(app: FastAPI) -> None:
    routes = {
        (m, r.path)
        for r in app.routes
        if isinstance(r, APIRoute) and r.path.startswith("/api/v1")
        for m in r.methods
    }
    # the OpenAPI document is public: it describes the routes, holds no data
    assert routes - {("GET", "/api/v1/openapi.json")} == set(ROUTES)


def _expected(kind: str, caller: str) -> set[int]:
    """What `caller` may get from a route of `kind` addressed at bob's things:
    alice (a user), audrey (a read-only admin), demoted (bob's admin token: bob
    is a plain user, so it acts as bob)."""
    if kind == "quote":  # no file given: any caller may ask, and learns the field is missing
        return {422}
    if kind == "me" or (kind == "own" and caller == "demoted"):
        return {200}
    if caller == "audrey":
        return {403} if kind == "change" else {200}
    return {403}


@pytest.mark.parametrize("caller", ["alice", "audrey", "demoted"])
def test_others_and_readonly_admins_see_and_change_only_what_they_may(
    api: TestClient, tokens: Tokens, site: SqlStore, caller: str
) -> None:
    site.issue_refund_receipt(BOB_JOB, "bob", D("0.20"), 0, D("10"), NOW)  # as if refunded
    before = _snapshot(site)
    secret = getattr(tokens, caller)
    for (method, _route), (path, body, kind) in ROUTES.items():
        r = api.request(method, path, headers=bearer(secret), json=body)
        want = _expected(kind, caller)
        assert r.status_code in want, (caller, method, path, r.status_code, r.text[:200])
        if r.status_code == 403:
            assert r.json()["detail"]
        if r.status_code == 200 and caller != "audrey" and kind == "me":
            # a user's own routes never name another user
            assert "bob-secret-plan" not in r.text or caller == "demoted"
    assert _snapshot(site) == before


@pytest.mark.parametrize("how", ["none", "bad", "revoked", "expired", "basic", "session-less"])
def test_without_a_valid_token_nothing_is_seen(
    api: TestClient, tokens: Tokens, site: SqlStore, how: str
) -> None:
    before = _snapshot(site)
    headers = {
        "none": {},
        "bad": bearer("ptk_" + "x" * 43),
        "revoked": bearer(tokens.revoked),
        "expired": bearer(tokens.expired),
        "basic": {"Authorization": "Basic cm9vdDpyb290"},
        "session-less": bearer(""),
    }[how]
    for (method, _route), (path, body, _kind) in ROUTES.items():
        r = api.request(method, path, headers=headers, json=body)
        assert r.status_code == 401, (how, method, path, r.status_code)
        assert re.search("token|logged in", r.json()["detail"])
    assert _snapshot(site) == before


def test_a_users_own_routes_hold_nothing_of_others(api: TestClient, tokens: Tokens) -> None:
    for path in (
        "/api/v1/me/status",
        "/api/v1/me/jobs",
        "/api/v1/me/payments",
        "/api/v1/me/export?format=json",
    ):
        text = api.get(path, headers=bearer(tokens.bob)).text
        assert "alice" not in text, path
