"""The admin pages: read-only admins see them, admins also change things.

Every GET depends on `admin_view` and every POST on `changer` (an admin, with
the form's CSRF token checked), so the rule (rights.py) is in each route's
signature. Names travel as query or form values, never in the path, so that
any name the store accepts (slashes, markup) works and is escaped on the page.
After a change the page redirects with a short note of what was done.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from decimal import Decimal
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import RedirectResponse, Response, StreamingResponse

from pagetally.core.models import (
    BillingCode,
    Group,
    LimitBy,
    Payment,
    PaymentKind,
    PriceTable,
    Printer,
    User,
)
from pagetally.core.money import format_money, parse_amount
from pagetally.core.refundrequests import RequestState, WebRefund
from pagetally.core.refunds import Refund, refund_for
from pagetally.errors import InvalidInput, NotFound
from pagetally.storage.base import HistoryFilter
from pagetally.web import dashboard, history
from pagetally.web.app import WebState, queries, render
from pagetally.web.forms import posted
from pagetally.web.identity import admin, admin_view, state_of
from pagetally.web.invoices import approve_request, receipt_download
from pagetally.web.rights import Identity, may_change_site

router = APIRouter(prefix="/admin")
#: Rows a list page shows at most: a search narrows the rest (a site of 100,000 users).
SHOWN = 500
Viewer = Annotated[Identity, Depends(admin_view)]


async def _changer(who: Annotated[Identity, Depends(posted)]) -> Identity:
    return await admin(who)


Changer = Annotated[Identity, Depends(_changer)]
Text = Annotated[str, Form()]
Opt = Annotated[str, Form()]


def _back(request: Request, url: str, note: str) -> Response:
    """Back to a page after a change, with a signed note of what was done."""
    from urllib.parse import quote

    sep = "&" if "?" in url else "?"
    sealed = quote(state_of(request).sessions.seal_note(note))
    return RedirectResponse(f"{url}{sep}done={sealed}", status_code=303)


def _page(request: Request, who: Identity, template: str, **ctx: Any) -> Response:
    done = state_of(request).sessions.open_note(request.query_params.get("done", ""))
    return render(request, template, who, done=done, can_change=may_change_site(who), **ctx)


def _money(text: str, what: str, *, negative: bool = False) -> Decimal:
    try:
        return parse_amount(text.strip(), allow_negative=negative)
    except InvalidInput as exc:
        raise InvalidInput(f"{what}: {exc}") from None


def _opt_money(text: str, what: str) -> Decimal | None:
    return _money(text, what) if text.strip() else None


def _opt_int(text: str, what: str) -> int | None:
    text = text.strip()
    if not text:
        return None
    try:
        value = int(text)
    except ValueError:
        raise InvalidInput(f"{what}: expected a whole number, got {text!r}") from None
    if value < 0:
        raise InvalidInput(f"{what}: expected a number >= 0, got {value}")
    return value


def _limit_by(text: str) -> LimitBy:
    try:
        return LimitBy(text.strip().lower())
    except ValueError:
        raise InvalidInput(f"limit by: one of {', '.join(v.value for v in LimitBy)}") from None


def _pattern(request: Request) -> list[str]:
    q = request.query_params.get("q", "").strip()
    return [q if any(c in q for c in "*?[") else f"*{q}*"] if q else ["*"]


@router.get("")
def index(request: Request, who: Viewer) -> Response:
    state = state_of(request)
    pending = len(state.store.refund_requests(state=RequestState.PENDING))
    return _page(request, who, "admin/index.j2", pending=pending)


# --- users --------------------------------------------------------------------
@router.get("/users")
def users(request: Request, who: Viewer) -> Response:
    found = state_of(request).store.find_users(_pattern(request))
    return _page(
        request,
        who,
        "admin/users.j2",
        users=found[:SHOWN],
        more=len(found) - SHOWN,
        q=request.query_params.get("q", ""),
        limits=[v.value for v in LimitBy],
    )


@router.get("/user")
def user(request: Request, who: Viewer, name: str) -> Response:
    state = state_of(request)
    u = state.store.get_user(name)
    jobs = list(state.store.history(HistoryFilter(user=name, newest_first=True, limit=20)))
    return _page(
        request,
        who,
        "admin/user.j2",
        u=u,
        quotas=state.store.user_quotas(users=[name]),
        groups=state.store.groups_of(name),
        payments=state.store.payments(name),
        jobs=jobs,
        limits=[v.value for v in LimitBy],
        kinds=[k.value for k in PaymentKind],
    )


@router.post("/users")
def add_user(
    request: Request,
    who: Changer,
    name: Text,
    limit_by: Opt = "quota",
    balance: Opt = "0",
    email: Opt = "",
    description: Opt = "",
) -> Response:
    state = state_of(request)
    state.store.add_user(
        User(
            name.strip(),
            limit_by=_limit_by(limit_by),
            balance=_money(balance or "0", "balance", negative=True),
            email=email.strip() or None,
            description=description.strip(),
        )
    )
    return _back(request, "/admin/users", f"user {name.strip()} added")


@router.post("/user/edit")
def edit_user(
    request: Request,
    who: Changer,
    name: Text,
    limit_by: Opt = "",
    overcharge: Opt = "",
    email: Opt = "",
    description: Opt = "",
) -> Response:
    state_of(request).store.edit_user(
        name,
        limit_by=_limit_by(limit_by) if limit_by else None,
        overcharge=_opt_money(overcharge, "overcharge factor"),
        email=email.strip() or None,
        description=description,
    )
    return _back(request, _user_url(name), f"user {name} changed")


def _user_url(name: str) -> str:
    from urllib.parse import urlencode

    return "/admin/user?" + urlencode({"name": name})


@router.post("/user/credit")
def credit(
    request: Request,
    who: Changer,
    name: Text,
    amount: Text,
    kind: Opt = "credit",
    description: Opt = "",
) -> Response:
    """Credit (or debit) a user: the same store call as `pagetally users credit`."""
    state = state_of(request)
    try:
        pkind = PaymentKind(kind)
    except ValueError:
        raise InvalidInput(f"kind: one of {', '.join(k.value for k in PaymentKind)}") from None
    value = _money(amount, "amount", negative=True)
    state.store.add_payment(
        Payment(
            name,
            value,
            pkind,
            description.strip() or f"web: {pkind.value} by {who.name}",
            state.now(),
        )
    )
    shown = format_money(value, state.settings.currency)
    return _back(request, _user_url(name), f"{pkind.value} of {shown} for {name} recorded")


@router.post("/user/delete")
def delete_user(request: Request, who: Changer, name: Text) -> Response:
    state_of(request).store.delete_user(name)
    return _back(request, "/admin/users", f"user {name} deleted")


# --- groups -------------------------------------------------------------------
@router.get("/groups")
def groups(request: Request, who: Viewer) -> Response:
    state = state_of(request)
    found = state.store.find_groups(_pattern(request))
    members = {g.name: [u.name for u in state.store.members(g.name)] for g in found}
    return _page(
        request,
        who,
        "admin/groups.j2",
        groups=found,
        members=members,
        q=request.query_params.get("q", ""),
        limits=[v.value for v in LimitBy],
    )


@router.post("/groups")
def add_group(
    request: Request, who: Changer, name: Text, limit_by: Opt = "quota", description: Opt = ""
) -> Response:
    state_of(request).store.add_group(
        Group(name.strip(), limit_by=_limit_by(limit_by), description=description.strip())
    )
    return _back(request, "/admin/groups", f"group {name.strip()} added")


@router.post("/group/edit")
def edit_group(
    request: Request, who: Changer, name: Text, limit_by: Opt = "", description: Opt = ""
) -> Response:
    state_of(request).store.edit_group(
        name, limit_by=_limit_by(limit_by) if limit_by else None, description=description
    )
    return _back(request, "/admin/groups", f"group {name} changed")


@router.post("/group/members")
def group_members(
    request: Request, who: Changer, name: Text, users: Text, action: Opt = "add"
) -> Response:
    names = [u for u in users.replace(",", " ").split() if u]
    store = state_of(request).store
    (store.remove_members if action == "remove" else store.add_members)(name, names)
    return _back(request, "/admin/groups", f"members of {name} changed")


@router.post("/group/delete")
def delete_group(request: Request, who: Changer, name: Text) -> Response:
    state_of(request).store.delete_group(name)
    return _back(request, "/admin/groups", f"group {name} deleted")


# --- printers and printer groups ------------------------------------------------
@router.get("/printers")
def printers(request: Request, who: Viewer) -> Response:
    state = state_of(request)
    found = state.store.find_printers(_pattern(request))
    inside = {p.name: [m.name for m in state.store.printer_group_members(p.name)] for p in found}
    return _page(
        request,
        who,
        "admin/printers.j2",
        printers=found,
        inside=inside,
        q=request.query_params.get("q", ""),
    )


def _prices(
    per_page: Opt = "0", per_job: Opt = "0", per_color_page: Opt = "", per_sheet: Opt = "0"
) -> PriceTable:
    """The price fields of the printer forms (add and edit), checked as money."""
    return PriceTable(
        per_page=_money(per_page or "0", "price per page"),
        per_job=_money(per_job or "0", "price per job"),
        per_color_page=_opt_money(per_color_page, "price per colour page"),
        per_sheet=_money(per_sheet or "0", "price per sheet"),
    )


Prices = Annotated[PriceTable, Depends(_prices)]


@router.post("/printers")
def add_printer(
    request: Request,
    who: Changer,
    name: Text,
    prices: Prices,
    description: Opt = "",
) -> Response:
    state_of(request).store.add_printer(
        Printer(name.strip(), description=description.strip(), prices=prices)
    )
    return _back(request, "/admin/printers", f"printer {name.strip()} added")


@router.post("/printer/edit")
def edit_printer(
    request: Request,
    who: Changer,
    name: Text,
    prices: Prices,
    max_job_size: Opt = "",
    description: Opt = "",
) -> Response:
    size = _opt_int(max_job_size, "max job size")
    state_of(request).store.edit_printer(
        name,
        prices=prices,
        max_job_size=size,
        clear_max_job_size=size is None,
        description=description,
    )
    return _back(request, "/admin/printers", f"printer {name} changed")


@router.post("/printer/group")
def printer_group(
    request: Request, who: Changer, group: Text, printer: Text, action: Opt = "add"
) -> Response:
    store = state_of(request).store
    if action == "remove":
        store.remove_from_printer_group(group, [printer])
    else:
        store.add_to_printer_group(group, [printer])
    return _back(request, "/admin/printers", f"printer group {group} changed")


@router.post("/printer/delete")
def delete_printer(request: Request, who: Changer, name: Text) -> Response:
    state_of(request).store.delete_printer(name)
    return _back(request, "/admin/printers", f"printer {name} deleted")


# --- quotas -------------------------------------------------------------------
@router.get("/quotas")
def quotas(request: Request, who: Viewer) -> Response:
    state = state_of(request)
    pat = _pattern(request)
    shown, total = queries(state).first_user_quotas(pat, SHOWN)  # objects for these only
    return _page(
        request,
        who,
        "admin/quotas.j2",
        q=request.query_params.get("q", ""),
        user_quotas=shown,
        more=total - len(shown),
        group_quotas=state.store.group_quotas(groups=pat)[:SHOWN],
    )


@router.post("/quotas")
def set_quota(
    request: Request,
    who: Changer,
    name: Text,
    printer: Text,
    kind: Opt = "user",
    soft: Opt = "",
    hard: Opt = "",
    max_job_size: Opt = "",
) -> Response:
    store = state_of(request).store
    limits = {
        "soft_limit": _opt_int(soft, "soft limit"),
        "hard_limit": _opt_int(hard, "hard limit"),
        "max_job_size": _opt_int(max_job_size, "max job size"),
    }
    if kind == "group":
        store.set_group_quota(name.strip(), printer.strip(), **limits)
    else:
        store.set_user_quota(name.strip(), printer.strip(), **limits)
    return _back(request, "/admin/quotas", f"quota of {name.strip()} on {printer.strip()} set")


@router.post("/quota/reset")
def reset_quota(request: Request, who: Changer, name: Text, printer: Text) -> Response:
    state_of(request).store.reset_user_quota(name, printer)
    return _back(request, "/admin/quotas", f"page counter of {name} on {printer} reset")


@router.post("/quota/delete")
def delete_quota(
    request: Request, who: Changer, name: Text, printer: Text, kind: Opt = "user"
) -> Response:
    store = state_of(request).store
    (store.delete_group_quota if kind == "group" else store.delete_user_quota)(name, printer)
    return _back(request, "/admin/quotas", f"quota of {name} on {printer} deleted")


# --- billing codes --------------------------------------------------------------
@router.get("/billing-codes")
def codes(request: Request, who: Viewer) -> Response:
    found = state_of(request).store.find_billing_codes(_pattern(request))
    return _page(request, who, "admin/codes.j2", codes=found, q=request.query_params.get("q", ""))


@router.post("/billing-codes")
def add_code(
    request: Request, who: Changer, code: Text, description: Opt = "", balance: Opt = "0"
) -> Response:
    state_of(request).store.add_billing_code(
        BillingCode(
            code.strip(),
            description=description.strip(),
            balance=_money(balance or "0", "balance", negative=True),
        )
    )
    return _back(request, "/admin/billing-codes", f"billing code {code.strip()} added")


@router.post("/billing-code/edit")
def edit_code(
    request: Request, who: Changer, code: Text, description: Opt = "", balance: Opt = ""
) -> Response:
    state_of(request).store.edit_billing_code(
        code, description=description, balance=_opt_money(balance, "balance")
    )
    return _back(request, "/admin/billing-codes", f"billing code {code} changed")


@router.post("/billing-code/delete")
def delete_code(request: Request, who: Changer, code: Text) -> Response:
    state_of(request).store.delete_billing_code(code)
    return _back(request, "/admin/billing-codes", f"billing code {code} deleted")


# --- payments -----------------------------------------------------------------
@router.get("/payments")
def payments(request: Request, who: Viewer) -> Response:
    state = state_of(request)
    user_q = request.query_params.get("user", "").strip() or None
    pays = state.store.payments(user_q)
    pays.sort(key=lambda p: (p.date is not None, p.date), reverse=True)
    return _page(
        request,
        who,
        "admin/payments.j2",
        payments=pays[:500],
        user=user_q or "",
        kinds=[k.value for k in PaymentKind],
    )


# --- refunds: the queue, and refunding a job directly ----------------------------
@router.get("/refunds")
def refund_queue(request: Request, who: Viewer) -> Response:
    state = state_of(request)
    reqs = state.store.refund_requests()
    jobs = {}
    for r in reqs:
        try:
            jobs[r.id] = state.store.get_job(r.job_row)
        except NotFound:  # the job row is gone: the request shows without it
            continue
    receipts = state.store.refund_receipts()
    return _page(
        request,
        who,
        "admin/refunds.j2",
        requests=reqs,
        jobs=jobs,
        receipts=receipts[:200],
        receipt_rows={r.job_row for r in receipts},
    )


@router.get("/receipts/{row}.pdf")
def receipt(request: Request, who: Viewer, row: int) -> Response:
    """The receipt of a job refunded on the web (any user's: admins and read-only admins)."""
    state = state_of(request)
    rec = state.store.refund_receipt(row)
    if rec is None:
        raise NotFound("receipt of job", str(row))
    return receipt_download(state, rec)


def _refund_of(state: WebState, row: int, note: str) -> Refund:
    """The whole price of history row `row`, as `pagetally jobs refund` gives it
    back (core.refunds.refund_for)."""
    job = state.store.get_job(row)
    return refund_for(job, currency=state.config.rule_settings(job.printer).currency, note=note)


def _refunded(state: WebState, made: WebRefund) -> str:
    """What the store did, in words."""
    return (
        f"job {made.done.job.id} refunded: "
        f"{format_money(made.done.amount, state.settings.currency)} to "
        f"{made.done.job.user}, receipt #{made.receipt.number}"
    )


@router.post("/refunds/decide")
def decide(
    request: Request, who: Changer, request_id: Text, decision: Text, note: Opt = ""
) -> Response:
    state = state_of(request)
    try:
        rid = int(request_id)
    except ValueError:
        raise InvalidInput(f"no refund request {request_id!r}") from None
    if decision == "approve":
        made = approve_request(state, rid, who.name, note)
        return _back(request, "/admin/refunds", _refunded(state, made))
    if decision == "refuse":
        state.store.decide_refund_request(rid, RequestState.REFUSED, who.name, state.now(), note)
        return _back(request, "/admin/refunds", f"refund request {rid} refused")
    raise InvalidInput("decision: approve or refuse")


@router.post("/jobs/refund")
def refund_job(request: Request, who: Changer, row: Text, reason: Opt = "") -> Response:
    try:
        rid = int(row)
    except ValueError:
        raise InvalidInput(f"no job {row!r}") from None
    state = state_of(request)
    back = _refund_of(state, rid, reason or f"refunded on the web by {who.name}")
    made = state.store.refund_with_receipt(rid, back, state.now())
    return _back(request, "/admin/jobs", _refunded(state, made))


# --- job search and dashboard ----------------------------------------------------
@router.get("/jobs")
def jobs(request: Request, who: Viewer) -> Response:
    state = state_of(request)
    q = history.parse_query(dict(request.query_params))
    page = history.page(queries(state), q)
    return _page(
        request,
        who,
        "history.j2",
        q=q,
        page=page,
        requested=set(),
        actions=history.ACTIONS,
        sorts=history.SORTS,
        base="/admin/jobs",
        show_user=True,
    )


@router.get("/jobs.csv")
def jobs_csv(request: Request, who: Viewer) -> Response:
    q = history.parse_query(dict(request.query_params))
    return StreamingResponse(
        history.csv_lines(history.every_job(queries(state_of(request)), q)),
        media_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": 'attachment; filename="jobs.csv"'},
    )


@router.get("/dashboard")
def dashboard_page(request: Request, who: Viewer) -> Response:
    state = state_of(request)
    days = 30

    def make() -> tuple[datetime, dashboard.Summary]:
        now = state.now()
        return now, dashboard.summarise(queries(state), now - timedelta(days=days), now)

    made, got = state.dashboard.get(make)
    return _page(request, who, "admin/dashboard.j2", d=got, days=days, made=made)
