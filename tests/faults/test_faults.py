"""Printed means charged (docs/architecture.md), through a real cupsd: each fault
of issue 16, on SQLite and PostgreSQL. For every job: the copies the printer
received whole equal the charges in the store, none is charged twice, the
balance is exact, and the job ends (completed, or held where it must not
print) with no attempt record left behind."""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from pagetally.core.models import Action
from pagetally.storage.base import HistoryFilter
from tests.faults.conftest import record
from tests.faults.site import BALANCE, PAGES, PRICE, Site, alive, job_pdf, use_service

pytestmark = [pytest.mark.slow, pytest.mark.cups]


def check(
    site: Site,
    fault: str,
    user: str,
    data: bytes,
    job: int,
    *,
    state: str = "completed",
    printed_copies: int | None = 1,
) -> None:
    """`printed_copies` None: 0 or 1 (cupsd completes, unprinted, a job whose
    backend was killed before it printed: then nothing is charged either)."""
    final = site.wait_final(job)
    printed, charged = site.settled(user, data)
    balance = site.balance(user)
    exact = BALANCE - PRICE * PAGES * charged
    if printed_copies is None:
        printed_copies = min(printed, 1)
    ok = (
        final == state
        and printed == charged == printed_copies
        and balance == exact
        and not site.records()
    )
    record(site, fault, printed, charged, ok)
    log = "\n".join(
        x
        for x in site.job_log(job).splitlines()
        if "PageTally" in x or "exited" in x or "signal" in x or "Job " in x
    )
    assert final == state, f"{log[-4000:]}\nprinter: {site.printer.story(data)}"
    story = f"{log[-4000:]}\nprinter: {site.printer.story(data)} of {len(data)} bytes"
    assert (printed, charged) == (printed_copies, printed_copies), story
    assert balance == exact
    assert not site.records()
    assert "Traceback" not in site.cupsd.error_log()


def wait_for(predicate: object, timeout: float = 30) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():  # type: ignore[operator]
            return
        time.sleep(0.01)
    raise AssertionError("timed out")


def kill(pid: int) -> None:
    with contextlib.suppress(ProcessLookupError):
        os.kill(pid, signal.SIGKILL)


def test_printer_resets_the_first_attempt(site: Site) -> None:
    """The printer drops the connection mid-job: that attempt is recorded as a
    problem and charges nothing, and does not block the retry's charge."""
    use_service(site, True)
    with site.store() as store:
        user = site.new_user(store)
    # larger than the sockets' buffers (about 4 MB here): the backend is still
    # sending when the printer resets, so it sees the reset (a reset after
    # everything was buffered goes unseen by CUPS' socket backend, and by us)
    data = job_pdf(f"reset-{user}", size=6_000_000)
    site.printer.reset_next(40_000)
    job = site.submit(user, data)
    check(site, "printer resets the connection mid-job", user, data, job)
    with site.store() as store:
        rows = list(store.history(HistoryFilter(user=user)))
    assert [r.action for r in rows].count(Action.PROBLEM) >= 1


