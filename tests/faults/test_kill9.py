"""kill -9 at random points of a job, through a real cupsd: the thin backend,
the job runner's child, the real backend (CUPS' socket backend) or the job
runner, killed before printing, while the printer receives the job, or once it
has all of it. Seeded (the store's name and the run's number), a bounded number
of runs ($PAGETALLY_KILL_RUNS per store, default 10). After each: the printer's
whole copies equal the charges, none twice, the balance exact, the job ended,
no attempt record or real backend left."""

from __future__ import annotations

import os
import random
import time

import pytest

from tests.faults.site import Proc, Site, job_pdf, processes, use_service
from tests.faults.test_faults import check, kill

pytestmark = [pytest.mark.slow, pytest.mark.cups]

RUNS = int(os.environ.get("PAGETALLY_KILL_RUNS", "10"))
# "backend, no runner": the thin backend runs the job itself (no service)
TARGETS = ("thin backend", "runner's child", "real backend", "job runner", "backend, no runner")
POINTS = ("before printing", "while the printer receives", "once the printer has it all")


def target_of(site: Site, job: int, target: str) -> Proc | None:
    if target in ("thin backend", "backend, no runner"):
        found = site.thin_backends(job)
        return found[0] if found else None
    real = site.real_backends(job)
    if target == "real backend":
        return real[0] if real else None
    if target == "runner's child":
        if not real:
            return None
        everyone = {p.pid: p for p in processes()}
        keeper = everyone.get(real[0].ppid)
        return everyone.get(keeper.ppid) if keeper else None
    pid = site.runner_pid()
    return None if pid is None else Proc(pid, 0, [])


@pytest.mark.parametrize("run", range(RUNS))
def test_kill9_at_a_random_point(site: Site, run: int) -> None:
    rng = random.Random(f"{site.settings.backend}-{run}")
    target = TARGETS[run % len(TARGETS)]
    point = rng.choice(POINTS)
    if site.serve is None or site.serve.poll() is not None or site.runner_pid() is None:
        site.stop_service()
        site.start_service()
    use_service(site, target != "backend, no runner")
    with site.store() as store:
        user = site.new_user(store)
    data = job_pdf(f"kill{run}-{user}", size=rng.choice((100_000, 400_000, 3_000_000)))
    job = site.submit(user, data)
    if point == "before printing":
        time.sleep(rng.uniform(0.0, 0.4))
    else:
        conn = site.printer.wait_connection(data)
        assert conn is not None, site.job_log(job)[-3000:]
        if point == "while the printer receives":
            time.sleep(rng.uniform(0.0, 0.3))
        else:
            deadline = time.monotonic() + 30
            while len(conn.data) < len(data) and time.monotonic() < deadline:
                time.sleep(0.002)
    victim = None
    deadline = time.monotonic() + 10
    while (
        victim is None
        and time.monotonic() < deadline
        and site.state(job) not in ("completed", "aborted", "canceled")
    ):
        victim = target_of(site, job, target)
        if victim is None:
            time.sleep(0.01)
    fault = f"kill -9 {target}, {point}"
    if victim is None:
        fault += " (ended before the kill)"
    else:
        kill(victim.pid)
    # a backend killed before anything printed may end the job unprinted (cupsd
    # counts some backends killed by a signal as done): then nothing is charged
    check(site, fault, user, data, job, printed_copies=None)
