"""The web beside a store that cannot keep the web's own rows (the LDAP store).

`pagetally web` over an LDAP store keeps its passwords, revoked sessions,
refund requests, receipts, invoice numbers and API tokens in a SQL "side"
store (`webstore`, docs/config.md), and reads and changes users, quotas,
balances, history and payments through the LDAP store's role interfaces. Its
page reads are storage/rolequeries.py's (what needs SQL's aggregates says so).

Numbers (web invoices, refund receipts) come from the accounting store's own
sequence (`issue_numbers`: the LDAP counter entry), so they never repeat those
`pagetally invoice` issues there; the side store keeps which is whose.

A refund made on the web cannot be one transaction across a directory and a
database. It is made in an order that can always be finished: the directory's
refund first (it claims the job's entry once: two admins at once refund once),
then, in one SQL transaction, the request marked approved and the receipt
kept. If that second step fails, the money moved and the request is still
pending: approving it again sees the job refunded by this very request (its
reason names it) and only finishes the record, never refunding twice. Of two
approvals at once, one records, the other is told the request was decided.
"""

from __future__ import annotations

import contextlib
from datetime import datetime
from decimal import Decimal
from typing import Any

from pagetally.core.invoices import RefundReceipt
from pagetally.core.models import Action, User
from pagetally.core.refundrequests import RequestState, WebRefund
from pagetally.core.refunds import Refund, RefundResult
from pagetally.core.tokens import ApiToken, TokenRole
from pagetally.errors import AlreadyExists, NotFound, RuleError
from pagetally.storage.base import ReportQueries, Store, StoreSettings, TokenStore, WebStore
from pagetally.storage.rolequeries import role_queries
from pagetally.storage.sql import SqlStore


def _names(*roles: type) -> frozenset[str]:
    return frozenset(
        name
        for role in roles
        for name in vars(role)
        if not name.startswith("_") and callable(getattr(role, name))
    )


#: what the side store answers, and what RoleQueries does
_SIDE = _names(WebStore, TokenStore)
_QUERIES = _names(ReportQueries)


def open_side(settings: StoreSettings) -> SqlStore:
    """The web's side store (`webstore`), its schema made or brought up to date:
    it is the web's own database (a SQLite file does so on its first use)."""
    from pagetally.storage import open_store
    from pagetally.storage.schema import SCHEMA_REVISION

    side = open_store(settings)
    assert isinstance(side, SqlStore)
    if side.backend != "sqlite" and side.schema_revision() != SCHEMA_REVISION:
        side.upgrade()
    return side


class WebSideStore:
    """The web's store: `main` (the LDAP store) for the accounting, `side` (SQL)
    for the web's own rows; methods below join the two."""

    def __init__(self, main: Store, side: SqlStore) -> None:
        self.main = main
        self.side = side
        self.queries = role_queries(main)

    @property
    def readonly(self) -> bool:
        return self.main.readonly

    def __getattr__(self, name: str) -> Any:
        if name.startswith("_"):
            raise AttributeError(name)
        if name in _QUERIES:
            return getattr(self.queries, name)
        return getattr(self.side if name in _SIDE else self.main, name)

    def close(self) -> None:
        try:
            self.main.close()
        finally:
            self.side.close()

    # --- tokens: the side store's rows name a user of the accounting store -------
    def add_api_token(
        self,
        user: str,
        role: TokenRole,
        created: datetime,
        *,
        label: str = "",
        expires: datetime | None = None,
    ) -> tuple[ApiToken, str]:
        self.main.get_user(user)  # NotFound for a user the accounting store lacks
        with contextlib.suppress(AlreadyExists):  # the side store's row the token hangs on
            self.side.add_user(User(user))
        return self.side.add_api_token(user, role, created, label=label, expires=expires)

    def verify_api_token(self, secret: str, now: datetime) -> ApiToken | None:
        """A valid token of a user the accounting store still has."""
        token = self.side.verify_api_token(secret, now)
        if token is None:
            return None
        try:
            self.main.get_user(token.user)
        except NotFound:
            return None
        return token

    # --- numbers from the accounting store's sequence ------------------------------
    def invoice_number_for(self, kind: str, user: str, amount: Decimal, issued: datetime) -> int:
        known = self.side.invoice_number_of(kind, user)
        if known is not None:
            return known
        number = self.main.issue_numbers(kind, [(user, amount)], issued)[0]
        return self.side.record_invoice_number(kind, user, amount, issued, number)

    # --- refunds made on the web -------------------------------------------------------
    def refund_with_receipt(self, row_id: int, refund: Refund, date: datetime) -> WebRefund:
        done = self.main.refund(row_id, refund, date)
        receipt, _ = self.side.record_web_refund(self._receipt(done, date), None, "", "")
        return WebRefund(done, receipt)

    def approve_refund_request(
        self, request_id: int, refund: Refund, by: str, date: datetime, note: str = ""
    ) -> WebRefund:
        req = self.side.get_refund_request(request_id)
        if req.state is not RequestState.PENDING:
            raise RuleError(f"refund request {request_id} was decided already")
        try:
            done = self.main.refund(req.job_row, refund, date)
        except RuleError:
            done = self._refunded_by(request_id, req.job_row, refund)
        receipt, decided = self.side.record_web_refund(
            self._receipt(done, date), request_id, by, note
        )
        return WebRefund(done, receipt, decided)

    def _refunded_by(self, request_id: int, row: int, refund: Refund) -> RefundResult:
        """The job's refund made by an earlier approval of this request that
        stopped before its record (or by a concurrent one): finish it. Any other
        refund of the job is refused as the store refused it."""
        job = self.main.get_job(row)
        if job.action is not Action.REFUND or f"refund request {request_id}:" not in job.reason:
            raise RuleError(f"job {job.job_id or job.id} was refunded already")
        balance = self.main.get_user(job.user).balance
        return RefundResult(job, refund.amount, refund.pages, balance)

    def _receipt(self, done: RefundResult, date: datetime) -> RefundReceipt:
        row = done.job.id
        assert row is not None
        kept = self.side.refund_receipt(row)
        if kept is not None:  # recorded before: the same number again
            return kept
        number = self.main.issue_numbers("receipt", [(done.job.user, done.amount)], date)[0]
        return RefundReceipt(
            row, number, done.job.user, done.amount, done.pages, done.balance_after, date
        )
