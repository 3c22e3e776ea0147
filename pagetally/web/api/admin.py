"""`/api/v1/…` for admins: users, groups, printers and printer groups, quotas,
billing codes, payments, credit and refund, job search, dashboards, the quota
report. Reading needs an admin or a read-only admin (a user may read their own
user, status and jobs here too); every change needs an admin (web/rights.py)."""

from __future__ import annotations

from decimal import Decimal
from typing import Annotated, Any

from fastapi import APIRouter, Depends, HTTPException, Query, Request, Response
from fastapi.responses import JSONResponse

from pagetally.core.models import Action, BillingCode, Group, Payment, PaymentKind, PriceTable
from pagetally.core.models import Printer as PrinterModel
from pagetally.core.models import User as UserModel
from pagetally.core.refundrequests import RequestState, WebRefund
from pagetally.core.refunds import refund_for
from pagetally.errors import InvalidInput
from pagetally.storage.reports import quota_report
from pagetally.storage.webqueries import JobQuery, JobSort, check_period
from pagetally.web.api import params as p
from pagetally.web.api.base import ApiRoute, answer, now_of, row, store_of
from pagetally.web.api.me import page_of, status_of
from pagetally.web.identity import admin, admin_view, current, state_of
from pagetally.web.rights import Identity, may_see_user

router = APIRouter(route_class=ApiRoute)
Viewer = Annotated[Identity, Depends(admin_view)]
Changer = Annotated[Identity, Depends(admin)]
Caller = Annotated[Identity, Depends(current)]
Pattern = Annotated[
    str, Query(min_length=1, max_length=255, description="A name or shell wildcards (*, ?, [a-z]).")
]
NO_CONTENT = Response(status_code=204)


def _currency(request: Request) -> str:
    return state_of(request).settings.currency


def _own_or_admin(who: Identity, user: str) -> None:
    if not may_see_user(who, user):
        raise HTTPException(403, "you may see your own account only")


# --- users -------------------------------------------------------------------------
@router.get("/users", tags=["users"], summary="Users matching a name or wildcards")
def users(request: Request, who: Viewer, name: Pattern = "*") -> list[Any]:
    return row(store_of(request).find_users([name]))  # type: ignore[no-any-return]


@router.get("/users/{name}", tags=["users"], summary="One user (admins, or the user)")
def user(request: Request, who: Caller, name: str) -> Any:
    _own_or_admin(who, name)
    return row(store_of(request).get_user(name))


@router.get("/users/{name}/status", tags=["users"], summary="A user's account and quotas")
def user_status(request: Request, who: Caller, name: str) -> JSONResponse:
    _own_or_admin(who, name)
    return answer(status_of(request, name))


@router.post("/users", tags=["users"], status_code=201, summary="Create a user")
def add_user(request: Request, who: Changer, body: p.NewUser) -> Any:
    return row(
        store_of(request).add_user(
            UserModel(
                body.name, limit_by=body.limit_by, email=body.email, description=body.description
            )
        )
    )


@router.patch("/users/{name}", tags=["users"], summary="Change a user")
def edit_user(request: Request, who: Changer, name: str, body: p.UserChange) -> Any:
    over = p.price(body.overcharge, "overcharge") if body.overcharge is not None else None
    return row(
        store_of(request).edit_user(
            name,
            limit_by=body.limit_by,
            overcharge=over,
            email=body.email,
            description=body.description,
        )
    )


@router.delete("/users/{name}", tags=["users"], status_code=204, summary="Delete a user")
def delete_user(request: Request, who: Changer, name: str) -> Response:
    store_of(request).delete_user(name)
    return NO_CONTENT


@router.post("/users/{name}/credit", tags=["payments"], summary="Credit a user")
def credit(request: Request, who: Changer, name: str, body: p.Credit) -> Any:
    amount = p.money(body.amount, _currency(request), "amount")
    if amount <= 0:
        raise InvalidInput("amount: give a positive amount")
    return row(
        store_of(request).add_payment(
            Payment(name, amount, PaymentKind.CREDIT, body.note, now_of(request))
        )
    )


