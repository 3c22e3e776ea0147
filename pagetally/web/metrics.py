"""`/metrics`: Prometheus' text format, for the monitoring a site already runs.

Read from the store at each scrape (one GROUP BY over the history, one over the
refusals, one over the measured backend times), so that every print server's
jobs are counted, whichever process charged them: jobs by printer and action,
pages and money charged by printer, refusals by reason, the backend's time per
job by printer (a histogram). From this process: API requests and their time,
and store errors met while serving. Names follow Prometheus' conventions
(`pagetally_..._total` for counters).
"""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from typing import Any

from fastapi import APIRouter, Request, Response
from prometheus_client import CollectorRegistry, Counter, Histogram, generate_latest
from prometheus_client.core import (
    CounterMetricFamily,
    GaugeMetricFamily,
    HistogramMetricFamily,
)
from prometheus_client.exposition import CONTENT_TYPE_LATEST
from prometheus_client.registry import Collector

from pagetally.errors import NotAvailable, PageTallyError
from pagetally.storage.webqueries import BackendTimes

_LOCK = threading.Lock()
_STORE_ERRORS = [0]


def count_store_error() -> None:
    """A store error met while serving (the store down, a driver error)."""
    with _LOCK:
        _STORE_ERRORS[0] += 1


#: The backend time histogram's bounds (ms): a job through the resident service
#: takes tens of milliseconds, one the backend runs alone a second or more, and
#: the time includes the printer's taking the job (the real backend).
BACKEND_BOUNDS_MS = (50, 100, 250, 500, 1000, 2500, 5000, 10_000, 30_000, 60_000, 300_000)


#: `pagetally_backend_seconds`' outcome label, from the history row's action: a
#: refunded job printed (its row's action changes, its outcome does not).
OUTCOMES = {
    "allow": "printed",
    "warn": "printed",
    "refund": "printed",
    "deny": "refused",
    "cancel": "cancelled",
    "problem": "failed",
}


def backend_histogram(times: list[BackendTimes]) -> HistogramMetricFamily:
    """`pagetally_backend_seconds{printer,outcome}`: the backend's time on each
    job, from its start on the job to its charge or refusal, as kept in the
    history (jobs it measured); outcome printed, refused, cancelled or failed."""
    family = HistogramMetricFamily(
        "pagetally_backend_seconds",
        "Backend time per job, from the backend's start on it to its charge or refusal, "
        "by printer and outcome",
        labels=["printer", "outcome"],
    )
    merged: dict[tuple[str, str], list[int]] = {}
    for t in times:
        key = (t.printer, OUTCOMES.get(t.action, t.action))
        sums = merged.setdefault(key, [0, 0] + [0] * len(BACKEND_BOUNDS_MS))
        for i, n in enumerate((t.jobs, t.total_ms, *t.at_most)):
            sums[i] += n
    for (printer, outcome), (jobs, total_ms, *at_most) in sorted(merged.items()):
        buckets = [(str(b / 1000), n) for b, n in zip(BACKEND_BOUNDS_MS, at_most, strict=True)]
        family.add_metric([printer, outcome], [*buckets, ("+Inf", jobs)], total_ms / 1000)
    return family


class StoreCollector(Collector):
    """The store's totals, read when Prometheus scrapes."""

    def __init__(self, store: Any) -> None:
        self.store = store

    def collect(self) -> Iterator[Any]:
        up = GaugeMetricFamily("pagetally_store_up", "1 when the store answered this scrape")
        errors = CounterMetricFamily(
            "pagetally_store_errors", "Store errors met while serving the web and API"
        )
        try:
            totals = self.store.job_totals()
            reasons = self.store.refusal_totals()
            times = self.store.backend_times(BACKEND_BOUNDS_MS)
        except NotAvailable:  # the LDAP store: up, without the history's totals
            up.add_metric([], 1)
            errors.add_metric([], _STORE_ERRORS[0])
            yield up
            yield errors
            return
        except PageTallyError:
            count_store_error()
            up.add_metric([], 0)
            errors.add_metric([], _STORE_ERRORS[0])
            yield up
            yield errors
            return
        up.add_metric([], 1)
        jobs = CounterMetricFamily(
            "pagetally_jobs", "Jobs recorded, by printer and action", labels=["printer", "action"]
        )
        pages = CounterMetricFamily(
            "pagetally_pages", "Pages charged, by printer", labels=["printer"]
        )
        color = CounterMetricFamily(
            "pagetally_color_pages", "Colour pages charged, by printer", labels=["printer"]
        )
        money = CounterMetricFamily(
            "pagetally_money", "Money charged, by printer (the site's currency)", labels=["printer"]
        )
        charged: dict[str, list[Any]] = {}
        for t in totals:
            jobs.add_metric([t.printer, t.action], t.jobs)
            if t.action in ("allow", "warn"):
                sums = charged.setdefault(t.printer, [0, 0, 0.0])
                sums[0] += t.pages
                sums[1] += t.color_pages
                sums[2] += float(t.money)
        for printer, (pg, cp, m) in sorted(charged.items()):
            pages.add_metric([printer], pg)
            color.add_metric([printer], cp)
            money.add_metric([printer], m)
        refused = CounterMetricFamily(
            "pagetally_refusals", "Refused jobs, by reason", labels=["reason"]
        )
        for r in reasons:
            refused.add_metric([r.reason or "(none)"], r.jobs)
        errors.add_metric([], _STORE_ERRORS[0])
        yield from (up, jobs, pages, color, money, refused, backend_histogram(times), errors)


def metrics_router(store: Any) -> tuple[APIRouter, CollectorRegistry]:
    """The /metrics route and the registry it serves (one per application)."""
    registry = CollectorRegistry()
    registry.register(StoreCollector(store))
    requests = Counter(
        "pagetally_api_requests",
        "API requests, by method and status",
        ["method", "status"],
        registry=registry,
    )
    seconds = Histogram(
        "pagetally_api_request_seconds",
        "Time to answer an API request",
        registry=registry,
        buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5),
    )
    router = APIRouter()

    @router.get("/metrics", include_in_schema=False)
    def metrics(request: Request) -> Response:
        return Response(generate_latest(registry), media_type=CONTENT_TYPE_LATEST)

    router.state = (requests, seconds)  # type: ignore[attr-defined]
    return router, registry


def observe(router: APIRouter, method: str, status: int, started: float) -> None:
    requests, seconds = router.state  # type: ignore[attr-defined]
    requests.labels(method, str(status)).inc()
    seconds.observe(time.perf_counter() - started)
