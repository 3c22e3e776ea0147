"""Printed means charged, in-process (fast): the backend with a real SQLite store
and a real executable as the device's backend (tests/cups/test_backend.py's
Site), the journal on a real full file system, a store file moved away, a
stale job runner ended. The end-to-end suite through cupsd is test_faults.py
and test_kill9.py."""

from __future__ import annotations

import contextlib
import io
import logging
import os
import shutil
import socket
import stat
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path

import pytest

from pagetally.core.models import Action, ChargeRequest, Decision, JobFacts, LimitBy, User
from pagetally.cups.status import BackendExit
from pagetally.errors import StoreUnavailable
from pagetally.service.jobs import take_over
from pagetally.storage import StoreSettings, open_store
from pagetally.storage.base import HistoryFilter
from pagetally.storage.journal import Journal
from tests.cups.test_backend import DEVICE, PDF, Site

NOW = datetime(2026, 11, 24, 12, tzinfo=UTC)


def device_exits(site: Site, code: int) -> None:
    dev = site.tmp / "serverbin" / "backend" / "socket"
    dev.write_text(DEVICE.format(out=site.tmp, code=code))
    dev.chmod(stat.S_IRWXU)


@pytest.fixture
def site(tmp_path: Path) -> Site:
    site = Site(tmp_path)
    site.store.add_user(User("alice", limit_by=LimitBy.BALANCE, balance=Decimal("1.00")))
    site.store.set_user_quota("alice", "lab")
    return site


def rows(site: Site) -> list[tuple[Action, Decimal]]:
    return [(j.action, j.price) for j in site.store.history(HistoryFilter(user="alice"))]


def test_a_failed_attempt_does_not_block_the_retry_that_prints(site: Site) -> None:
    """The real backend fails (onbackenderror: nocharge): recorded, not charged;
    CUPS' retry prints the whole job and is charged; a further retry neither
    prints nor charges."""
    device_exits(site, 1)
    code, _err = site.job("7", "alice", PDF.read_bytes())
    assert code == 1 and rows(site) == [(Action.PROBLEM, Decimal("0"))]
    device_exits(site, 0)
    (site.tmp / "printed-7").unlink()
    code, err = site.job("7", "alice", PDF.read_bytes())
    assert code == 0, err
    assert (site.tmp / "printed-7").read_bytes() == PDF.read_bytes()
    charged = [price for action, price in rows(site) if action in (Action.ALLOW, Action.WARN)]
    assert charged == [Decimal("0.10")] and len(rows(site)) == 2
    (site.tmp / "printed-7").unlink()
    code, err = site.job("7", "alice", PDF.read_bytes())
    assert code == 0 and "not printed again" in err
    assert not (site.tmp / "printed-7").exists()
    user = site.store.get_user("alice")
    assert user is not None and user.balance == Decimal("0.90")


def test_a_job_whose_record_cannot_be_written_is_held_not_printed(site: Site) -> None:
    (site.tmp / "spool").mkdir()
    (site.tmp / "spool" / "journal").write_text("not a folder")  # the record cannot go there
    code, err = site.job("8", "alice", PDF.read_bytes())
    assert code == BackendExit.HOLD
    assert "cannot write the job's record" in err and "job held" in err
    assert not (site.tmp / "printed-8").exists()
    assert rows(site) == []


def test_stop_instead_of_hold_by_policy(site: Site) -> None:
    (site.tmp / "spool").mkdir()
    (site.tmp / "spool" / "journal").write_text("not a folder")
    with site.conf.open("a") as conf:
        conf.write("\n[lab]\nonjournalerror: stop\n")
    code, err = site.job("9", "alice", PDF.read_bytes())
    assert code == BackendExit.STOP and "queue stopped" in err


def test_a_printed_attempt_killed_before_its_charge_is_charged_by_the_retry(site: Site) -> None:
    """An attempt killed after the printer had the job left `<key>.printed`: the
    retry charges it and does not print again (here the record is the one an
    earlier run of this very job leaves, made `printed` as its keeper does)."""
    from pagetally.cups.attempt import Attempt

    facts = JobFacts(
        user="alice", printer="lab", pages=1, job_id="10", host="pc7", job_uuid="urn:uuid:10"
    )
    attempt = Attempt.under(site.tmp / "spool", facts)
    attempt.acquire(lambda _m: None)
    attempt.begin(
        ChargeRequest(
            facts=facts, date=NOW, decision=Decision(Action.ALLOW, pages=1, price=Decimal("0.10"))
        )
    )
    attempt.printed()
    os.close(attempt.lock_fd or 0)  # killed: the lock goes, the record stays
    code, err = site.job("10", "alice", PDF.read_bytes())
    assert code == 0 and "charged now, not printed again" in err
    assert not (site.tmp / "printed-10").exists()
    assert rows(site) == [(Action.ALLOW, Decimal("0.10"))]
    assert not list((site.tmp / "spool" / "journal" / "attempts").glob("*.print*"))