# --- groups ------------------------------------------------------------------------
@router.get("/groups", tags=["groups"], summary="Groups with their members' balances")
def groups(request: Request, who: Viewer, name: Pattern = "*") -> list[Any]:
    store = store_of(request)
    out = []
    for g in store.find_groups([name]):
        bal, paid = store.group_balance(g.name)
        out.append({**row(g), "balance": row(bal), "lifetime_paid": row(paid)})
    return out


@router.get("/groups/{name}", tags=["groups"], summary="A group and its members")
def group(request: Request, who: Viewer, name: str) -> dict[str, Any]:
    store = store_of(request)
    bal, paid = store.group_balance(name)
    return {
        **row(store.get_group(name)),
        "balance": row(bal),
        "lifetime_paid": row(paid),
        "members": [u.name for u in store.members(name)],
    }


@router.post("/groups", tags=["groups"], status_code=201, summary="Create a group")
def add_group(request: Request, who: Changer, body: p.NewGroup) -> Any:
    return row(
        store_of(request).add_group(
            Group(body.name, limit_by=body.limit_by, description=body.description)
        )
    )


@router.delete("/groups/{name}", tags=["groups"], status_code=204, summary="Delete a group")
def delete_group(request: Request, who: Changer, name: str) -> Response:
    store_of(request).delete_group(name)
    return NO_CONTENT


@router.post("/groups/{name}/members", tags=["groups"], summary="Add members")
def add_members(request: Request, who: Changer, name: str, body: p.Members) -> Any:
    store = store_of(request)
    store.add_members(name, body.names)
    return group(request, who, name)


@router.delete(
    "/groups/{name}/members/{user}", tags=["groups"], status_code=204, summary="Remove a member"
)
def remove_member(request: Request, who: Changer, name: str, user: str) -> Response:
    store_of(request).remove_members(name, [user])
    return NO_CONTENT


# --- printers and printer groups ------------------------------------------------------
@router.get("/printers", tags=["printers"], summary="Printers and printer groups")
def printers(request: Request, who: Viewer, name: Pattern = "*") -> list[Any]:
    return row(store_of(request).find_printers([name]))  # type: ignore[no-any-return]


@router.get("/printers/{name}", tags=["printers"], summary="A printer")
def printer(request: Request, who: Viewer, name: str) -> Any:
    return row(store_of(request).get_printer(name))


@router.post("/printers", tags=["printers"], status_code=201, summary="Create a printer")
def add_printer(request: Request, who: Changer, body: p.NewPrinter) -> Any:
    prices = PriceTable(
        per_page=p.price(body.price_per_page, "price per page"),
        per_job=p.price(body.price_per_job, "price per job"),
    )
    return row(
        store_of(request).add_printer(
            PrinterModel(
                body.name,
                description=body.description,
                prices=prices,
                max_job_size=body.max_job_size,
            )
        )
    )


@router.patch("/printers/{name}", tags=["printers"], summary="Change a printer")
def edit_printer(request: Request, who: Changer, name: str, body: p.PrinterChange) -> Any:
    store = store_of(request)
    prices = None
    if body.price_per_page is not None or body.price_per_job is not None:
        old = store.get_printer(name).prices
        prices = PriceTable.from_dict(
            {
                **old.to_dict(),
                **(
                    {"per_page": str(p.price(body.price_per_page, "price per page"))}
                    if body.price_per_page is not None
                    else {}
                ),
                **(
                    {"per_job": str(p.price(body.price_per_job, "price per job"))}
                    if body.price_per_job is not None
                    else {}
                ),
            }
        )
    return row(
        store.edit_printer(
            name,
            prices=prices,
            max_job_size=body.max_job_size,
            passthrough=body.passthrough,
            description=body.description,
        )
    )


@router.delete("/printers/{name}", tags=["printers"], status_code=204, summary="Delete a printer")
def delete_printer(request: Request, who: Changer, name: str) -> Response:
    store_of(request).delete_printer(name)
    return NO_CONTENT


