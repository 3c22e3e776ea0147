"""The admin pages: what an admin changes, what a read-only admin only sees."""

from __future__ import annotations

from decimal import Decimal as D

from fastapi.testclient import TestClient

from pagetally.core.models import Action, LimitBy, PaymentKind
from pagetally.core.refundrequests import RequestState
from pagetally.storage.sql import SqlStore
from tests.web.conftest import csrf_of
from tests.web.site import NOW


def _token(client: TestClient, page: str = "/admin") -> str:
    return csrf_of(client.get(page).text)


def _ask(alice: TestClient, site: SqlStore, title: str = "alice-thesis.pdf") -> int:
    row = next(j.id for j in site.history() if j.title == title)
    assert row is not None
    r = alice.post(
        "/refunds",
        data={"csrf": _token(alice, "/refunds"), "job": str(row), "reason": "jammed"},
        follow_redirects=False,
    )
    assert r.status_code == 303
    return row


def test_approving_a_request_refunds_as_jobs_refund(
    alice: TestClient, root: TestClient, site: SqlStore
) -> None:
    row = _ask(alice, site)
    (req,) = site.refund_requests()
    page = root.get("/admin/refunds").text
    assert "jammed" in page and "alice-thesis.pdf on lp1" in page
    r = root.post(
        "/admin/refunds/decide",
        data={"csrf": csrf_of(page), "request_id": req.id, "decision": "approve"},
    )
    assert r.status_code == 200 and "refunded: 0.40 EUR to alice" in r.text
    assert site.get_job(row).action is Action.REFUND
    assert site.get_user("alice").balance == D("10.00")  # 9.60 + 0.40
    refund = [p for p in site.payments("alice") if p.kind is PaymentKind.REFUND]
    assert len(refund) == 1 and "refund request" in refund[0].description
    assert site.get_refund_request(req.id).state is RequestState.APPROVED
    again = root.post(
        "/admin/refunds/decide",
        data={"csrf": csrf_of(page), "request_id": req.id, "decision": "approve"},
    )
    assert again.status_code == 409 and site.get_user("alice").balance == D("10.00")
    assert "approved" in alice.get("/refunds").text


def test_refusing_a_request_changes_no_money(
    alice: TestClient, root: TestClient, site: SqlStore
) -> None:
    _ask(alice, site)
    (req,) = site.refund_requests()
    r = root.post(
        "/admin/refunds/decide",
        data={
            "csrf": _token(root),
            "request_id": req.id,
            "decision": "refuse",
            "note": "printed fine",
        },
    )
    assert r.status_code == 200 and "refused" in r.text
    assert site.get_user("alice").balance == D("9.60")
    assert "printed fine" in alice.get("/refunds").text


def test_admin_credits_and_sets_quota(root: TestClient, site: SqlStore) -> None:
    token = _token(root)
    r = root.post(
        "/admin/user/credit",
        data={"csrf": token, "name": "bob", "amount": "2.50", "kind": "credit"},
    )
    assert r.status_code == 200 and "credit of 2.50 EUR for bob recorded" in r.text
    assert site.get_user("bob").balance == D("12.30")  # 10 - 0.20 + 2.50
    r = root.post(
        "/admin/quotas",
        data={"csrf": token, "name": "bob", "printer": "color1", "soft": "5", "hard": "8"},
    )
    assert r.status_code == 200
    q = site.get_user_quota("bob", "color1")
    assert (q.soft_limit, q.hard_limit) == (5, 8)
    r = root.post(
        "/admin/quotas", data={"csrf": token, "name": "bob", "printer": "lp1", "hard": "many"}
    )
    assert r.status_code == 400 and "hard limit: expected a whole number" in r.text
    r = root.post("/admin/user/credit", data={"csrf": token, "name": "bob", "amount": "1e999"})
    assert r.status_code == 400
    assert site.get_user("bob").balance == D("12.30")
    r = root.post("/admin/printer/edit", data={"csrf": token, "name": "lp1", "per_sheet": "0.1.2"})
    assert r.status_code == 400 and "price per sheet" in r.text
    assert site.get_printer("lp1").prices.per_page == D("0.10")


