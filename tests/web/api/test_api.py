"""/api/v1 as scripts use it: what each caller reads, pages of jobs, changes,
exports, /metrics, and bad input answered with a JSON 4xx, never a 500."""

from __future__ import annotations

import csv
import io
import json
import xml.etree.ElementTree as ET

import pytest
from fastapi.testclient import TestClient

from pagetally.storage.sql import SqlStore
from tests.web.api.conftest import Tokens, bearer
from tests.web.site import EVIL, EVIL_TITLE


def test_a_user_reads_their_status_jobs_and_payments(api: TestClient, tokens: Tokens) -> None:
    h = bearer(tokens.alice)
    assert api.get("/api/v1/me", headers=h).json() == {
        "name": "alice",
        "role": "user",
        "via": "token",
    }
    status = api.get("/api/v1/me/status", headers=h).json()
    assert status["user"]["balance"] == "9.60" and status["user"]["lifetime_paid"] == "5.00"
    by_printer = {q["printer"]: q for q in status["quotas"]}
    assert by_printer["color1"]["page_counter"] == 10 and by_printer["color1"]["pages_left"] == 2
    assert by_printer["lp1"]["hard_limit"] == 100
    jobs = api.get("/api/v1/me/jobs", headers=h).json()
    assert [j["title"] for j in jobs["jobs"]] == [
        "alice-thesis.pdf",
        "alice-denied.pdf",
        "alice-slides.pdf",
    ]
    assert jobs["next"] is None
    pays = api.get("/api/v1/me/payments", headers=h).json()
    assert [(p["amount"], p["description"]) for p in pays] == [("5.00", "cash at desk")]
    usage = api.get("/api/v1/me/usage?since=2026-10-01T00:00:00", headers=h).json()
    assert sum(d["pages"] for d in usage) == 14


def test_pages_follow_cursors_and_sorts(api: TestClient, tokens: Tokens) -> None:
    h = bearer(tokens.root)
    seen, after = [], None
    while True:
        url = "/api/v1/jobs?limit=2&sort=price&descending=false"
        r = api.get(url + (f"&after={after}" if after else ""), headers=h).json()
        seen += [(j["price"], j["id"]) for j in r["jobs"]]
        if not (after := r["next"]):
            break
    assert seen == sorted(seen, key=lambda s: (float(s[0]), s[1])) and len(seen) == 5
    found = api.get("/api/v1/jobs", params={"title": "<script>"}, headers=h).json()["jobs"]
    assert [j["title"] for j in found] == [EVIL_TITLE]  # JSON carries it as data


def test_admin_changes_and_user_sees_them(api: TestClient, tokens: Tokens) -> None:
    root = bearer(tokens.root)
    r = api.post(
        "/api/v1/users/alice/credit", headers=root, json={"amount": "2.50", "note": "desk"}
    )
    assert r.status_code == 200 and r.json()["balance"] == "12.10"
    r = api.put("/api/v1/quotas/alice/lp1", headers=root, json={"soft_limit": 5, "hard_limit": 7})
    assert r.json()["hard_limit"] == 7
    status = api.get("/api/v1/me/status", headers=bearer(tokens.alice)).json()
    lp1 = next(q for q in status["quotas"] if q["printer"] == "lp1")
    assert (lp1["soft_limit"], lp1["hard_limit"], status["user"]["balance"]) == (5, 7, "12.10")
    job = api.get("/api/v1/me/jobs", headers=bearer(tokens.alice)).json()["jobs"][0]
    r = api.post(f"/api/v1/jobs/{job['id']}/refund", headers=root, json={"note": "jam"})
    assert r.status_code == 200, r.text
    assert api.get("/api/v1/me", headers=bearer(tokens.alice)).status_code == 200
    me = api.get("/api/v1/users/alice", headers=bearer(tokens.alice)).json()
    assert me["balance"] == "12.50"  # 0.40 back
    again = api.post(f"/api/v1/jobs/{job['id']}/refund", headers=root, json={})
    assert again.status_code == 409 and "detail" in again.json()
    r = api.post("/api/v1/users", headers=root, json={"name": "newbie", "limit_by": "balance"})
    assert r.status_code == 201 and r.json()["name"] == "newbie"
    assert api.post("/api/v1/users", headers=root, json={"name": "newbie"}).status_code == 409
    assert api.delete("/api/v1/users/newbie", headers=root).status_code == 204
    assert api.get("/api/v1/users/newbie", headers=root).status_code == 404