@router.get("/printer-groups", tags=["printers"], summary="Printer groups and their members")
def printer_groups(request: Request, who: Viewer) -> list[dict[str, Any]]:
    store = store_of(request)
    out = []
    for pr in store.find_printers(["*"]):
        members = store.printer_group_members(pr.name)
        if members:
            out.append({"group": pr.name, "members": [m.name for m in members]})
    return out


@router.post(
    "/printer-groups/{name}/members", tags=["printers"], summary="Put printers into a printer group"
)
def add_to_printer_group(request: Request, who: Changer, name: str, body: p.Members) -> Any:
    store = store_of(request)
    store.add_to_printer_group(name, body.names)
    return {"group": name, "members": [m.name for m in store.printer_group_members(name)]}


@router.delete(
    "/printer-groups/{name}/members/{printer}",
    tags=["printers"],
    status_code=204,
    summary="Take a printer out of a printer group",
)
def remove_from_printer_group(request: Request, who: Changer, name: str, printer: str) -> Response:
    store_of(request).remove_from_printer_group(name, [printer])
    return NO_CONTENT


# --- quotas ---------------------------------------------------------------------------
@router.get("/quotas", tags=["quotas"], summary="Users' quota entries")
def quotas(request: Request, who: Viewer, user: Pattern = "*", printer: Pattern = "*") -> list[Any]:
    return row(store_of(request).user_quotas([printer], [user]))  # type: ignore[no-any-return]


@router.put("/quotas/{user}/{printer}", tags=["quotas"], summary="Set a user's limits")
def set_quota(request: Request, who: Changer, user: str, printer: str, body: p.QuotaLimits) -> Any:
    return row(
        store_of(request).set_user_quota(
            user,
            printer,
            soft_limit=body.soft_limit,
            hard_limit=body.hard_limit,
            max_job_size=body.max_job_size,
        )
    )


@router.post(
    "/quotas/{user}/{printer}/reset", tags=["quotas"], summary="Reset a user's page counter"
)
def reset_quota(request: Request, who: Changer, user: str, printer: str, body: p.QuotaReset) -> Any:
    return row(
        store_of(request).reset_user_quota(
            user, printer, page_counter=body.page_counter, lifetime=body.lifetime
        )
    )


@router.delete(
    "/quotas/{user}/{printer}",
    tags=["quotas"],
    status_code=204,
    summary="Delete a user's quota entry",
)
def delete_quota(request: Request, who: Changer, user: str, printer: str) -> Response:
    store_of(request).delete_user_quota(user, printer)
    return NO_CONTENT


@router.get("/group-quotas", tags=["quotas"], summary="Groups' quota entries")
def group_quotas(
    request: Request, who: Viewer, group: Pattern = "*", printer: Pattern = "*"
) -> list[Any]:
    return row(store_of(request).group_quotas([printer], [group]))  # type: ignore[no-any-return]


@router.put("/group-quotas/{group}/{printer}", tags=["quotas"], summary="Set a group's limits")
def set_group_quota(
    request: Request, who: Changer, group: str, printer: str, body: p.QuotaLimits
) -> Any:
    return row(
        store_of(request).set_group_quota(
            group,
            printer,
            soft_limit=body.soft_limit,
            hard_limit=body.hard_limit,
            max_job_size=body.max_job_size,
        )
    )


@router.get("/report", tags=["quotas"], summary="The quota report (pagetally report)")
def report(
    request: Request, who: Viewer, printer: Pattern = "*", name: Pattern = "*", group: bool = False
) -> dict[str, Any]:
    rep = quota_report(store_of(request), [printer], [name], group=group)
    keys = (
        "printer",
        "name",
        "page_counter",
        "life_page_counter",
        "soft_limit",
        "hard_limit",
        "grace_until",
        "warn_count",
    )
    return {
        "accounts": {n: row(a) for n, a in rep.accounts.items()},
        "entries": [dict(zip(keys, row(list(e)), strict=True)) for e in rep.entries],
    }


