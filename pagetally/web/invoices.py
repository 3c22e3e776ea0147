"""A user's monthly invoice from the web: pkinvoice's document for one month.

The number is issued once per user and month (kept in the store's invoice
numbers with kind `mYYYY-MM`) and reused by every later download, so clicking
twice never burns numbers, also when two downloads race (the store's
`invoice_number_for` issues it atomically); the jobs are those charged and not
refunded.
"""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal
from typing import TYPE_CHECKING

from pagetally.core.invoices import Invoice, Site, invoiced_jobs, vat_split
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
    jobs = invoiced_jobs(list(state.store.history(
        HistoryFilter(user=user_name, since=since, until=until))))
    totals = vat_split(sum((j.price for j in jobs), Decimal(0)), Decimal(cfg.get("invoicevat")))
    kind = f"m{month}"
    number = state.store.invoice_number_of(kind, user_name)  # a read: the usual case
    if number is None:  # atomic: two first downloads at once get one number
        number = state.store.invoice_number_for(kind, user_name, totals.total, state.now())
    address = str(cfg.get("invoicesiteaddress") or "")
    site = Site(name=str(cfg.get("invoicesitename") or ""),
                address=tuple(p.strip() for p in address.split("|") if p.strip()))
    unit = str(cfg.get("invoiceunit") or "") or str(cfg.get("currency"))
    invoice = Invoice(number=number, user=user.name,
                      user_detail=user.description or user.email or "", issued=state.now(),
                      start=since, end=until, jobs=tuple(jobs), totals=totals, unit=unit)
    return invoices_pdf([invoice], site)
