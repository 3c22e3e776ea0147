"""Every page walked as the wrong caller: nothing seen or changed that should not be.

The routes are read from the application itself, so a page added later is
walked too (a route without a sample below fails the walk, on purpose).
Markup in a user name and a job title is escaped on every page.
"""

from __future__ import annotations

import html
from decimal import Decimal as D
from typing import Any

from fastapi import FastAPI
from fastapi.routing import APIRoute
from fastapi.testclient import TestClient

from pagetally.storage.sql import SqlStore
from tests.web.conftest import csrf_of, login
from tests.web.docs import blank_pdf
from tests.web.site import EVIL, EVIL_TITLE

#: What each route is called with: query (GET) or form (POST) values aimed at
#: someone else's things (alice's account, her job, the site's settings).
SAMPLES: dict[tuple[str, str], dict[str, str]] = {
    ("GET", "/admin/user"): {"name": "alice"},
    ("POST", "/admin/users"): {"name": "mallory", "balance": "100"},
    ("POST", "/admin/user/edit"): {"name": "alice", "overcharge": "0"},
    ("POST", "/admin/user/credit"): {"name": "bob", "amount": "100"},
    ("POST", "/admin/user/delete"): {"name": "alice"},
    ("POST", "/admin/groups"): {"name": "cabal"},
    ("POST", "/admin/group/edit"): {"name": "auditors", "description": "pwned"},
    ("POST", "/admin/group/members"): {"name": "auditors", "users": "bob"},
    ("POST", "/admin/group/delete"): {"name": "auditors"},
    ("POST", "/admin/printers"): {"name": "lp666"},
    ("POST", "/admin/printer/edit"): {"name": "lp1", "per_page": "0"},
    ("POST", "/admin/printer/group"): {"group": "color1", "printer": "lp1"},
    ("POST", "/admin/printer/delete"): {"name": "lp1"},
    ("POST", "/admin/quotas"): {"name": "bob", "printer": "lp1", "hard": "100000"},
    ("POST", "/admin/quota/reset"): {"name": "bob", "printer": "lp1"},
    ("POST", "/admin/quota/delete"): {"name": "alice", "printer": "lp1"},
    ("POST", "/admin/billing-codes"): {"code": "FREE", "balance": "1000"},
    ("POST", "/admin/billing-code/edit"): {"code": "FREE", "balance": "1000"},
    ("POST", "/admin/billing-code/delete"): {"code": "FREE"},
    ("POST", "/admin/refunds/decide"): {"request_id": "1", "decision": "approve"},
    ("POST", "/admin/jobs/refund"): {"row": "4"},  # bob's own job
    ("POST", "/refunds"): {"job": "1", "reason": "not mine"},  # alice's job
    ("POST", "/quote"): {},
    ("POST", "/logout"): {},
    ("POST", "/login"): {"username": "alice", "password": "guess"},
}
GET_PATHS = {
    "/invoices/{month}.pdf": "/invoices/2026-10.pdf",
    "/receipts/{row}.pdf": "/receipts/1.pdf",  # alice's (_pending_request)
    "/admin/receipts/{row}.pdf": "/admin/receipts/1.pdf",
}
#: What only alice (or an admin) may see.
ALICES = ("alice-thesis.pdf", "alice-slides.pdf", "cash at desk", "9.60")


def routes(app: FastAPI) -> list[tuple[str, str]]:
    """The pages' routes (the API's, /api/v1 and /metrics, are walked by
    tests/web/api/test_authz_walk.py)."""
    out = []
    for r in app.routes:
        if isinstance(r, APIRoute) and not r.path.startswith(("/api/", "/metrics")):
            out += [(m, r.path) for m in sorted(r.methods or ()) if m in ("GET", "POST")]
    return out


def _get(client: TestClient, path: str) -> Any:
    return client.get(
        GET_PATHS.get(path, path), params=SAMPLES.get(("GET", path), {}), follow_redirects=False
    )


def _post(client: TestClient, path: str, token: str) -> Any:
    files = {"document": ("a.pdf", blank_pdf(1), "application/pdf")} if path == "/quote" else None
    return client.post(
        path,
        data={"csrf": token, **SAMPLES.get(("POST", path), {})},
        files=files,
        follow_redirects=False,
    )