# --- billing codes ---------------------------------------------------------------------
@router.get("/billing-codes", tags=["billing codes"], summary="Billing codes")
def billing_codes(request: Request, who: Viewer, code: Pattern = "*") -> list[Any]:
    return row(store_of(request).find_billing_codes([code]))  # type: ignore[no-any-return]


@router.post(
    "/billing-codes", tags=["billing codes"], status_code=201, summary="Create a billing code"
)
def add_billing_code(request: Request, who: Changer, body: p.NewBillingCode) -> Any:
    return row(
        store_of(request).add_billing_code(BillingCode(body.code, description=body.description))
    )


@router.patch("/billing-codes/{code}", tags=["billing codes"], summary="Change a billing code")
def edit_billing_code(request: Request, who: Changer, code: str, body: p.BillingCodeChange) -> Any:
    balance = (
        p.money(body.balance, _currency(request), "balance", allow_negative=True)
        if body.balance is not None
        else None
    )
    return row(
        store_of(request).edit_billing_code(code, description=body.description, balance=balance)
    )


@router.delete(
    "/billing-codes/{code}",
    tags=["billing codes"],
    status_code=204,
    summary="Delete a billing code",
)
def delete_billing_code(request: Request, who: Changer, code: str) -> Response:
    store_of(request).delete_billing_code(code)
    return NO_CONTENT


# --- payments, refunds ----------------------------------------------------------------
_SIGN = {PaymentKind.CREDIT: 1, PaymentKind.FREE: 1, PaymentKind.REFUND: 1, PaymentKind.DEBIT: -1}


@router.get("/payments", tags=["payments"], summary="Payments, of one user or all")
def payments(request: Request, who: Viewer, user: str | None = None) -> list[Any]:
    return row(store_of(request).payments(user))  # type: ignore[no-any-return]


@router.post(
    "/payments",
    tags=["payments"],
    status_code=201,
    summary="Record a payment (credit, free, refund, debit)",
)
def add_payment(request: Request, who: Changer, body: p.NewPayment) -> Any:
    amount = p.money(body.amount, _currency(request), "amount")
    if amount <= 0:
        raise InvalidInput("amount: give a positive amount (the kind says which way)")
    after = store_of(request).add_payment(
        Payment(body.user, _SIGN[body.kind] * amount, body.kind, body.note, now_of(request))
    )
    return row(after)


@router.post("/jobs/{job_id}/refund", tags=["jobs"], summary="Refund a charged job")
def refund(request: Request, who: Changer, job_id: int, body: p.RefundAsk) -> Any:
    store = store_of(request)
    try:
        fraction = Decimal(body.fraction)
    except ArithmeticError:
        raise InvalidInput(f"fraction {body.fraction!r} is not a number") from None
    job = store.get_job(job_id)
    ask = refund_for(
        job, currency=_currency(request), fraction=fraction, pages=body.pages, note=body.note
    )
    made = store.refund_with_receipt(job_id, ask, now_of(request))
    return _refund_answer(made)


def _refund_answer(made: WebRefund) -> dict[str, Any]:
    done = made.done
    return {
        "job": row(done.job),
        "amount": row(done.amount),
        "pages": done.pages,
        "balance_after": row(done.balance_after),
        "receipt": made.receipt.number,
    }


@router.get(
    "/refund-requests", tags=["refund requests"], summary="Users' refund requests, newest first"
)
def refund_requests(request: Request, who: Viewer, state: RequestState | None = None) -> list[Any]:
    return row(state_of(request).store.refund_requests(state=state))  # type: ignore[no-any-return]


@router.post(
    "/refund-requests/{request_id}/approve",
    tags=["refund requests"],
    summary="Approve a pending request: the job refunded, its receipt and the approval at once",
)
def approve_refund_request(
    request: Request, who: Changer, request_id: int, body: p.RefundDecision
) -> Any:
    from pagetally.web.invoices import approve_request

    made = approve_request(state_of(request), request_id, who.name, body.note)
    return {"request": row(made.request), **_refund_answer(made)}


