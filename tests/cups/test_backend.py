"""The backend wrapper in-process: a real SQLite store, real job files, and a real
executable standing in for the device's backend (a script in a temporary
CUPS_SERVERBIN that records what it was sent). Through cupsd: test_cupsd.py."""

import contextlib
import io
import stat
from collections.abc import Iterator
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path

import pytest

from pagetally.core.models import Action, LimitBy, PriceTable, Printer, User
from pagetally.cups.backend import DISCOVERY_LINE, BackendEnv, run
from pagetally.storage import StoreSettings, open_store
from tests.polling import wait_until
from tests.sqlite_store import migrated_sqlite

PDF = Path("/usr/share/cups/data/default-testpage.pdf")  # 1 page (cups-filters)

DEVICE = """#!/bin/sh
cat > "{out}/printed-$1"
echo "INFO: device got job $1" >&2
exit {code}
"""


class Site:
    def __init__(self, tmp: Path, device_exit: int = 0) -> None:
        self.tmp = tmp
        self.db = tmp / "pagetally.db"
        self.conf = tmp / "pagetally.conf"
        self.conf.write_text(
            f"[global]\nstoragebackend: sqlite\nstoragename: {self.db}\n"
            f"directory: {tmp / 'spool'}\n"
        )
        serverbin = tmp / "serverbin"
        (serverbin / "backend").mkdir(parents=True)
        dev = serverbin / "backend" / "socket"
        dev.write_text(DEVICE.format(out=tmp, code=device_exit))
        dev.chmod(stat.S_IRWXU)
        self.environ = {
            "DEVICE_URI": "pagetally:socket://127.0.0.1:9100",
            "PRINTER": "lab",
            "CUPS_SERVERBIN": str(serverbin),
            "TMPDIR": str(tmp),
            "PATH": "/usr/bin:/bin",
        }
        self.store = open_store(StoreSettings(backend="sqlite", name=str(migrated_sqlite(self.db))))
        self.store.add_printer(Printer("lab", prices=PriceTable(per_page=Decimal("0.10"))))
        self.title = "report; $(reboot)"

    def job(
        self,
        job_id: str,
        user: str,
        data: bytes | None = None,
        *,
        copies: int = 1,
        file: Path | None = None,
        uuid: str | None = None,
        now: datetime = datetime(2026, 11, 24, 12, tzinfo=UTC),
    ) -> tuple[int, str]:
        argv = [
            "pagetally",
            job_id,
            user,
            self.title,
            str(copies),
            f"job-uuid=urn:uuid:{uuid or job_id} job-originating-host-name=pc7",
        ]
        if file:
            argv.append(str(file))
        err = io.StringIO()
        env = BackendEnv(
            argv,
            self.environ,
            io.BytesIO(data or b""),
            err,
            now=lambda: now,
            config_path=str(self.conf),
        )
        return run(env), err.getvalue()

    @contextlib.contextmanager
    def served(self) -> Iterator[None]:
        """The store held by an accounting service (as `pagetally serve` does), and
        the backend's own path to the database broken: every store call it makes
        goes through the service."""
        from pagetally.service.server import AccountingService

        socket_path = str(self.tmp / "svc.sock")
        service = AccountingService(self.store, socket_path)
        service.start()
        try:
            self.conf.write_text(
                self.conf.read_text().replace(
                    f"storagename: {self.db}", "storagename: /nonexistent/x.db"
                )
                + f"accountingservice: {socket_path}\n"
            )
            yield
        finally:
            service.stop()


@pytest.fixture
def site(tmp_path: Path) -> Site:
    return Site(tmp_path)


def test_discovery_line(capsys: pytest.CaptureFixture[str]) -> None:
    code = run(BackendEnv(["pagetally"], {}, io.BytesIO(), io.StringIO()))
    assert code == 0
    assert capsys.readouterr().out.strip() == DISCOVERY_LINE


