"""Quotes are rate-limited per user (webquotelimit): counting an upload costs the
server CPU, so one user cannot take it all. The quote page and the API share the
count; past it a clear 429 with Retry-After, other users unaffected."""

from __future__ import annotations

import dataclasses
from datetime import timedelta

import pytest
from fastapi.testclient import TestClient

from pagetally.core.tokens import TokenRole
from pagetally.storage.sql import SqlStore
from pagetally.web.app import create_app
from pagetally.web.ratelimit import UploadLimiter
from tests.web.conftest import csrf_of, login
from tests.web.docs import blank_pdf
from tests.web.site import NOW, SETTINGS


def _page_quote(client: TestClient) -> object:
    page = client.get("/quote")
    return client.post(
        "/quote",
        data={"csrf": csrf_of(page.text)},
        files={"document": ("one.pdf", blank_pdf(1), "application/pdf")},
    )


@pytest.mark.slow  # Ghostscript renders for the colour price: a third-party program
def test_quotes_past_the_limit_get_429_with_retry_after(site: SqlStore) -> None:
    app = create_app(dataclasses.replace(SETTINGS, quote_limit=2), site, now=lambda: NOW)
    alice = login(TestClient(app), "alice")
    token = site.add_api_token("alice", TokenRole.USER, NOW - timedelta(days=1))[1]
    api = TestClient(app)
    auth = {"Authorization": f"Bearer {token}"}

    assert _page_quote(alice).status_code == 200  # type: ignore[attr-defined]
    r = api.post(
        "/api/v1/quote",
        headers=auth,
        files={"document": ("one.pdf", blank_pdf(1), "application/pdf")},
    )
    assert r.status_code == 200, r.text

    page = _page_quote(alice)  # the third within 10 minutes, page and API together
    assert page.status_code == 429  # type: ignore[attr-defined]
    assert "Too many quotes: 2 per 10 minutes for each user. Try again in 10 minutes." in page.text  # type: ignore[attr-defined]
    assert 0 < int(page.headers["Retry-After"]) <= 600  # type: ignore[attr-defined]
    r = api.post(
        "/api/v1/quote",
        headers=auth,
        files={"document": ("one.pdf", blank_pdf(1), "application/pdf")},
    )
    assert r.status_code == 429 and r.json()["detail"].startswith("Too many quotes")
    assert 0 < int(r.headers["Retry-After"]) <= 600

    bob = login(TestClient(app), "bob")  # another user: their own count
    assert _page_quote(bob).status_code == 200  # type: ignore[attr-defined]


def test_upload_limiter_window_slides() -> None:
    now = [1000.0]
    limiter = UploadLimiter(2, 600, clock=lambda: now[0])
    assert limiter.take("user:a") == 0
    now[0] += 100
    assert limiter.take("user:a") == 0
    assert limiter.take("user:a") == 501  # the first leaves the window at 1600
    assert limiter.take("user:b") == 0
    now[0] += 501
    assert limiter.take("user:a") == 0  # a refused attempt was not counted
    assert limiter.take("user:a") == 100
