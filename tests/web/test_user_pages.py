"""The user's own pages: what alice sees of herself (and nothing of bob)."""

from __future__ import annotations

import csv
import io

import pytest
from fastapi.testclient import TestClient

from pagetally.core.models import Group
from pagetally.core.refundrequests import RequestState
from pagetally.storage.sql import SqlStore
from tests.web.conftest import csrf_of
from tests.web.docs import blank_pdf


def test_status_first_quota_balance_and_warning(alice: TestClient) -> None:
    html = alice.get("/").text
    # quota rows: lp1 4 of 50/100, color1 10 of 10/12 (soft limit passed: warned)
    assert '<th scope="row">lp1</th><td class="num">4</td><td class="num">50</td>' in html
    assert "soft limit of 10 pages passed on color1" in html
    # balance 10 + 5 paid - 0.40 - 5.00 = 9.60; lifetime paid 5
    assert 'id="balance">9.60 EUR<' in html
    assert 'id="lifetime-paid">5.00 EUR<' in html
    assert html.index("Quota per printer") < html.index("Account")


def test_status_shows_the_groups_quota(alice: TestClient, site: SqlStore) -> None:
    site.add_group(Group("lab"))
    site.add_members("lab", ["alice"])
    site.set_group_quota("lab", "lp1", soft_limit=3, hard_limit=40)
    html = alice.get("/").text
    assert "Your groups' quotas" in html and '<th scope="row">lab</th><td>lp1</td>' in html
    assert "group lab: soft limit of 3 pages passed on lp1" in html


def test_history_filters_sorts_and_exports(alice: TestClient) -> None:
    html = alice.get("/history").text
    assert "alice-thesis.pdf" in html and "alice-slides.pdf" in html
    assert "bob-secret-plan" not in html
    assert "3 job(s)" in html
    html = alice.get("/history?printer=color1").text
    assert "alice-slides.pdf" in html and "alice-thesis.pdf" not in html
    html = alice.get("/history?action=deny").text
    assert "alice-denied.pdf" in html and "1 job(s)" in html
    html = alice.get("/history?sort=pages&order=asc").text
    assert html.index("alice-thesis.pdf") < html.index("alice-slides.pdf")
    # asking for another user's jobs is ignored: still her own
    html = alice.get("/history?user=bob").text
    assert "bob-secret-plan" not in html and "3 job(s)" in html
    rows = list(csv.DictReader(io.StringIO(alice.get("/history.csv?user=bob").text)))
    assert {r["title"] for r in rows} == {
        "alice-thesis.pdf",
        "alice-slides.pdf",
        "alice-denied.pdf",
    }


def test_history_bad_date_is_a_clear_error(alice: TestClient) -> None:
    r = alice.get("/history?since=yesterday")
    assert r.status_code == 400 and "expected a date like 2026-11-30" in r.text
    r = alice.get("/history?after=not-a-cursor")
    assert r.status_code == 400


