"""`/api/v1/me…`: the caller's own account, quotas, jobs, payments and usage —
what every user may read about themselves, and nothing about anyone else."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Request
from fastapi.responses import JSONResponse

from pagetally.core.models import Action
from pagetally.storage.webqueries import JobQuery, JobSort
from pagetally.web.api.base import ApiRoute, answer, now_of, row, store_of
from pagetally.web.api.params import (
    After,
    Descending,
    PageLimit,
    Since,
    Sort,
    Until,
    aware,
    period,
)
from pagetally.web.identity import current
from pagetally.web.rights import Identity

router = APIRouter(route_class=ApiRoute, tags=["me"])
Caller = Annotated[Identity, Depends(current)]


def status_of(request: Request, name: str) -> dict[str, Any]:
    """A user's status as JSON: account, quota entries (with what is left), groups."""
    status = store_of(request).user_status(name)
    out: dict[str, Any] = row(status)
    for q in out["quotas"] + out["group_quotas"]:
        limit = q["hard_limit"] if q["hard_limit"] is not None else q["soft_limit"]
        q["pages_left"] = None if limit is None else max(limit - q["page_counter"], 0)
    return out


def page_of(request: Request, query: JobQuery) -> dict[str, Any]:
    page = store_of(request).job_page(query)
    return {"jobs": row(page.jobs), "next": page.next_cursor}


@router.get("/me", summary="Who the caller is")
def me(who: Caller) -> dict[str, str]:
    return {"name": who.name, "role": who.role.value, "via": who.via}


@router.get("/me/status", summary="The caller's account and quotas")
def my_status(request: Request, who: Caller) -> JSONResponse:
    return answer(status_of(request, who.name))


@router.get("/me/jobs", summary="The caller's jobs, one page")
def my_jobs(
    request: Request,
    who: Caller,
    printer: str | None = None,
    action: Action | None = None,
    since: Since = None,
    until: Until = None,
    sort: Sort = JobSort.DATE,
    descending: Descending = True,
    limit: PageLimit = 50,
    after: After = None,
) -> JSONResponse:
    return answer(
        page_of(
            request,
            JobQuery(
                user=who.name,
                printer=printer,
                action=action,
                since=aware(since),
                until=aware(until),
                sort=sort,
                descending=descending,
                limit=limit,
                after=after,
            ),
        )
    )


@router.get("/me/payments", summary="The caller's payments")
def my_payments(request: Request, who: Caller) -> list[Any]:
    return row(store_of(request).payments(who.name))  # type: ignore[no-any-return]


@router.get("/me/usage", summary="The caller's pages and money per day")
def my_usage(request: Request, who: Caller, since: Since = None, until: Until = None) -> list[Any]:
    start, end = period(since, until, now_of(request))
    from pagetally.storage.webqueries import check_period

    check_period(start, end)
    return row(store_of(request).usage_by_day(start, end, who.name))  # type: ignore[no-any-return]