def test_bad_input_is_a_json_4xx(api: TestClient, tokens: Tokens) -> None:
    root = bearer(tokens.root)
    cases = [
        ("get", "/api/v1/jobs?after=garbage", None, 400),
        ("get", "/api/v1/jobs?limit=0", None, 422),
        ("get", "/api/v1/jobs?limit=100000", None, 422),
        ("get", "/api/v1/jobs?since=yesterday", None, 422),
        ("get", "/api/v1/dashboards/usage?since=2026-12-01&until=2026-01-01", None, 400),
        ("get", "/api/v1/users/nobody", None, 404),
        ("post", "/api/v1/users/alice/credit", {"amount": "1.005"}, 400),
        ("post", "/api/v1/users/alice/credit", {"amount": "-3"}, 400),
        ("post", "/api/v1/users/alice/credit", {"amount": "NaN"}, 400),
        ("post", "/api/v1/users/alice/credit", {"amount": "1e999999"}, 400),
        ("post", "/api/v1/users/nobody/credit", {"amount": "1"}, 404),
        ("post", "/api/v1/users", {"name": "a\x00b"}, 400),
        ("post", "/api/v1/users", {"name": ""}, 422),
        ("put", "/api/v1/quotas/alice/nowhere", {"hard_limit": 3}, 404),
        ("post", "/api/v1/jobs/99999/refund", {}, 404),
        ("post", "/api/v1/jobs/1/refund", {"fraction": "2"}, 400),
        ("post", "/api/v1/printer-groups/lp1/members", {"names": ["lp1"]}, 409),
        ("get", "/api/v1/exports/users?format=cups", None, 400),
        ("get", "/api/v1/exports/users?hostname=x", None, 400),
    ]
    for method, url, body, status in cases:
        r = api.request(method, url, headers=root, json=body)
        assert r.status_code == status, (url, body, r.status_code, r.text)
        assert r.headers["content-type"].startswith("application/json")
        assert r.json()["detail"], url


def test_exports_in_every_format(api: TestClient, tokens: Tokens) -> None:
    root = bearer(tokens.root)
    rows = list(csv.DictReader(io.StringIO(api.get("/api/v1/exports/users", headers=root).text)))
    assert EVIL in {r["username"] for r in rows}
    tsv = api.get("/api/v1/exports/history?format=tsv&username=bob", headers=root).text
    assert tsv.splitlines()[0].startswith("id\tjobid\tusername") and "bob-secret-plan" in tsv
    everything = json.loads(api.get("/api/v1/exports/all?format=json", headers=root).text)
    assert set(everything) >= {"users", "history", "payments", "upquotas"}
    tree = ET.fromstring(api.get("/api/v1/exports/printers?format=xml", headers=root).text)
    assert {a.text for a in tree.iter("attribute") if a.get("name") == "printername"} == {
        "lp1",
        "color1",
    }
    log = api.get("/api/v1/exports/history?format=cups", headers=root)
    assert log.headers["content-type"].startswith("text/plain")
    assert log.text.count("\n") == 4 + 10 + 2 + 1  # a line per page printed
    mine = api.get("/api/v1/me/export?format=csv", headers=bearer(tokens.alice)).text
    assert "alice-thesis" in mine and "bob-secret" not in mine