def test_history_pages_follow_the_cursor(
    alice: TestClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    import re

    from pagetally.web import history

    monkeypatch.setattr(history, "PAGE_SIZE", 2)
    first = alice.get("/history?sort=date&order=asc").text
    # oldest first: the slides (40 days ago), the denied job (3), then the thesis (1)
    assert "alice-slides.pdf" in first and "alice-denied.pdf" in first
    assert "alice-thesis.pdf" not in first
    link = re.search(r'href="(/history\?[^"]+)" rel="next"', first)
    assert link
    second = alice.get(link.group(1).replace("&amp;", "&")).text
    assert "alice-thesis.pdf" in second and "alice-denied.pdf" not in second
    assert 'rel="next"' not in second and "First page" in second


def test_charts_duplex_savings(alice: TestClient) -> None:
    html = alice.get("/charts").text
    # printed: 4 pages on 2 sheets, 10 colour pages on 10 sheets; the denied job never
    assert 'id="pages">14<' in html and 'id="sheets">12<' in html
    assert 'id="saved">2<' in html
    assert 'id="paper">10 g<' in html  # 2 x 4.99
    assert "<svg" in html and "<title>Pages per month</title>" in html


@pytest.mark.slow  # runs Ghostscript, a third-party program
def test_quote_of_an_uploaded_pdf(alice: TestClient) -> None:
    page = alice.get("/quote")
    r = alice.post(
        "/quote",
        data={"csrf": csrf_of(page.text)},
        files={"document": ("three.pdf", blank_pdf(3), "application/pdf")},
    )
    assert r.status_code == 200, r.text
    assert "Quote for three.pdf" in r.text
    # lp1: 3 pages x 0.10; color1 also quoted (she has a quota entry there)
    assert (
        '<th scope="row">lp1</th><td>PDF</td><td class="num">3</td><td class="num">-</td>'
        '<td class="num">0.30 EUR</td>'
    ) in r.text
    # color1 prices colour: its colour pages were counted (none in a blank PDF)
    assert (
        '<th scope="row">color1</th><td>PDF</td><td class="num">3</td><td class="num">0</td>'
        '<td class="num">0.30 EUR</td>'
    ) in r.text


def test_quote_without_csrf_refused(alice: TestClient) -> None:
    r = alice.post("/quote", files={"document": ("a.pdf", blank_pdf(1), "application/pdf")})
    assert r.status_code == 403


def test_quote_of_garbage_says_so(alice: TestClient) -> None:
    page = alice.get("/quote")
    r = alice.post(
        "/quote",
        data={"csrf": csrf_of(page.text)},
        files={"document": ("x.bin", b"\x00\x01garbage" * 10, "application/pdf")},
    )
    assert r.status_code == 422 and "cannot be counted" in r.text
    assert "/tmp/" not in r.text  # the server's temporary path is not shown


def test_payments_and_invoice_pdf(alice: TestClient, site: SqlStore) -> None:
    html = alice.get("/payments").text
    assert "cash at desk" in html and "5.00 EUR" in html
    assert "/invoices/2026-10.pdf" in html  # the slides, 40 days before 2026-11-30
    first = alice.get("/invoices/2026-10.pdf")
    assert first.status_code == 200 and first.content.startswith(b"%PDF")
    again = alice.get("/invoices/2026-10.pdf")
    assert again.status_code == 200
    assert site.last_invoice_number() == 1  # downloaded twice, numbered once
    assert alice.get("/invoices/2026-11.pdf").status_code == 404  # this month: not yet


def test_refund_request_for_own_job_only(alice: TestClient, site: SqlStore) -> None:
    jobs = {j.title: j.id for j in site.history()}
    page = alice.get("/refunds")
    token = csrf_of(page.text)
    r = alice.post(
        "/refunds",
        data={"csrf": token, "job": str(jobs["alice-thesis.pdf"]), "reason": "paper jam"},
        follow_redirects=False,
    )
    assert r.status_code == 303
    assert "paper jam" in alice.get("/refunds").text
    (req,) = site.refund_requests(user="alice")
    assert req.state is RequestState.PENDING and req.reason == "paper jam"
    # twice: refused; bob's job: not hers (404, as if absent); a denied job: nothing to refund
    r = alice.post(
        "/refunds", data={"csrf": token, "job": str(jobs["alice-thesis.pdf"]), "reason": "again"}
    )
    assert r.status_code == 409 and "asked already" in r.text
    r = alice.post(
        "/refunds", data={"csrf": token, "job": str(jobs["bob-secret-plan.pdf"]), "reason": "mine?"}
    )
    assert r.status_code == 404
    r = alice.post(
        "/refunds", data={"csrf": token, "job": str(jobs["alice-denied.pdf"]), "reason": "x"}
    )
    assert r.status_code == 409 and "not charged" in r.text
    assert len(site.refund_requests()) == 1


def test_every_answer_carries_the_security_headers(alice: TestClient, site: SqlStore) -> None:
    """Pages get a CSP and no caching besides the headers every answer carries
    (web.app.SecurityHeaders); the API gets the common ones; and the store keeps a
    pooled connection for each of the web's worker threads."""
    from pagetally.web.app import WEB_THREADS

    page = alice.get("/")
    api = alice.get("/api/v1/me")
    for r in (page, api):
        assert r.status_code == 200
        assert r.headers["x-content-type-options"] == "nosniff"
        assert r.headers["x-frame-options"] == "DENY"
        assert r.headers["referrer-policy"] == "same-origin"
    assert "default-src 'none'" in page.headers["content-security-policy"]
    assert page.headers["cache-control"] == "no-store"
    assert "content-security-policy" not in api.headers
    assert site._engine.pool.size() >= WEB_THREADS  # type: ignore[attr-defined]
