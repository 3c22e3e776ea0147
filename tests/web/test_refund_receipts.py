"""A refund made on the web (an approved request, an admin's refund, the API's)
gets pkrefund's PDF receipt (`jobs refund --receipt`'s document), numbered from
the invoices' sequence, downloadable by the user and the admins and by nobody
else; read back with poppler's pdftotext."""

from __future__ import annotations

import subprocess
from datetime import timedelta

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from markupsafe import escape

from pagetally.core.tokens import TokenRole
from pagetally.storage.sql import SqlStore
from tests.web.conftest import csrf_of
from tests.web.site import EVIL, EVIL_TITLE, NOW


def pdf_text(data: bytes) -> str:
    assert data.startswith(b"%PDF")
    return subprocess.run(
        ["pdftotext", "-layout", "-", "-"], input=data, capture_output=True, check=True, timeout=60
    ).stdout.decode()


def _row(site: SqlStore, title: str) -> int:
    row = next(j.id for j in site.history() if j.title == title)
    assert row is not None
    return row


@pytest.mark.slow  # pdftotext reads the receipt: a third-party program
def test_approved_request_gives_a_receipt_to_the_user_and_the_admins(
    alice: TestClient, bob: TestClient, root: TestClient, audrey: TestClient, site: SqlStore
) -> None:
    assert alice.get("/invoices/2026-10.pdf").status_code == 200  # invoice #1
    row = _row(site, "alice-thesis.pdf")
    alice.post(
        "/refunds",
        data={"csrf": csrf_of(alice.get("/refunds").text), "job": str(row), "reason": "jammed"},
    )
    (req,) = site.refund_requests()
    page = root.get("/admin/refunds").text
    r = root.post(
        "/admin/refunds/decide",
        data={"csrf": csrf_of(page), "request_id": req.id, "decision": "approve"},
    )
    assert "refunded: 0.40 EUR to alice, receipt #2" in r.text  # after the invoice's #1
    assert f'<a href="/admin/receipts/{row}.pdf">receipt (PDF)</a>' in r.text

    mine = alice.get("/refunds").text
    assert f'<a href="/receipts/{row}.pdf">Receipt #2 (PDF)</a>' in mine
    got = alice.get(f"/receipts/{row}.pdf")
    assert got.status_code == 200 and got.headers["content-type"] == "application/pdf"
    assert 'filename="receipt-2.pdf"' in got.headers["content-disposition"]
    text = pdf_text(got.content)
    assert "Receipt #2" in text and "Refunded to: alice" in text
    assert "Date: 2026-11-30 12:00" in text
    line = next(ln for ln in text.splitlines() if " lp1 " in ln)
    assert line.split() == ["2026-11-29", "12:00", "1", "lp1", "4", "0", "0.40", "EUR"]
    assert "Total refunded: 0.40 EUR" in " ".join(text.split())
    assert "Balance after refund: 10.00 EUR" in " ".join(text.split())

    # the same document for the admins, every time (the number is kept)
    assert root.get(f"/admin/receipts/{row}.pdf").content == got.content
    assert audrey.get(f"/admin/receipts/{row}.pdf").content == got.content
    assert alice.get(f"/receipts/{row}.pdf").content == got.content
    assert site.last_invoice_number() == 2
    # nobody else: bob gets "not found" (not even "forbidden"), no admin page
    assert bob.get(f"/receipts/{row}.pdf").status_code == 404
    assert bob.get(f"/admin/receipts/{row}.pdf").status_code == 403
    assert "Receipt #" not in bob.get("/refunds").text
    assert alice.get(f"/receipts/{row + 1000}.pdf").status_code == 404


@pytest.mark.slow  # pdftotext reads the receipt: a third-party program
def test_admin_refund_of_a_job_gives_a_receipt_names_escaped(
    root: TestClient, site: SqlStore
) -> None:
    row = _row(site, EVIL_TITLE)
    r = root.post(
        "/admin/jobs/refund",
        data={
            "csrf": csrf_of(root.get("/admin/jobs").text),
            "row": str(row),
            "reason": "bad toner",
        },
    )
    assert r.status_code == 200 and "receipt #1" in r.text
    assert EVIL not in r.text and f"to {escape(EVIL)}, receipt #1" in r.text
    page = root.get("/admin/refunds").text
    assert EVIL not in page and f"<td>{escape(EVIL)}</td>" in page
    assert f'<a href="/admin/receipts/{row}.pdf">Receipt #1 (PDF)</a>' in page
    text = pdf_text(root.get(f"/admin/receipts/{row}.pdf").content)
    assert f"Refunded to: {EVIL}" in text and "0.10 EUR" in text


@pytest.mark.slow  # pdftotext reads the receipt: a third-party program
def test_api_refund_gives_a_receipt(app: FastAPI, site: SqlStore, alice: TestClient) -> None:
    api = TestClient(app)
    secret = site.add_api_token("root", TokenRole.ADMIN, NOW - timedelta(days=1))[1]
    row = _row(site, "alice-thesis.pdf")
    r = api.post(
        f"/api/v1/jobs/{row}/refund", headers={"Authorization": f"Bearer {secret}"}, json={}
    )
    assert r.status_code == 200, r.text
    assert r.json()["receipt"] == 1
    assert "Receipt #1" in pdf_text(alice.get(f"/receipts/{row}.pdf").content)
    alices = site.add_api_token("alice", TokenRole.USER, NOW - timedelta(days=1))[1]
    got = api.get(f"/api/v1/jobs/{row}/receipt", headers={"Authorization": f"Bearer {alices}"})
    assert got.status_code == 200 and got.headers["content-type"] == "application/pdf"
    assert got.content == alice.get(f"/receipts/{row}.pdf").content
    bobs = site.add_api_token("bob", TokenRole.USER, NOW - timedelta(days=1))[1]
    assert (
        api.get(
            f"/api/v1/jobs/{row}/receipt", headers={"Authorization": f"Bearer {bobs}"}
        ).status_code
        == 403
    )
    none = api.get("/api/v1/jobs/2/receipt", headers={"Authorization": f"Bearer {alices}"})
    assert none.status_code == 404 and "no receipt" in none.json()["detail"]