@pytest.mark.parametrize("service", [True, False], ids=["runner", "no-runner"])
def test_thin_backend_killed_after_the_printer_had_the_job(site: Site, service: bool) -> None:
    """kill -9 of the backend cupsd started, once the printer has the whole job:
    the job is settled by the process that survives (the runner's child, or the
    real backend's keeper), and CUPS' retry neither prints nor charges again."""
    use_service(site, service)
    with site.store() as store:
        user = site.new_user(store)
    data = job_pdf(f"thin-{user}")
    job = site.submit(user, data)
    conn = site.printer.wait_connection(data)
    assert conn is not None
    wait_for(lambda: len(conn.data) >= len(data) // 2)
    for p in site.thin_backends(job):
        kill(p.pid)
    check(
        site,
        f"thin backend killed mid-job ({'runner' if service else 'no runner'})",
        user,
        data,
        job,
    )


def test_runners_child_killed_mid_job(site: Site) -> None:
    """kill -9 of the runner's child running the job: its real backend is not an
    orphan printing unaccounted — its keeper settles it, the retry charges it."""
    use_service(site, True)
    with site.store() as store:
        user = site.new_user(store)
    data = job_pdf(f"child-{user}")
    job = site.submit(user, data)
    wait_for(lambda: site.real_backends(job))
    real = site.real_backends(job)[0]
    keeper = next(p for p in _all() if p.pid == real.ppid)
    kill(keeper.ppid)  # the runner's child: the keeper's parent
    check(site, "runner's child killed mid-job", user, data, job)


def test_real_backend_killed_mid_job(site: Site) -> None:
    use_service(site, True)
    with site.store() as store:
        user = site.new_user(store)
    data = job_pdf(f"real-{user}", size=3_000_000)  # more than the sockets buffer
    job = site.submit(user, data)
    assert site.printer.wait_connection(data) is not None
    for p in site.real_backends(job):
        kill(p.pid)
    check(site, "real backend killed mid-job", user, data, job)


def test_runner_killed_mid_job(site: Site) -> None:
    """kill -9 of the job runner: the job's child goes on and settles its job;
    the thin backends after it run their jobs themselves until the service is
    restarted, which finds the dead runner's socket stale and reclaims it."""
    use_service(site, True)
    with site.store() as store:
        user = site.new_user(store)
    data = job_pdf(f"runner-{user}")
    job = site.submit(user, data)
    assert site.printer.wait_connection(data) is not None
    runner = site.runner_pid()
    assert runner is not None
    kill(runner)
    check(site, "job runner killed mid-job", user, data, job)
    site.stop_service()
    site.start_service()
    assert site.runner_pid() not in (None, runner)


def test_service_killed_then_restarted_takes_over(site: Site) -> None:
    """kill -9 of `pagetally serve` mid-job: its runner ends with it (jobs at work
    finish and are charged), and a restarted service listens with a new runner."""
    use_service(site, True)
    with site.store() as store:
        user = site.new_user(store)
    data = job_pdf(f"serve-{user}")
    old_runner = site.runner_pid()
    job = site.submit(user, data)
    assert site.printer.wait_connection(data) is not None
    assert site.serve is not None
    kill(site.serve.pid)
    site.serve.wait()
    assert old_runner is not None
    wait_for(lambda: not alive(old_runner), timeout=15)
    assert site.wait_final(job) == "completed"
    # the charge, made while the service was gone, waits in the journal for the
    # next job or `pagetally journal replay`
    site.start_service()
    assert site.runner_pid() not in (None, old_runner)
    replay(site)
    check(site, "service killed mid-job", user, data, job)


def test_stale_runner_is_ended_by_a_new_service(site: Site) -> None:
    """A runner left listening by an earlier service (one without this version's
    tie between them): the new service ends it and serves with its own."""
    site.stop_service()
    sock = site.socket.replace("pagetally.sock", "pagetally-jobs.sock")
    stale = subprocess.Popen(
        [sys.executable, "-m", "pagetally.service.jobs", sock],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        wait_for(lambda: site.runner_pid() == stale.pid)
        site.start_service()
        stale.wait(20)
        assert site.runner_pid() not in (None, stale.pid)
    finally:
        if stale.poll() is None:
            stale.kill()
            stale.wait()
    use_service(site, True)
    with site.store() as store:
        user = site.new_user(store)
    data = job_pdf(f"stale-{user}")
    check(site, "stale runner taken over", user, data, site.submit(user, data))


@contextlib.contextmanager
def full_disk(folder: Path) -> Iterator[Path]:
    """A 64 KiB tmpfs mounted on `folder` and filled: a real full disk."""
    folder.mkdir(parents=True, exist_ok=True)
    subprocess.run(
        ["mount", "-t", "tmpfs", "-o", "size=64k,mode=0700", "tmpfs", str(folder)], check=True
    )
    try:
        filler = folder / "filler"
        with contextlib.suppress(OSError), open(filler, "wb") as fh:
            while True:
                fh.write(b"\0" * 4096)
                fh.flush()
        yield filler
    finally:
        subprocess.run(["umount", "-l", str(folder)], check=False)


def test_journal_disk_full_holds_the_job(site: Site) -> None:
    """ENOSPC where the job's record and the journal live: the job is held with
    the reason, nothing printed, no partial file left; once there is room and
    the job is released, it prints once and is charged once."""
    use_service(site, True)
    with site.store() as store:
        user = site.new_user(store)
    data = job_pdf(f"full-{user}")
    journal = site.base / "spool" / "journal"
    with full_disk(journal) as filler:
        job = site.submit(user, data)
        assert site.wait_final(job) == "pending-held"
        assert site.printer.copies(data) == 0 and site.printer.partial(data) == 0
        assert not list(journal.rglob("*.tmp"))
        status = site.cupsd.error_log()
        assert "No space left on device" in status and "job held" in status
        filler.unlink()
        site.cupsd.run("lp", "-i", f"{site.queue}-{job}", "-H", "resume")
        check(site, "journal disk full (store up)", user, data, job)


def test_store_down_and_journal_disk_full(site: Site) -> None:
    """The store unreachable (`onstoreerror: allow`) and the journal's disk full:
    held, never printed uncharged; with room again it prints, its charge goes
    to the journal and is replayed once the store is back."""
    site.stop_service()
    use_service(site, False)
    with site.store() as store:
        user = site.new_user(store)
    data = job_pdf(f"down-{user}")
    conf = site.config.read_text()
    broken = (
        conf.replace(f"storagename: {site.settings.name}", "storagename: /nonexistent/pagetally.db")
        if site.settings.backend == "sqlite"
        else conf.replace(f"storageserver: {site.settings.server}", "storageserver: 127.0.0.1:9")
    )
    site.config.write_text(broken + "\n[faulty]\nonstoreerror: allow\n")
    journal = site.base / "spool" / "journal"
    try:
        with full_disk(journal) as filler:
            job = site.submit(user, data)
            assert site.wait_final(job) == "pending-held"
            assert site.printer.copies(data) == 0
            assert not list(journal.rglob("*.tmp"))
            filler.unlink()
            site.cupsd.run("lp", "-i", f"{site.queue}-{job}", "-H", "resume")
            assert site.wait_final(job) == "completed"
            wait_for(lambda: not site.records())
            entries = list(journal.glob("*.json"))
            assert len(entries) == 1
            # the journal moves off the small disk with its entry
            kept = site.base / "kept"
            kept.mkdir(exist_ok=True)
            for entry in entries:
                shutil.copy2(entry, kept / entry.name)
        for entry in kept.iterdir():
            shutil.move(entry, journal / entry.name)
    finally:
        site.config.write_text(conf)
    replay(site)
    use_service(site, True)
    site.start_service()
    check(site, "store down + journal disk full", user, data, job)


@pytest.mark.parametrize("how", ["moved", "deleted"])
def test_store_file_that_disappears_is_noticed(site: Site, how: str) -> None:
    """A running service whose SQLite file is moved or deleted must not go on
    charging into it: the job is refused (onstoreerror: deny), nothing prints."""
    if site.settings.backend != "sqlite":
        pytest.skip("a SQLite file")
    use_service(site, True)
    with site.store() as store:
        user = site.new_user(store)
    db = Path(site.settings.name)
    aside = db.with_name("moved-away.db")
    for suffix in ("", "-wal", "-shm"):
        with contextlib.suppress(FileNotFoundError):
            shutil.copy2(str(db) + suffix, str(aside) + suffix)
            if how == "moved":
                os.rename(str(db) + suffix, str(aside) + suffix + ".gone")
            else:
                os.unlink(str(db) + suffix)
    data = job_pdf(f"gone-{user}")
    try:
        job = site.submit(user, data)
        assert site.wait_final(job) == "canceled"
        assert site.printer.copies(data) == 0
        assert "store is unreachable" in site.job_log(job), site.job_log(job)[-3000:]
    finally:
        for suffix in ("", "-wal", "-shm"):
            with contextlib.suppress(FileNotFoundError):
                os.rename(str(aside) + suffix, str(db) + suffix)
            with contextlib.suppress(FileNotFoundError):
                os.unlink(str(aside) + suffix + ".gone")
    record(site, f"store file {how} under the service", 0, 0, True)
    data2 = job_pdf(f"back-{user}")
    check(site, f"store file {how}, then back", user, data2, site.submit(user, data2))


def replay(site: Site) -> None:
    """`pagetally journal replay`, as an administrator (or the next job) does."""
    subprocess.run(
        [
            str(Path(sys.executable).parent / "pagetally"),
            "--config",
            str(site.config),
            "journal",
            "replay",
        ],
        check=True,
        capture_output=True,
    )


def _all() -> list:  # type: ignore[type-arg]
    from tests.faults.site import processes

    return processes()
