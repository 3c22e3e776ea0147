"""The backend's time on a refused job is kept too (`jobhistory.backendms`), on
every way the backend refuses (user or quota unknown, no print, quota, balance,
a missing PIN, a duplicate, a job it cannot read), in-process and through the
accounting service; /metrics' `pagetally_backend_seconds` tells printed jobs
from refused ones by its `outcome` label."""

from __future__ import annotations

import re
from decimal import Decimal
from pathlib import Path

from fastapi.testclient import TestClient
from sqlalchemy import select

from pagetally.core.models import Action, LimitBy, User
from pagetally.core.pins import hash_pin
from pagetally.cups.status import BackendExit
from pagetally.storage.schema import jobhistory
from pagetally.web.app import create_app
from pagetally.web.settings import WebSettings
from tests.cups.test_backend import PDF, Site

CONFIG = "denyduplicates: yes\nprintauth: pin\n"


def _times(site: Site) -> dict[str, tuple[Action, int | None]]:
    """Each history row's (action, backendms), by CUPS job id."""
    with site.store._engine.connect() as conn:  # type: ignore[attr-defined]
        rows = conn.execute(select(jobhistory.c.jobid, jobhistory.c.action, jobhistory.c.backendms))
        return {r.jobid: (Action(r.action), r.backendms) for r in rows}


def _people(site: Site) -> None:
    """Who prints, and what refuses each of them."""
    site.conf.write_text(site.conf.read_text() + CONFIG)
    add = site.store.add_user
    add(User("alice", limit_by=LimitBy.BALANCE, balance=Decimal("5")))  # prints
    add(User("poor", limit_by=LimitBy.BALANCE, balance=Decimal("0")))  # balance
    add(User("capped", limit_by=LimitBy.QUOTA))  # quota
    add(User("banned", limit_by=LimitBy.NOPRINT))  # not allowed to print
    for name in ("alice", "poor", "banned"):
        site.store.set_user_quota(name, "lab")
    site.store.set_user_quota("capped", "lab", soft_limit=0, hard_limit=0)
    for name in ("alice", "poor", "capped", "banned"):
        site.store.set_user_pin_hash(name, hash_pin("4711"))


def _jobs(site: Site) -> dict[str, str]:
    """Print a job of each kind; the reason each refused one was given."""
    pin = "job-password=4711"
    said: dict[str, str] = {}
    cases = [
        ("1", "alice", PDF.read_bytes(), pin),
        ("2", "alice", PDF.read_bytes(), pin),  # the same document again: duplicate
        ("3", "poor", PDF.read_bytes(), pin),
        ("4", "capped", PDF.read_bytes(), pin),
        ("5", "banned", PDF.read_bytes(), pin),
        ("6", "alice", PDF.read_bytes() + b"\n%other\n", ""),  # no PIN
        ("7", "mallory", PDF.read_bytes(), pin),  # unknown: no PIN of theirs
        ("8", "alice", b"\x00\x01garbage that no printer speaks", pin),  # unreadable
    ]
    for job_id, user, data, option in cases:
        code, err = _submit(site, job_id, user, data, option)
        assert code == (0 if job_id == "1" else BackendExit.CANCEL), (job_id, err)
        if job_id != "1":
            said[job_id] = err.split("PageTally refused the job: ", 1)[1].split("\n", 1)[0]
    return said


def _submit(site: Site, job_id: str, user: str, data: bytes, option: str) -> tuple[int, str]:
    import io
    from datetime import UTC, datetime

    from pagetally.cups.backend import BackendEnv, run

    argv = ["pagetally", job_id, user, "t", "1", f"job-uuid=urn:uuid:{job_id} {option}".strip()]
    err = io.StringIO()
    env = BackendEnv(
        argv,
        site.environ,
        io.BytesIO(data),
        err,
        now=lambda: datetime(2026, 11, 24, 12, tzinfo=UTC),
        config_path=str(site.conf),
    )
    return run(env), err.getvalue()


def _check(site: Site, said: dict[str, str]) -> None:
    times = _times(site)
    assert set(times) == {str(n) for n in range(1, 9)}
    assert times["1"][0] is Action.ALLOW and times["1"][1] is not None
    for job_id in said:
        action, ms = times[job_id]
        assert action is Action.DENY, (job_id, said[job_id])
        assert ms is not None and 0 <= ms < 120_000, (job_id, said[job_id], ms)
    # every way of refusing was taken (the reasons as the person read them)
    kinds = ["duplicate", "balance", "quota", "not allowed", "PIN missing", "wrong PIN", "count"]
    for kind, job_id in zip(kinds, "2345678", strict=True):
        assert kind.lower() in said[job_id].lower(), (job_id, said[job_id])


def _metrics(site: Site) -> str:
    app = create_app(WebSettings(secret="s", currency="EUR"), site.store)
    return TestClient(app).get("/metrics").text


def test_a_refused_job_keeps_the_backends_time_and_shows_in_metrics(tmp_path: Path) -> None:
    site = Site(tmp_path)
    _people(site)
    _check(site, _jobs(site))
    text = _metrics(site)
    assert 'pagetally_backend_seconds_count{outcome="refused",printer="lab"} 7.0' in text
    assert 'pagetally_backend_seconds_count{outcome="printed",printer="lab"} 1.0' in text
    found = re.search(
        r'pagetally_backend_seconds_sum\{outcome="refused",printer="lab"\} ([0-9.]+)', text
    )
    assert found is not None and 0 <= float(found.group(1)) < 7 * 120


def test_through_the_accounting_service_too(tmp_path: Path) -> None:
    """The backend's store calls through `pagetally serve`'s store service (its
    own path to the database broken): the refusals' times travel with them."""
    site = Site(tmp_path)
    _people(site)
    with site.served():
        said = _jobs(site)
    _check(site, said)