def snapshot(store: SqlStore) -> tuple[Any, ...]:
    return (
        store.find_users(),
        store.find_groups(),
        store.find_printers(),
        store.user_quotas(),
        store.group_quotas(),
        store.find_billing_codes(),
        store.payments(),
        list(store.history()),
        store.refund_requests(),
        {g.name: store.members(g.name) for g in store.find_groups()},
    )


def _pending_request(site: SqlStore) -> None:
    alices = next(j.id for j in site.history() if j.title == "alice-thesis.pdf")
    assert alices == 1
    site.add_refund_request(alices, "alice", "jam", site.history().__next__().date)
    site.issue_refund_receipt(
        alices, "alice", D("0.40"), 0, D("10"), site.history().__next__().date
    )  # as if refunded before


def test_every_route_has_a_sample(app: FastAPI) -> None:
    posts = {p for m, p in routes(app) if m == "POST"}
    assert posts == {p for m, p in SAMPLES if m == "POST"}


def test_anonymous_reaches_nothing_but_login(app: FastAPI, anon: TestClient) -> None:
    for method, path in routes(app):
        if path == "/login":
            continue
        r = _get(anon, path) if method == "GET" else _post(anon, path, "x")
        assert r.status_code == 303 and r.headers["location"] == "/login", (method, path)


def test_a_user_sees_only_their_own(app: FastAPI, bob: TestClient, site: SqlStore) -> None:
    _pending_request(site)
    before = snapshot(site)
    for method, path in routes(app):
        if method != "GET" or path == "/login":
            continue
        r = _get(bob, path)
        if path.startswith("/admin"):
            assert r.status_code == 403, path
        else:
            assert r.status_code in (200, 404), (path, r.status_code)
        for secret in ALICES:
            assert secret not in r.text, (path, secret)
    token = csrf_of(bob.get("/").text)
    for method, path in routes(app):
        if method != "POST" or path in ("/login", "/logout", "/quote"):
            continue
        r = _post(bob, path, token)
        assert r.status_code in (403, 404), (path, r.status_code)
    assert snapshot(site) == before


def test_a_read_only_admin_sees_all_and_changes_nothing(
    app: FastAPI, audrey: TestClient, site: SqlStore
) -> None:
    _pending_request(site)
    before = snapshot(site)
    for method, path in routes(app):
        if method == "GET" and path not in (
            "/login",
            "/invoices/{month}.pdf",
            "/receipts/{row}.pdf",
        ):  # a user's own
            assert _get(audrey, path).status_code == 200, path
    assert "alice-thesis.pdf" in audrey.get("/admin/jobs").text
    token = csrf_of(audrey.get("/").text)
    for method, path in routes(app):
        if method == "POST" and path.startswith("/admin"):
            assert _post(audrey, path, token).status_code == 403, path
    assert snapshot(site) == before


def test_csrf_refused_on_every_form(app: FastAPI, root: TestClient, site: SqlStore) -> None:
    """Even an admin's session does nothing without the form's token."""
    _pending_request(site)
    before = snapshot(site)
    for method, path in routes(app):
        if method == "POST" and path != "/login":
            r = _post(root, path, "")
            assert r.status_code == 403, path
            r = _post(root, path, "0" * 64)
            assert r.status_code == 403, path
    assert snapshot(site) == before


def test_markup_is_escaped_everywhere(app: FastAPI, root: TestClient) -> None:
    evil = login(TestClient(app), EVIL)
    shown = {"name": 0, "title": 0}
    for client in (root, evil):
        for method, path in routes(app):
            if method != "GET" or path.endswith((".csv", ".pdf")):
                continue
            params = {"name": EVIL} if path == "/admin/user" else {}
            r = client.get(path, params=params, follow_redirects=False)
            if r.status_code != 200:
                continue
            assert EVIL not in r.text and EVIL_TITLE not in r.text, path
            assert "<script>" not in r.text, path
            shown["name"] += html.escape(EVIL, quote=False) in r.text.replace("&#34;", '"')
            shown["title"] += html.escape(EVIL_TITLE, quote=False) in r.text.replace("&#34;", '"')
    # shown (escaped) on the users list, the user's page, the job search, the header...
    assert shown["name"] >= 6 and shown["title"] >= 3, shown
    r = root.get("/admin/jobs", params={"user": EVIL, "title": "<script>"})
    assert "&lt;script&gt;" in r.text and "<script>" not in r.text
