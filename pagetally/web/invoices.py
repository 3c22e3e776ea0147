"""A user's monthly invoice from the web: pkinvoice's document for one month; and
the receipt of a refund made on the web: pkrefund's (`jobs refund --receipt`).

The number is issued once per user and month (kept in the store's invoice
numbers with kind `mYYYY-MM`) and reused by every later download, so clicking
twice never burns numbers, also when two downloads race (the store's
`invoice_number_for` issues it atomically); the jobs are those charged and not
refunded.

A refund made on the web gets its receipt at once, in the refund's own unit of
work (the store's `refund_with_receipt`, `approve_refund_request`): numbered
from the same sequence ("receipt"), kept in the store with what it says
(refundreceipts), and rendered on each download for the user and the admins.
"""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal
from typing import TYPE_CHECKING

from fastapi.responses import Response

from pagetally.config import Config
from pagetally.core.invoices import (
    Invoice,
    Receipt,
    ReceiptLine,
    RefundReceipt,
    Site,
    invoiced_jobs,
    vat_split,
)
from pagetally.core.refundrequests import RequestState, WebRefund
from pagetally.core.refunds import refund_for
from pagetally.errors import RuleError
from pagetally.storage.base import HistoryFilter

if TYPE_CHECKING:
    from pagetally.web.app import WebState


def month_bounds(month: str) -> tuple[datetime, datetime]:
    year, mon = (int(x) for x in month.split("-"))
    start = datetime(year, mon, 1, tzinfo=UTC)
    end = datetime(year + (mon == 12), mon % 12 + 1, 1, tzinfo=UTC)
    return start, end


def month_invoice(state: WebState, user_name: str, month: str) -> bytes:
    from pagetally.notify.documents import invoices_pdf

    cfg = state.config
    since, until = month_bounds(month)
    user = state.store.get_user(user_name)
    jobs = invoiced_jobs(
        list(state.store.history(HistoryFilter(user=user_name, since=since, until=until)))
    )
    totals = vat_split(sum((j.price for j in jobs), Decimal(0)), Decimal(cfg.get("invoicevat")))
    kind = f"m{month}"
    number = state.store.invoice_number_of(kind, user_name)  # a read: the usual case
    if number is None:  # atomic: two first downloads at once get one number
        number = state.store.invoice_number_for(kind, user_name, totals.total, state.now())
    invoice = Invoice(
        number=number,
        user=user.name,
        user_detail=user.description or user.email or "",
        issued=state.now(),
        start=since,
        end=until,
        jobs=tuple(jobs),
        totals=totals,
        unit=document_unit(cfg),
    )
    return invoices_pdf([invoice], document_site(cfg))


def document_site(cfg: Config) -> Site:
    """The site's name and address on invoices and receipts (invoicesite*)."""
    address = str(cfg.get("invoicesiteaddress") or "")
    return Site(
        name=str(cfg.get("invoicesitename") or ""),
        address=tuple(p.strip() for p in address.split("|") if p.strip()),
    )


def document_unit(cfg: Config) -> str:
    return str(cfg.get("invoiceunit") or "") or str(cfg.get("currency"))


def approve_request(state: WebState, request_id: int, by: str, note: str) -> WebRefund:
    """Approve refund request `request_id`: its job's whole price back as
    `pagetally jobs refund` gives it (core.refunds.refund_for), the receipt and
    the request's approval in the same unit of work of the store."""
    req = state.store.get_refund_request(request_id)
    if req.state is not RequestState.PENDING:
        raise RuleError(f"refund request {request_id} was decided already ({req.state.value})")
    job = state.store.get_job(req.job_row)
    reason = f"refund request {request_id}: {req.reason}" + (f"; {note}" if note else "")
    currency = state.config.rule_settings(job.printer).currency
    back = refund_for(job, currency=currency, note=reason)
    return state.store.approve_refund_request(request_id, back, by, state.now(), note)


def receipt_pdf(state: WebState, rec: RefundReceipt) -> bytes:
    """The receipt `rec` as `pagetally jobs refund --receipt` writes it (pkrefund's)."""
    from pagetally.notify.documents import receipts_pdf

    job = state.store.get_job(rec.job_row)
    receipt = Receipt(
        number=rec.number,
        user=rec.user,
        issued=rec.issued,
        lines=(ReceiptLine(job, rec.amount, rec.pages),),
        total=rec.amount,
        balance_after=rec.balance_after,
        unit=document_unit(state.config),
    )
    return receipts_pdf([receipt], document_site(state.config))


def receipt_download(state: WebState, rec: RefundReceipt) -> Response:
    return Response(
        receipt_pdf(state, rec),
        media_type="application/pdf",
        headers={"Content-Disposition": f'attachment; filename="receipt-{rec.number}.pdf"'},
    )