def test_allowed_job_prints_and_is_charged(site: Site) -> None:
    site.store.add_user(User("alice", limit_by=LimitBy.BALANCE, balance=Decimal("5.00")))
    site.store.set_user_quota("alice", "lab")
    code, err = site.job("1", "alice", PDF.read_bytes())
    assert code == 0, err
    assert (site.tmp / "printed-1").read_bytes() == PDF.read_bytes()
    assert "PAGE: total 1" in err and "INFO: device got job 1" in err
    # what `lpstat -l` keeps on the job (WARNING), cleared from the printer's
    # state at once (the empty INFO line; docs/backend.md, "What the person sees")
    assert "WARNING: PageTally: printed 1 page(s), 0.10 EUR\nINFO: \n" in err
    assert site.store.get_user("alice").balance == Decimal("4.90")
    assert site.store.get_user_quota("alice", "lab").page_counter == 1
    [row] = list(site.store.history())
    assert (row.action, row.pages, row.price, row.host) == (Action.ALLOW, 1, Decimal("0.1"), "pc7")
    assert row.title == "report; $(reboot)"


def test_raw_queue_counts_argv_copies(site: Site) -> None:
    site.store.add_user(User("alice", limit_by=LimitBy.BALANCE, balance=Decimal("1.00")))
    site.store.set_user_quota("alice", "lab")
    code, err = site.job("2", "alice", copies=3, file=PDF)
    assert code == 0, err
    assert site.store.get_user("alice").balance == Decimal("0.70")


def test_refused_job_is_cancelled_with_its_reason(site: Site) -> None:
    site.store.add_user(User("bob", limit_by=LimitBy.NOPRINT))
    site.store.set_user_quota("bob", "lab")
    code, err = site.job("3", "bob", PDF.read_bytes())
    assert code == 5  # CUPS_BACKEND_CANCEL: the job is cancelled, the queue goes on
    assert "WARNING: PageTally refused the job:" in err
    assert not (site.tmp / "printed-3").exists()
    [row] = list(site.store.history())
    # the row keeps the job's size; nothing is charged or counted
    assert (row.action, row.pages, row.price) == (Action.DENY, 1, Decimal("0"))
    assert row.reason == "User bob is not allowed to print (limited by noprint)"
    assert (
        "WARNING: PageTally refused the job: User bob is not allowed to print "
        "(limited by noprint)\nINFO: \n"
    ) in err
    # nothing that cupsd would leave on the printer's state for everyone to read
    assert "ERROR:" not in err and "INFO: PageTally refused" not in err
    assert site.store.get_user_quota("bob", "lab").page_counter == 0


def test_unknown_user_is_refused_by_default_policy(site: Site) -> None:
    code, err = site.job("4", "mallory", PDF.read_bytes())
    assert code == 5 and "mallory" in err and "unknown" in err


def test_retried_job_is_charged_once(site: Site) -> None:
    site.store.add_user(User("alice", limit_by=LimitBy.BALANCE, balance=Decimal("1.00")))
    site.store.set_user_quota("alice", "lab")
    assert site.job("5", "alice", PDF.read_bytes())[0] == 0
    (site.tmp / "printed-5").unlink()
    code, err = site.job("5", "alice", PDF.read_bytes())
    # printed means charged: the retry of a charged job is neither charged nor printed
    assert code == 0 and "was printed and charged on" in err and "not printed again" in err
    assert not (site.tmp / "printed-5").exists()
    assert site.store.get_user("alice").balance == Decimal("0.90")


def test_corrupt_job_is_refused_not_crashed(site: Site) -> None:
    site.store.add_user(User("alice"))
    site.store.set_user_quota("alice", "lab")
    code, err = site.job("6", "alice", b"\x00\x01garbage that no printer speaks")
    assert code == 5
    assert "cannot count this job's pages" in err
    assert "Traceback" not in err


def test_failed_device_is_not_charged(tmp_path: Path) -> None:
    site = Site(tmp_path, device_exit=1)
    site.store.add_user(User("alice", limit_by=LimitBy.BALANCE, balance=Decimal("1.00")))
    site.store.set_user_quota("alice", "lab")
    code, _err = site.job("7", "alice", PDF.read_bytes())
    assert code == 1
    assert site.store.get_user("alice").balance == Decimal("1.00")
    [row] = list(site.store.history())
    assert row.action == Action.PROBLEM


def test_broken_config_stops_the_queue_with_one_line(site: Site) -> None:
    site.conf.write_text("[global]\nstoragebackend: nosuchdb\n")
    code, err = site.job("8", "alice", PDF.read_bytes())
    assert code == 4  # CUPS_BACKEND_STOP: the job is kept, the admin fixes the file
    assert err.startswith("ERROR: PageTally configuration error:") and err.count("\n") == 1