def test_metrics(api: TestClient, tokens: Tokens, site: SqlStore) -> None:
    api.get("/api/v1/me", headers=bearer(tokens.alice))
    text = api.get("/metrics").text
    assert 'pagetally_jobs_total{action="allow",printer="lp1"} 3.0' in text
    assert 'pagetally_jobs_total{action="deny",printer="lp1"} 1.0' in text
    assert 'pagetally_pages_total{printer="color1"} 10.0' in text
    assert 'pagetally_money_total{printer="lp1"} 0.7' in text
    assert 'pagetally_refusals_total{reason="hard limit reached"} 1.0' in text
    assert "pagetally_store_up 1.0" in text and "pagetally_store_errors_total 0.0" in text
    assert 'pagetally_api_requests_total{method="GET",status="200"}' in text


def test_metrics_backend_time(api: TestClient, site: SqlStore) -> None:
    """The backend's time on each job, from its start on the job to its charge
    (cups/charging.charge keeps it in the history row), is a histogram by printer;
    jobs charged without a measure (the site's others) are not in it."""
    import re
    import time
    from decimal import Decimal

    from pagetally.config import Config
    from pagetally.core.models import Action, ChargeRequest, Decision, JobFacts
    from pagetally.cups.charging import charge
    from pagetally.cups.status import Messages
    from tests.web.site import NOW

    for n, took in ((1, 0.3), (2, 0.3), (3, 2.0)):
        facts = JobFacts(
            user="alice",
            printer="lp1",
            pages=1,
            job_id=f"t{n}",
            host="ws1",
            job_uuid=f"urn:uuid:timed-{n}",
        )
        request = ChargeRequest(facts, Decision(Action.ALLOW, price=Decimal("0.10"), pages=1), NOW)
        charge(
            site,
            Config(path="(defaults)"),
            request,
            Messages(io.StringIO()),
            started=time.monotonic() - took,
        )
    text = api.get("/metrics").text
    assert "# TYPE pagetally_backend_seconds histogram" in text
    lp1 = 'outcome="printed",printer="lp1"'
    for le, n in (("0.25", 0), ("0.5", 2), ("1.0", 2), ("2.5", 3), ("+Inf", 3)):
        assert f'pagetally_backend_seconds_bucket{{le="{le}",{lp1}}} {n}.0' in text
    assert f"pagetally_backend_seconds_count{{{lp1}}} 3.0" in text
    found = re.search(
        r'pagetally_backend_seconds_sum\{outcome="printed",printer="lp1"\} ([0-9.]+)', text
    )
    assert found is not None and 2.6 <= float(found.group(1)) < 3.2
    assert 'pagetally_backend_seconds_count{outcome="printed",printer="color1"}' not in text


def test_openapi_document(api: TestClient) -> None:
    doc = api.get("/api/v1/openapi.json").json()
    assert doc["info"]["title"] == "PageTally API"
    assert "/api/v1/me/status" in doc["paths"] and "/api/v1/exports/{datatype}" in doc["paths"]
    assert doc["components"]["securitySchemes"]["token"]["scheme"] == "bearer"


@pytest.mark.slow  # Ghostscript renders for the colour price: a third-party program
def test_quote_of_an_upload(api: TestClient, tokens: Tokens) -> None:
    from tests.web.docs import blank_pdf

    r = api.post(
        "/api/v1/quote",
        headers=bearer(tokens.alice),
        files={"document": ("thesis.pdf", blank_pdf(3), "application/pdf")},
    )
    assert r.status_code == 200, r.text
    quotes = {q["printer"]: q for q in r.json()["quotes"]}
    assert quotes["lp1"]["pages"] == 3 and quotes["lp1"]["price"] == "0.30"
    assert "/tmp" not in r.text
    empty = api.post(
        "/api/v1/quote",
        headers=bearer(tokens.alice),
        files={"document": ("e.pdf", b"", "application/pdf")},
    )
    assert empty.status_code == 400 and empty.json()["detail"] == "the file is empty"
