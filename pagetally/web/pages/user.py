"""The user's own pages: status, history, charts, quote, payments, refund requests.

Every page shows the caller's own account only (rights.may_see_user): no page
takes a user name a user could change to see someone else's; the job of a
refund request is checked to be theirs.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated

from fastapi import APIRouter, Depends, Form, HTTPException, Request, UploadFile
from fastapi.responses import RedirectResponse, Response, StreamingResponse

from pagetally.core.refundrequests import check_request
from pagetally.errors import NotFound
from pagetally.web import charts, history
from pagetally.web.app import WebState, queries, render
from pagetally.web.forms import Posted
from pagetally.web.identity import current, state_of
from pagetally.web.rights import Identity, may_request_refund
from pagetally.web.status import balance_warning, group_line, quota_line

router = APIRouter()
Me = Annotated[Identity, Depends(current)]


@router.get("/")
def status(request: Request, who: Me) -> Response:
    """The first page: quota per printer (theirs and their groups'), the account,
    and a warning near a limit; one read of the store (`user_status`)."""
    state = state_of(request)
    try:
        got = queries(state).user_status(who.name)
    except NotFound:
        return render(request, "nouser.j2", who)
    now = state.now()
    lines = [quota_line(q, now) for q in got.quotas]
    group_lines = [(g.group, group_line(g, now)) for g in got.group_quotas]
    warnings = [q.message for q in lines if q.level != "ok"]
    warnings += [f"group {name}: {q.message}" for name, q in group_lines if q.level != "ok"]
    low = balance_warning(got.user, state.config.rule_settings().poorman, state.settings.currency)
    if low:
        warnings.insert(0, low)
    return render(
        request,
        "status.j2",
        who,
        user=got.user,
        quotas=lines,
        group_quotas=group_lines,
        warnings=warnings,
    )


@router.get("/history")
def history_page(request: Request, who: Me) -> Response:
    state = state_of(request)
    q = history.parse_query(dict(request.query_params), user=who.name)  # their own only
    page = history.page(queries(state), q)
    requested = {r.job_row for r in state.store.refund_requests(user=who.name)}
    return render(
        request,
        "history.j2",
        who,
        q=q,
        page=page,
        requested=requested,
        actions=history.ACTIONS,
        sorts=history.SORTS,
        base="/history",
        show_user=False,
    )


@router.get("/history.csv")
def history_csv(request: Request, who: Me) -> Response:
    state = state_of(request)
    q = history.parse_query(dict(request.query_params), user=who.name)
    return StreamingResponse(
        history.csv_lines(history.every_job(queries(state), q)),
        media_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": 'attachment; filename="history.csv"'},
    )


@router.get("/charts")
def charts_page(request: Request, who: Me) -> Response:
    state = state_of(request)
    s = state.settings
    f = charts.figures(queries(state).printed_sums(who.name), s.sheet_grams, s.sheet_co2_grams)
    return render(
        request,
        "charts.j2",
        who,
        f=f,
        per_month=charts.bars("Pages per month", f.per_month),
        colour=charts.bars(
            "Colour and mono pages", [("colour", f.colour), ("mono", f.mono)], colour="#a53b6e"
        ),
        by_printer=charts.bars("Pages by printer", f.by_printer, colour="#3ba56e"),
    )


@router.get("/quote")
def quote_form(request: Request, who: Me) -> Response:
    return render(request, "quote.j2", who, rows=[], notes=[], filename="")


@router.post("/quote")
async def quote(request: Request, who: Posted, document: UploadFile) -> Response:
    """Count the uploaded file and price it on each printer the user may use, as
    `pagetally quote` does (web/quoting.py)."""
    from pagetally.web.quoting import quote_upload

    got = await quote_upload(
        state_of(request), who, document, empty="the file is empty: choose a document to quote"
    )
    return render(request, "quote.j2", who, rows=got.rows, notes=got.notes, filename=got.file)


@router.get("/payments")
def payments_page(request: Request, who: Me) -> Response:
    state = state_of(request)
    pays = sorted(
        state.store.payments(who.name),
        key=lambda p: p.date or datetime.min.replace(tzinfo=UTC),
        reverse=True,
    )
    months = _invoice_months(state, who.name)
    return render(request, "payments.j2", who, payments=pays, months=months)


def _invoice_months(state: WebState, user: str) -> list[str]:
    """Whole months past (UTC) in which the user was charged something, newest
    first: one query in the store, not the user's whole history read here."""
    now = state.now().astimezone(UTC)
    this_month = now.replace(day=1, hour=0, minute=0, second=0, microsecond=0)
    return queries(state).invoice_months(user, this_month)


@router.get("/invoices/{month}.pdf")
def invoice_pdf(request: Request, who: Me, month: str) -> Response:
    """The user's invoice of a past month (numbered once: the number is reused)."""
    from pagetally.web.invoices import month_invoice

    state = state_of(request)
    if month not in _invoice_months(state, who.name):
        raise NotFound("invoice", month)
    data = month_invoice(state, who.name, month)
    return Response(
        data,
        media_type="application/pdf",
        headers={"Content-Disposition": f'attachment; filename="invoice-{month}.pdf"'},
    )


@router.get("/refunds")
def refunds_page(request: Request, who: Me) -> Response:
    state = state_of(request)
    requests = state.store.refund_requests(user=who.name)
    job = request.query_params.get("job", "")
    return render(
        request,
        "refunds.j2",
        who,
        requests=requests,
        job=job,
        receipts=state.store.refund_receipts(who.name),
    )


@router.get("/receipts/{row}.pdf")
def receipt_pdf(request: Request, who: Me, row: int) -> Response:
    """The receipt of one of the user's jobs refunded on the web."""
    from pagetally.web.invoices import receipt_download

    state = state_of(request)
    rec = state.store.refund_receipt(row)
    if rec is None or rec.user != who.name:  # another's: not even there
        raise NotFound("receipt of job", str(row))
    return receipt_download(state, rec)


@router.post("/refunds")
def ask_refund(
    request: Request, who: Posted, job: Annotated[str, Form()], reason: Annotated[str, Form()] = ""
) -> Response:
    state = state_of(request)
    try:
        row = int(job)
        record = state.store.get_job(row)
    except (ValueError, NotFound):
        raise HTTPException(404, f"no job {job} of yours") from None
    if not may_request_refund(who, record.user):
        raise HTTPException(404, f"no job {job} of yours")  # not "forbidden": not even there
    pending = {
        r.job_row for r in state.store.refund_requests(user=who.name) if r.state.value == "pending"
    }
    text = check_request(record, who.name, reason, pending)
    state.store.add_refund_request(row, who.name, text, state.now())
    return RedirectResponse("/refunds?asked=1", status_code=303)