@router.post(
    "/refund-requests/{request_id}/refuse",
    tags=["refund requests"],
    summary="Refuse a pending request (nothing is refunded)",
)
def refuse_refund_request(
    request: Request, who: Changer, request_id: int, body: p.RefundDecision
) -> Any:
    state = state_of(request)
    done = state.store.decide_refund_request(
        request_id, RequestState.REFUSED, who.name, now_of(request), body.note
    )
    return row(done)


# --- jobs -------------------------------------------------------------------------------
@router.get("/jobs", tags=["jobs"], summary="Search every job, one page")
def jobs(
    request: Request,
    who: Viewer,
    user: str | None = None,
    printer: str | None = None,
    host: str | None = None,
    billing_code: str | None = None,
    action: Action | None = None,
    title: Annotated[str | None, Query(max_length=200)] = None,
    since: p.Since = None,
    until: p.Until = None,
    sort: p.Sort = JobSort.DATE,
    descending: p.Descending = True,
    limit: p.PageLimit = 50,
    after: p.After = None,
) -> JSONResponse:
    return answer(
        page_of(
            request,
            JobQuery(
                user=user,
                printer=printer,
                host=host,
                billing_code=billing_code,
                action=action,
                title=title,
                since=p.aware(since),
                until=p.aware(until),
                sort=sort,
                descending=descending,
                limit=limit,
                after=after,
            ),
        )
    )


@router.get("/jobs/{job_id}", tags=["jobs"], summary="One job (admins, or its user)")
def job(request: Request, who: Caller, job_id: int) -> Any:
    found = store_of(request).get_job(job_id)
    _own_or_admin(who, found.user)
    return row(found)


@router.get(
    "/jobs/{job_id}/receipt",
    tags=["jobs"],
    response_class=Response,
    summary="The PDF receipt of a job refunded on the web (admins, or its user)",
    responses={
        200: {"content": {"application/pdf": {}}, "description": "pkrefund's receipt"},
        404: {"description": "no such job, or no receipt of it"},
    },
)
def job_receipt(request: Request, who: Caller, job_id: int) -> Response:
    from pagetally.web.invoices import receipt_download

    state = state_of(request)
    found = state.store.get_job(job_id)
    _own_or_admin(who, found.user)
    rec = state.store.refund_receipt(job_id)
    if rec is None:
        raise HTTPException(404, f"job {job_id} has no receipt: it was not refunded on the web")
    return receipt_download(state, rec)


# --- dashboards -------------------------------------------------------------------------
def _period(request: Request, since: Any, until: Any) -> tuple[Any, Any]:
    start, end = p.period(since, until, now_of(request))
    check_period(start, end)
    return start, end


@router.get("/dashboards/usage", tags=["dashboards"], summary="Pages and money per day")
def usage(request: Request, who: Viewer, since: p.Since = None, until: p.Until = None) -> list[Any]:
    return row(store_of(request).usage_by_day(*_period(request, since, until)))  # type: ignore[no-any-return]


@router.get("/dashboards/top-users", tags=["dashboards"], summary="Who printed most")
def top_users(
    request: Request,
    who: Viewer,
    since: p.Since = None,
    until: p.Until = None,
    limit: Annotated[int, Query(ge=1, le=500)] = 10,
) -> list[Any]:
    start, end = _period(request, since, until)
    return row(store_of(request).top_users(start, end, limit))  # type: ignore[no-any-return]


@router.get("/dashboards/printers", tags=["dashboards"], summary="Each printer's use")
def printer_use(
    request: Request, who: Viewer, since: p.Since = None, until: p.Until = None
) -> list[Any]:
    return row(store_of(request).printer_use(*_period(request, since, until)))  # type: ignore[no-any-return]


@router.get("/dashboards/refusals", tags=["dashboards"], summary="Refused jobs by reason")
def refusals(
    request: Request, who: Viewer, since: p.Since = None, until: p.Until = None
) -> list[Any]:
    return row(store_of(request).refusals(*_period(request, since, until)))  # type: ignore[no-any-return]