def test_no_traceback_reaches_cupsd_whatever_the_logger(
    site: Site, monkeypatch: pytest.MonkeyPatch
) -> None:
    """An unexpected error (injected: nothing here fails on its own) with a root
    handler writing to the job's stderr, as `logger: stderr` set-ups have: one
    line reaches cupsd, no traceback."""
    import pagetally.cups.backend as backend

    def broken(*_args: object, **_kwargs: object) -> None:
        raise RuntimeError("injected failure")

    monkeypatch.setattr(backend, "count_job", broken)
    err = io.StringIO()
    handler = logging.StreamHandler(err)
    logging.getLogger().addHandler(handler)
    try:
        env = backend.BackendEnv(
            ["pagetally", "11", "alice", "t", "1", ""],
            site.environ,
            io.BytesIO(PDF.read_bytes()),
            err,
            now=lambda: NOW,
            config_path=str(site.conf),
        )
        assert backend.run(env) == BackendExit.FAILED
    finally:
        logging.getLogger().removeHandler(handler)
    assert err.getvalue().splitlines() == [
        "ERROR: PageTally internal error (RuntimeError); details in the system log"
    ]


@contextlib.contextmanager
def full_tmpfs() -> Iterator[Path]:
    if os.geteuid() != 0:
        pytest.skip("mounting a small file system needs root")
    folder = Path(tempfile.mkdtemp(prefix="pt-full-"))
    subprocess.run(
        ["mount", "-t", "tmpfs", "-o", "size=16k,mode=0755", "tmpfs", str(folder)], check=True
    )
    try:
        with contextlib.suppress(OSError), open(folder / "filler", "wb") as fh:
            while True:
                fh.write(b"\0" * 4096)
                fh.flush()
        yield folder
    finally:
        subprocess.run(["umount", "-l", str(folder)], check=False)
        shutil.rmtree(folder, ignore_errors=True)


def test_journal_on_a_full_disk_leaves_no_partial_file() -> None:
    with full_tmpfs() as folder:
        journal = Journal(folder / "journal")
        facts = JobFacts(user="alice", printer="lab", pages=1, job_id="1")
        with pytest.raises(OSError, match="No space left"):
            journal.write(
                ChargeRequest(
                    facts=facts,
                    date=NOW,
                    decision=Decision(Action.ALLOW, pages=1, price=Decimal("0.10")),
                )
            )
        assert list(journal.directory.iterdir()) == []


@pytest.mark.parametrize("how", ["moved", "deleted"])
def test_a_sqlite_file_that_disappears_is_noticed(tmp_path: Path, how: str) -> None:
    db = tmp_path / "pagetally.db"
    store = open_store(StoreSettings(backend="sqlite", name=str(db)))
    store.add_user(User("alice"))
    if how == "moved":
        db.rename(tmp_path / "elsewhere.db")
    else:
        db.unlink()
    with pytest.raises(StoreUnavailable, match="moved or deleted"):
        store.get_user("alice")
    assert not db.exists()  # not created again, empty, behind the administrator's back


@pytest.mark.slow
def test_a_stale_runner_is_ended(tmp_path: Path) -> None:
    folder = Path(tempfile.mkdtemp(prefix="pts-"))
    path = str(folder / "jobs.sock")
    stale = subprocess.Popen(
        [sys.executable, "-m", "pagetally.service.jobs", path],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        deadline = time.monotonic() + 30
        while not os.path.exists(path) and time.monotonic() < deadline:
            time.sleep(0.05)
        assert take_over(path) == stale.pid
        assert stale.wait(15) is not None
        probe = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        with pytest.raises(OSError):
            probe.connect(path)
        probe.close()
    finally:
        if stale.poll() is None:
            stale.kill()
        shutil.rmtree(folder, ignore_errors=True)


def test_the_settle_command_charges_what_a_killed_attempt_printed(site: Site) -> None:
    """What a keeper runs when it outlived the accounting process."""
    from pagetally.cups.attempt import Attempt

    facts = JobFacts(
        user="alice", printer="lab", pages=1, job_id="12", host="pc7", job_uuid="urn:uuid:12"
    )
    attempt = Attempt.under(site.tmp / "spool", facts)
    attempt.acquire(lambda _m: None)
    attempt.begin(
        ChargeRequest(
            facts=facts, date=NOW, decision=Decision(Action.ALLOW, pages=1, price=Decimal("0.10"))
        )
    )
    attempt.printed()
    os.close(attempt.lock_fd or 0)
    done = subprocess.run(
        [sys.executable, "-m", "pagetally.cups.settle", str(site.conf)],
        capture_output=True,
        text=True,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    assert rows(site) == [(Action.ALLOW, Decimal("0.10"))]
    assert not list((site.tmp / "spool" / "journal").rglob("*.print*"))
    assert not list((site.tmp / "spool" / "journal").glob("*.json"))


def test_a_job_that_cannot_be_spooled_is_held(site: Site) -> None:
    """A full TMPDIR (a filtered queue's job comes on standard input and is
    spooled first): held with the reason, nothing printed."""
    with full_tmpfs() as folder:
        site.environ = {**site.environ, "TMPDIR": str(folder)}
        code, err = site.job("13", "alice", PDF.read_bytes())
    assert code == BackendExit.HOLD
    assert "cannot spool the job" in err and "No space left on device" in err
    assert not (site.tmp / "printed-13").exists() and rows(site) == []