def test_store_down_fails_closed_by_default(site: Site) -> None:
    site.conf.write_text(site.conf.read_text().replace(str(site.db), "/nonexistent/x/p.db"))
    code, err = site.job("9", "alice", PDF.read_bytes())
    assert code == 5
    assert "store is unreachable" in err
    assert not (site.tmp / "printed-9").exists()


def test_store_down_allowed_then_journal_replayed_once(site: Site) -> None:
    site.store.add_user(User("alice", limit_by=LimitBy.BALANCE, balance=Decimal("5.00")))
    site.store.set_user_quota("alice", "lab")
    good = site.conf.read_text()
    site.conf.write_text(
        good.replace(str(site.db), "/nonexistent/x/p.db") + "onstoreerror: allow\n"
    )
    code, err = site.job("10", "alice", PDF.read_bytes())
    assert code == 0, err
    assert (site.tmp / "printed-10").exists()
    assert "local journal" in err
    assert site.store.get_user("alice").balance == Decimal("5.00")  # not yet

    site.conf.write_text(good)  # the store is back: the next job replays the journal
    code, err = site.job("11", "alice", PDF.read_bytes())
    assert code == 0, err
    assert site.store.get_user("alice").balance == Decimal("4.80")
    assert sorted(j.job_id for j in site.store.history()) == ["10", "11"]
    code, _ = site.job("12", "alice", PDF.read_bytes())
    assert len(list(site.store.history())) == 3  # replayed once only


SLOW_DEVICE = """#!/bin/sh
trap 'kill $! 2>/dev/null; echo "INFO: device cancelled" >&2; exit 0' TERM
: > "{out}/device-started"
echo "INFO: device printing" >&2
sleep 30 &
wait
"""


def test_job_cancelled_while_printing_is_recorded_not_charged(site: Site) -> None:
    """cupsd cancels a job by sending SIGTERM to its backend: PageTally passes it
    on to the real backend and records the job as cancelled (software mode:
    nothing charged, by onbackenderror: nocharge)."""
    import os
    import signal
    import threading

    site.store.add_user(User("alice", limit_by=LimitBy.BALANCE, balance=Decimal("5.00")))
    site.store.set_user_quota("alice", "lab")
    dev = Path(site.environ["CUPS_SERVERBIN"]) / "backend" / "socket"
    dev.write_text(SLOW_DEVICE.format(out=site.tmp))

    def cancel_soon() -> None:
        wait_until((site.tmp / "device-started").exists, "the device has started")
        os.kill(os.getpid(), signal.SIGTERM)

    threading.Thread(target=cancel_soon).start()
    code, err = site.job("13", "alice", PDF.read_bytes())
    assert "INFO: device cancelled" in err
    assert site.store.get_user("alice").balance == Decimal("5.00")
    [row] = list(site.store.history())
    assert row.action == Action.CANCEL and "cancelled while printing" in row.reason
    assert code == 0


@pytest.mark.slow  # runs the `pagetally` command twice: seconds of start-up
def test_external_policy_creates_the_missing_account(site: Site) -> None:
    """policy: external(cmd) runs the site's command — here a script using
    PageTally's own CLI to add the unknown user and a quota entry — then decides
    again: the job prints and is charged."""
    import sys

    pagetally = Path(sys.executable).parent / "pagetally"
    script = site.tmp / "create-account"
    script.write_text(
        "#!/bin/sh\nset -e\n"
        f'{pagetally} --config {site.conf} users add "$1" --limit-by balance --balance 2\n'
        f'{pagetally} --config {site.conf} quotas set --printer "$PYKOTAPRINTERNAME" "$1"\n'
    )
    script.chmod(0o700)
    with site.conf.open("a") as conf:
        conf.write(f"policy: external({script} %(username)s)\n")
    code, err = site.job("20", "newbie", PDF.read_bytes())
    assert code == 0, err
    assert site.store.get_user("newbie").balance == Decimal("1.9")
    assert [(j.user, j.action) for j in site.store.history()] == [("newbie", Action.ALLOW)]


def test_external_policy_failing_command_denies(site: Site) -> None:
    with site.conf.open("a") as conf:
        conf.write("policy: external(/bin/false %(username)s)\n")
    code, err = site.job("21", "ghost", PDF.read_bytes())
    assert code == 5
    assert "User ghost is unknown" in err and "the policy command exited 1" in err
