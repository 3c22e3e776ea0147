"""`pagetally web` over the LDAP store, against a real slapd (tests/slapd.py): the
web's own rows (passwords, sessions, refund requests, receipts) in its SQL side
store (`webstore`), users, quotas, balances, history and payments read and
changed in the directory. A page the directory cannot answer (charts, the
dashboard) says so instead of failing."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta
from decimal import Decimal as D
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from pagetally.config import load_config
from pagetally.core.models import (
    Action,
    ChargeRequest,
    Decision,
    JobFacts,
    LimitBy,
    PaymentKind,
    PriceTable,
    Printer,
    User,
)
from pagetally.core.refundrequests import RequestState
from pagetally.core.refunds import refund_for
from pagetally.errors import RuleError
from pagetally.storage import open_store
from pagetally.storage.base import Store
from pagetally.storage.webside import WebSideStore
from pagetally.web.app import create_app, web_store
from tests.slapd import SlapdServer, slapd_server  # noqa: F401
from tests.web.conftest import csrf_of, login
from tests.web.site import NOW, SETTINGS, pw_hash

pytestmark = [pytest.mark.slow, pytest.mark.ldap]


def _charge(store: Store, n: int, title: str) -> int:
    facts = JobFacts(
        user="alice",
        printer="lp1",
        pages=4,
        title=title,
        job_id=str(n),
        host="ws1",
        job_uuid=f"urn:uuid:ldap-{n}",
    )
    when = NOW - timedelta(days=n)
    job = store.charge(ChargeRequest(facts, Decision(Action.ALLOW, price=D("0.40"), pages=4), when))
    assert job.job.id is not None
    return job.job.id


@pytest.fixture
def ldap_web(
    slapd_server: SlapdServer,  # noqa: F811
    tmp_path: Path,
) -> Iterator[tuple[Store, WebSideStore]]:
    """A directory with alice (who printed two jobs) and root, and the web's store
    over it as `pagetally web` opens it from the configuration."""
    settings = slapd_server.new_directory()
    store = open_store(settings)
    store.upgrade()
    for name in ("alice", "root"):
        store.add_user(User(name, limit_by=LimitBy.BALANCE, balance=D("10")))
    store.add_printer(Printer("lp1", prices=PriceTable(per_page=D("0.10"))))
    store.set_user_quota("alice", "lp1", soft_limit=50, hard_limit=100)
    _charge(store, 1, "alice-thesis.pdf")
    _charge(store, 40, "alice-slides.pdf")  # in October: a past month's invoice
    conf = tmp_path / "pagetally.conf"
    conf.write_text(f"[global]\nwebstore: sqlite:///{tmp_path}/web.db\n")
    web = web_store(store, load_config(str(conf)))
    assert isinstance(web, WebSideStore)
    for name in ("alice", "root"):
        web.set_web_password_hash(name, pw_hash(), NOW)
    try:
        yield store, web
    finally:
        web.close()


def _clients(web: WebSideStore) -> tuple[TestClient, TestClient]:
    app = create_app(SETTINGS, web, now=lambda: NOW)  # type: ignore[arg-type]
    return login(TestClient(app), "alice"), login(TestClient(app), "root")


def test_a_user_sees_quota_and_history_and_an_admin_credit_lands_in_ldap(
    ldap_web: tuple[Store, WebSideStore],
) -> None:
    store, web = ldap_web
    alice, root = _clients(web)
    status = alice.get("/").text
    assert "lp1" in status and "9.20" in status  # the quota entry, the balance after 2 jobs
    history = alice.get("/history").text
    assert "alice-thesis.pdf" in history and "alice-slides.pdf" in history
    token = csrf_of(root.get("/admin/user", params={"name": "alice"}).text)
    r = root.post(
        "/admin/user/credit",
        data={"csrf": token, "name": "alice", "amount": "2.50", "kind": "credit"},
    )
    assert r.status_code == 200 and "credit of 2.50 EUR for alice recorded" in r.text
    fresh = open_store(store.settings)  # type: ignore[attr-defined]
    try:
        assert fresh.get_user("alice").balance == D("11.70")
        assert [p.amount for p in fresh.payments("alice") if p.kind is PaymentKind.CREDIT] == [
            D("2.50")
        ]
    finally:
        fresh.close()
    assert "11.70" in alice.get("/").text
    payments = alice.get("/payments").text
    assert "2026-10" in payments
    first = alice.get("/invoices/2026-10.pdf")
    assert first.status_code == 200 and 'filename="invoice-2026-10.pdf"' in str(first.headers)
    assert web.invoice_number_of("m2026-10", "alice") == 1  # the directory's sequence
    assert store.last_invoice_number() == 1  # type: ignore[attr-defined]
    assert alice.get("/invoices/2026-10.pdf").content == first.content  # the same number
    report = web.quota_report()  # `pagetally report`'s, from the directory's entries
    assert [(e[0], e[1], e[2]) for e in report.entries] == [("lp1", "alice", 8)]
    # the session ends on logout, kept in the side store
    alice.post("/logout", data={"csrf": csrf_of(alice.get("/").text)})
    assert alice.get("/", follow_redirects=False).status_code == 303


def test_pages_the_directory_cannot_answer_say_so(ldap_web: tuple[Store, WebSideStore]) -> None:
    _store, web = ldap_web
    alice, root = _clients(web)
    for client, path in ((alice, "/charts"), (root, "/admin/dashboard")):
        r = client.get(path)
        assert r.status_code == 501, (path, r.text[:300])
        assert "cannot be read from the LDAP store" in r.text and "SQL store" in r.text
        assert "internal error" not in r.text
    metrics = TestClient(alice.app).get("/metrics").text  # no history totals, no "down"
    assert "pagetally_store_up 1.0" in metrics and "pagetally_jobs_total" not in metrics


def test_a_refund_request_approved_on_the_web_refunds_in_ldap_once(
    ldap_web: tuple[Store, WebSideStore],
) -> None:
    store, web = ldap_web
    alice, root = _clients(web)
    row = next(j.id for j in store.history() if j.title == "alice-thesis.pdf")
    assert row is not None
    page = alice.get("/refunds").text
    alice.post("/refunds", data={"csrf": csrf_of(page), "job": str(row), "reason": "jammed"})
    (req,) = web.refund_requests()
    r = root.post(
        "/admin/refunds/decide",
        data={
            "csrf": csrf_of(root.get("/admin/refunds").text),
            "request_id": req.id,
            "decision": "approve",
        },
    )
    assert "refunded: 0.40 EUR to alice, receipt #1" in r.text
    assert store.get_job(row).action is Action.REFUND
    assert store.get_user("alice").balance == D("9.60")
    assert web.get_refund_request(req.id).state is RequestState.APPROVED
    assert web.refund_receipt(row) is not None
    with pytest.raises(RuleError):
        web.approve_refund_request(req.id, refund_for(store.get_job(row)), "root", NOW)
    assert store.get_user("alice").balance == D("9.60")


def test_an_approval_stopped_after_the_directorys_refund_is_finished_not_repeated(
    ldap_web: tuple[Store, WebSideStore],
) -> None:
    """The directory refunded the job for request N (as an approval does), then
    the process stopped before the side store recorded it: approving again
    records the approval and the receipt, and refunds nothing more."""
    store, web = ldap_web
    row = next(j.id for j in store.history() if j.title == "alice-slides.pdf")
    assert row is not None
    req = web.add_refund_request(row, "alice", "bad print", NOW)
    back = refund_for(store.get_job(row), note=f"refund request {req.id}: bad print")
    store.refund(row, back, NOW)  # the first step of an approval, alone
    assert store.get_user("alice").balance == D("9.60")
    made = web.approve_refund_request(req.id, back, "root", NOW)
    assert made.request is not None and made.request.state is RequestState.APPROVED
    assert made.receipt.job_row == row
    assert store.get_user("alice").balance == D("9.60")  # not refunded twice
    other = web.add_refund_request(
        next(j.id for j in store.history() if j.title == "alice-thesis.pdf") or 0,
        "alice",
        "jam",
        NOW,
    )
    store.refund(other.job_row, refund_for(store.get_job(other.job_row), note="by hand"), NOW)
    with pytest.raises(RuleError, match="refunded already"):  # refunded, but not by it
        web.approve_refund_request(other.id, back, "root", NOW)
    assert web.get_refund_request(other.id).state is RequestState.PENDING


def test_the_cli_keeps_web_passwords_and_tokens_in_the_web_store(
    slapd_server: SlapdServer,  # noqa: F811
    tmp_path: Path,
) -> None:
    """`pagetally web-password` and `pagetally tokens` on an LDAP site write to
    `webstore`, where the web reads them."""
    from pagetally.cli.main import app as cli_app
    from tests.cli.conftest import Cli

    s = slapd_server.new_directory()
    store = open_store(s)
    store.upgrade()
    store.add_user(User("alice"))
    store.close()
    conf = tmp_path / "pagetally.conf"
    conf.write_text(
        f"[global]\nstoragebackend: ldap\nstorageserver: {s.server}\nstoragename: {s.name}\n"
        f"storageuser: {s.user}\nstorageuserpw: {s.password}\n"
        f"webstore: sqlite:///{tmp_path}/web.db\n"
    )
    admin = tmp_path / "pagetally-admin.conf"
    admin.write_text(
        f"[global]\nstorageadmin: {s.admin_user}\nstorageadminpw: {s.admin_password}\n"
    )
    admin.chmod(0o600)
    cli = Cli(conf, tmp_path / "unused.db")
    done = cli.runner.invoke(
        cli_app,
        ["--config", str(conf), "web-password", "alice", "--stdin"],
        input="a long web password\n",
        obj=cli.env(),
    )
    assert done.exit_code == 0, done.output
    secret = cli("tokens", "add", "alice").stdout.strip()
    assert "alice" in cli("tokens", "list").stdout
    web = web_store(open_store(s), load_config(str(conf)))
    try:
        assert web.get_web_password_hash("alice") is not None
        token = web.verify_api_token(secret, NOW)  # type: ignore[attr-defined]
        assert token is not None and token.user == "alice"
    finally:
        web.close()


def test_admins_approving_at_once_on_ldap_refund_once(
    ldap_web: tuple[Store, WebSideStore], tmp_path: Path
) -> None:
    """Four web servers (their own directory connections and side-store engines)
    approve one request at the same moment: the job is refunded once, the
    request approved once, one receipt kept."""
    from tests.web.engines import at_once

    store, web = ldap_web
    row = next(j.id for j in store.history() if j.title == "alice-thesis.pdf")
    assert row is not None
    req = web.add_refund_request(row, "alice", "jammed", NOW)
    back = refund_for(store.get_job(row), note=f"refund request {req.id}: jammed")
    conf = tmp_path / "pagetally.conf"  # the fixture's: the same webstore
    servers = [
        web_store(open_store(store.settings), load_config(str(conf)))  # type: ignore[attr-defined]
        for _ in range(4)
    ]
    try:
        got = at_once(
            4, lambda i: servers[i].approve_refund_request(req.id, back, f"admin{i}", NOW)
        )
    finally:
        for server in servers:
            server.close()
    made = [g for g in got if not isinstance(g, Exception)]
    assert len(made) == 1, got
    assert all(isinstance(g, RuleError) for g in got if isinstance(g, Exception)), got
    assert store.get_user("alice").balance == D("9.60")  # 9.20 + 0.40, once
    refunds = [p for p in store.payments("alice") if p.kind is PaymentKind.REFUND]
    assert len(refunds) == 1
    assert web.get_refund_request(req.id).state is RequestState.APPROVED
    assert len(web.refund_receipts()) == 1