def test_admin_creates_edits_and_deletes(root: TestClient, site: SqlStore) -> None:
    token = _token(root)
    ok = [
        ("/admin/users", {"name": "carol", "limit_by": "balance", "balance": "3"}),
        ("/admin/user/edit", {"name": "carol", "description": "new", "overcharge": "1.5"}),
        ("/admin/groups", {"name": "staff"}),
        ("/admin/group/edit", {"name": "staff", "limit_by": "balance", "description": "all"}),
        ("/admin/group/members", {"name": "staff", "users": "carol, bob"}),
        ("/admin/printers", {"name": "lp9", "per_page": "0.05"}),
        ("/admin/printers", {"name": "floor"}),
        ("/admin/printer/group", {"group": "floor", "printer": "lp9"}),
        ("/admin/printer/edit", {"name": "lp9", "per_page": "0.07", "max_job_size": "50"}),
        ("/admin/quotas", {"name": "staff", "printer": "floor", "kind": "group", "hard": "500"}),
        ("/admin/billing-codes", {"code": "PRJ-1", "balance": "100"}),
        ("/admin/billing-code/edit", {"code": "PRJ-1", "balance": "90"}),
        ("/admin/quota/reset", {"name": "alice", "printer": "lp1"}),
    ]
    for url, data in ok:
        r = root.post(url, data={"csrf": token, **data})
        assert r.status_code == 200, (url, r.text)
    assert site.get_user("carol").overcharge == D("1.5")
    assert [u.name for u in site.members("staff")] == ["bob", "carol"]
    assert site.get_group("staff").limit_by is LimitBy.BALANCE
    assert site.get_printer("lp9").prices.per_page == D("0.07")
    assert [p.name for p in site.printer_group_members("floor")] == ["lp9"]
    assert site.get_group_quota("staff", "floor").hard_limit == 500
    assert site.get_billing_code("PRJ-1").balance == D("90")
    assert site.get_user_quota("alice", "lp1").page_counter == 0
    for url, data in [
        ("/admin/user/delete", {"name": "carol"}),
        ("/admin/billing-code/delete", {"code": "PRJ-1"}),
        ("/admin/quota/delete", {"name": "staff", "printer": "floor", "kind": "group"}),
        ("/admin/group/delete", {"name": "staff"}),
    ]:
        assert root.post(url, data={"csrf": token, **data}).status_code == 200
    assert "carol" not in root.get("/admin/users").text
    r = root.post("/admin/users", data={"csrf": token, "name": "bob"})
    assert r.status_code == 409 and "bob" in r.text


def test_job_search_and_dashboard(root: TestClient) -> None:
    html = root.get("/admin/jobs?user=bob").text
    assert "bob-secret-plan.pdf" in html and "alice-thesis" not in html
    csv_text = root.get("/admin/jobs.csv?printer=color1").text
    assert "alice-slides.pdf" in csv_text and "bob-secret" not in csv_text
    html = root.get("/admin/dashboard").text
    assert "hard limit reached" in html  # refusals by reason
    assert '<th scope="row">alice</th><td class="num">4</td>' in html  # 30 days: thesis only


def test_read_only_admin_sees_but_changes_nothing(audrey: TestClient, site: SqlStore) -> None:
    html = audrey.get("/admin/user?name=bob").text
    assert "bob-secret-plan.pdf" in html
    assert "Record payment" not in html and "Delete user" not in html
    r = audrey.post(
        "/admin/user/credit", data={"csrf": _token(audrey), "name": "audrey", "amount": "100"}
    )
    assert r.status_code == 403
    assert site.get_user("audrey").balance == D("10")


def test_dates_in_the_site_are_utc(root: TestClient) -> None:
    assert f"{NOW:%Y-%m-%d}" in root.get("/admin/payments").text


def test_notes_cannot_be_forged_by_a_link(root: TestClient) -> None:
    r = root.get("/admin/users?done=Your+password+expired:+mail+it+to+evil@example.org")
    assert "password expired" not in r.text
