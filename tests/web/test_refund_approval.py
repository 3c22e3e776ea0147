"""Approving a refund request is one unit of work in the store: the refund, the
receipt's number and record, and the request marked approved commit together or
not at all, on SQLite, PostgreSQL and MariaDB; two admins approving at once
refund once.

Failures are injected by a real trigger in the database (no mock): one that
refuses the receipt's row (the last step: the money moved and the request was
marked before it, in the same transaction) and one that refuses the REFUND
payment (between the request's mark and the rest of the refund). The store is
compared whole before and after: nothing of the approval may stay.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import replace
from decimal import Decimal as D
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select, text

from pagetally.core.models import Action, PaymentKind
from pagetally.core.refundrequests import RequestState, WebRefund
from pagetally.core.refunds import refund_for
from pagetally.core.tokens import TokenRole
from pagetally.errors import RuleError, StorageError
from pagetally.storage import open_store
from pagetally.storage.schema import invoices, payments, refundreceipts, refundrequests
from pagetally.storage.sql import SqlStore
from pagetally.web.app import create_app
from tests.servers import mariadb_server, postgresql_server  # noqa: F401
from tests.web.engines import ENGINES, at_once, site_of
from tests.web.site import NOW, SETTINGS

ADMINS = 8


@pytest.fixture(params=ENGINES)
def any_site(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[SqlStore]:
    yield from site_of(request, tmp_path)


def _thesis(store: SqlStore) -> int:
    row = next(j.id for j in store.history() if j.title == "alice-thesis.pdf")
    assert row is not None
    return row


def _asked(store: SqlStore) -> tuple[int, int]:
    """alice asks a refund of her thesis (0.40 EUR): (request id, job row)."""
    row = _thesis(store)
    return store.add_refund_request(row, "alice", "jammed", NOW).id, row


def _state(store: SqlStore) -> dict[str, Any]:
    """What an approval changes, read straight from the tables."""
    with store._engine.connect() as conn:
        return {
            "requests": [
                (r.id, r.state, r.decidedby)
                for r in conn.execute(select(refundrequests).order_by(refundrequests.c.id))
            ],
            "payments": [
                (r.kind, r.amount) for r in conn.execute(select(payments).order_by(payments.c.id))
            ],
            "invoices": [
                tuple(r) for r in conn.execute(select(invoices.c.number, invoices.c.kind))
            ],
            "receipts": [tuple(r) for r in conn.execute(select(refundreceipts.c.jobrowid))],
            "alice": store.get_user("alice").balance,
            "jobs": [(j.id, j.action) for j in store.history()],
        }


def _approve(store: SqlStore, rid: int, row: int, by: str = "root") -> WebRefund:
    back = refund_for(store.get_job(row), currency="EUR", note=f"refund request {rid}")
    return store.approve_refund_request(rid, back, by, NOW, "ok")


def test_an_approval_refunds_keeps_the_receipt_and_marks_the_request(any_site: SqlStore) -> None:
    rid, row = _asked(any_site)
    balance = any_site.get_user("alice").balance
    made = _approve(any_site, rid, row)
    assert made.request is not None and made.request.state is RequestState.APPROVED
    assert made.done.amount == D("0.40") and made.done.balance_after == balance + D("0.40")
    assert made.receipt.number == 1 and made.receipt.job_row == row
    assert any_site.get_job(row).action is Action.REFUND
    assert any_site.refund_receipt(row) == made.receipt
    assert any_site.get_refund_request(rid).decided_by == "root"
    back = refund_for(replace(made.done.job, action=Action.ALLOW))  # as read before it
    with pytest.raises(RuleError, match="decided already"):  # a second one: nothing more
        any_site.approve_refund_request(rid, back, "root", NOW)
    refunds = [p for p in any_site.payments("alice") if p.kind is PaymentKind.REFUND]
    assert [p.amount for p in refunds] == [D("0.40")]


def _trigger_sql(backend: str, table: str) -> tuple[list[str], list[str]]:
    """(create, drop) statements of a trigger refusing every insert into `table`."""
    if backend == "sqlite":
        return (
            [
                f"CREATE TRIGGER pt_fail BEFORE INSERT ON {table} "
                "BEGIN SELECT RAISE(ABORT, 'injected failure'); END"
            ],
            ["DROP TRIGGER pt_fail"],
        )
    if backend == "postgresql":
        return (
            [
                "CREATE FUNCTION pt_fail() RETURNS trigger LANGUAGE plpgsql AS "
                "$$ BEGIN RAISE EXCEPTION 'injected failure'; END $$",
                f"CREATE TRIGGER pt_fail BEFORE INSERT ON {table} "
                "FOR EACH ROW EXECUTE FUNCTION pt_fail()",
            ],
            [f"DROP TRIGGER pt_fail ON {table}", "DROP FUNCTION pt_fail()"],
        )
    return (
        [
            f"CREATE TRIGGER pt_fail BEFORE INSERT ON {table} FOR EACH ROW "
            "SIGNAL SQLSTATE '45000' SET MESSAGE_TEXT = 'injected failure'"
        ],
        ["DROP TRIGGER pt_fail"],
    )


def _run(store: SqlStore, statements: list[str]) -> None:
    with store._engine.begin() as conn:
        for sql in statements:
            conn.execute(text(sql))


@pytest.mark.parametrize("table", ["refundreceipts", "payments"])
def test_a_failure_between_the_steps_leaves_nothing(any_site: SqlStore, table: str) -> None:
    """A trigger refuses the receipt's row (after the request's mark and the whole
    refund) or the REFUND payment (after the mark, the job's row and the balance):
    the approval fails and every table is as it was; the request is still pending
    and approves once the trigger is gone."""
    rid, row = _asked(any_site)
    before = _state(any_site)
    create, drop = _trigger_sql(any_site.backend, table)
    _run(any_site, create)
    try:
        with pytest.raises(StorageError, match="injected failure"):
            _approve(any_site, rid, row)
        assert _state(any_site) == before
        assert any_site.get_refund_request(rid).state is RequestState.PENDING
    finally:
        _run(any_site, drop)
    made = _approve(any_site, rid, row)
    assert made.receipt.number == 1 and made.done.balance_after == before["alice"] + D("0.40")


def test_a_failed_admin_refund_keeps_no_receipt_and_moves_no_money(any_site: SqlStore) -> None:
    """An admin's refund of a job (no request) and its receipt: all or nothing too."""
    row = _thesis(any_site)
    before = _state(any_site)
    create, drop = _trigger_sql(any_site.backend, "refundreceipts")
    _run(any_site, create)
    try:
        with pytest.raises(StorageError, match="injected failure"):
            any_site.refund_with_receipt(row, refund_for(any_site.get_job(row)), NOW)
        assert _state(any_site) == before
    finally:
        _run(any_site, drop)


def test_admins_approving_at_once_refund_once(any_site: SqlStore) -> None:
    """Eight web servers (a store object and its own connections each) approve the
    same request at the same moment, over several requests: one approval each,
    the others refused with nothing changed."""
    servers = [open_store(any_site.settings) for _ in range(ADMINS)]
    balance = any_site.get_user("alice").balance
    rows = [j.id for j in any_site.history() if j.user == "alice" and j.action is Action.ALLOW]
    try:
        for row in rows:
            assert row is not None
            rid = any_site.add_refund_request(row, "alice", "jammed", NOW).id
            back = refund_for(any_site.get_job(row), currency="EUR")
            got = at_once(
                ADMINS,
                lambda i, rid=rid, back=back: servers[i].approve_refund_request(
                    rid, back, f"admin{i}", NOW
                ),
            )
            made = [g for g in got if isinstance(g, WebRefund)]
            lost = [g for g in got if not isinstance(g, WebRefund)]
            assert len(made) == 1, got
            assert all(isinstance(g, RuleError) for g in lost), lost
            winner = made[0].request
            assert winner is not None
            assert any_site.get_refund_request(rid).decided_by == winner.decided_by
    finally:
        for server in servers:
            server.close()
    state = _state(any_site)
    assert [k for k, _a in state["payments"]].count(PaymentKind.REFUND.value) == len(rows)
    assert [n for n, _k in state["invoices"]] == list(range(1, len(rows) + 1))
    assert len(state["receipts"]) == len(rows)
    assert state["alice"] == balance + D("0.40") + D("5.00")


def test_the_api_approves_once(any_site: SqlStore) -> None:
    """`POST /api/v1/refund-requests/{id}/approve` from two admins' scripts at once:
    one 200 with the receipt's number, one 409; `GET /refund-requests` shows it."""
    app = create_app(SETTINGS, any_site, now=lambda: NOW)
    _token, secret = any_site.add_api_token("root", TokenRole.ADMIN, NOW)
    rid, row = _asked(any_site)
    clients = [TestClient(app, headers={"Authorization": f"Bearer {secret}"}) for _ in range(2)]
    url = f"/api/v1/refund-requests/{rid}/approve"
    got = at_once(2, lambda i: clients[i].post(url, json={"note": "ok"}))
    codes = sorted(r.status_code for r in got)  # type: ignore[attr-defined]
    assert codes == [200, 409], [r.text for r in got]  # type: ignore[attr-defined]
    ok = next(r for r in got if r.status_code == 200)  # type: ignore[attr-defined]
    body = ok.json()  # type: ignore[attr-defined]
    assert body["receipt"] == 1 and body["amount"] == "0.40"
    assert body["request"]["state"] == "approved" and body["request"]["note"] == "ok"
    listed = clients[0].get("/api/v1/refund-requests", params={"state": "approved"}).json()
    assert [(r["id"], r["job_row"]) for r in listed] == [(rid, row)]
