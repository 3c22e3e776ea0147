"""The PIN lockout (printauthmaxfailures, printauthlockout), in-process: a real
SQLite store, the backend with an injected clock, a recording stand-in for the
device's backend. Failures are counted from the job history for the user name,
on every printer; during a lockout the PIN is not checked."""

from __future__ import annotations

import io
import stat
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path

import pytest

from pagetally.core.models import Action, Printer
from pagetally.cups.backend import BackendEnv, run
from pagetally.cups.status import BackendExit
from tests.cups.test_auth import CHECKER, PIN, AuthSite, stored_pin
from tests.cups.test_backend import PDF

pytestmark = pytest.mark.slow  # a dozen jobs through the backend per test

T0 = datetime(2026, 11, 24, 12, tzinfo=UTC)
LOCKED = "too many wrong PINs: try again after"


class LockSite(AuthSite):
    """AuthSite whose jobs run at a chosen time; alice's PIN set before T0."""

    def __init__(self, tmp: Path, settings: str = "printauth: pin\n") -> None:
        super().__init__(tmp, settings)
        self.store.set_user_pin_hash("alice", stored_pin(PIN, set_at=T0 - timedelta(days=1)))
        self.jobs = 0

    def at(
        self, minutes: float, user: str, pin: str | None, printer: str = "lab"
    ) -> tuple[int, str]:
        self.jobs += 1
        job_id = str(self.jobs)
        options = "job-originating-host-name=pc7" + (f" job-password={pin}" if pin else "")
        err = io.StringIO()
        env = BackendEnv(
            ["pagetally", job_id, user, "t", "1", options],
            {**self.environ, "PRINTER": printer},
            io.BytesIO(PDF.read_bytes()),
            err,
            now=lambda: T0 + timedelta(minutes=minutes),
            config_path=str(self.conf),
        )
        return run(env), err.getvalue()

    def printed(self) -> int:
        return len(list(self.tmp.glob("printed-*")))


def refused_with(result: tuple[int, str]) -> str:
    code, err = result
    assert code == BackendExit.CANCEL, err
    return err.split("WARNING: PageTally refused the job: ", 1)[1].split("\n", 1)[0]


def test_five_wrong_pins_lock_the_user_out_until_the_window_passes(tmp_path: Path) -> None:
    site = LockSite(tmp_path)
    for minute in range(5):
        assert refused_with(site.at(minute, "alice", "0000")) == "wrong PIN"
    # the right PIN does not print, and says the same as a wrong one
    right = refused_with(site.at(5, "alice", PIN))
    wrong = refused_with(site.at(5.5, "alice", "1111"))
    assert right == wrong == f"{LOCKED} 12:15 UTC"
    assert site.printed() == 0 and site.store.get_user("alice").balance == Decimal("5")
    rows = list(site.store.history())
    assert [r.action for r in rows] == [Action.DENY] * 7
    assert rows[-1].reason == f"{LOCKED} 12:15 UTC"
    env = (tmp_path / f"hookenv-{site.jobs}-BEFORE").read_text()
    assert "PYKOTAACTION=DENY" in env  # the refusal path: prehook (and mail) as usual
    assert PIN not in site.seen_by_others()

    # the refusals during the lockout do not extend it: at 12:15 the first
    # failure has left the window, and the right PIN prints
    assert refused_with(site.at(14.9, "alice", PIN)).startswith(LOCKED)
    code, err = site.at(15, "alice", PIN)
    assert code == BackendExit.OK, err
    assert site.printed() == 1 and site.store.get_user("alice").balance == Decimal("4.90")
    # a success does not erase the failures still in the window: one more wrong
    # PIN (5 within 15 minutes again) locks until the second failure leaves
    assert refused_with(site.at(15.5, "alice", "2222")) == "wrong PIN"
    assert refused_with(site.at(15.6, "alice", PIN)) == f"{LOCKED} 12:16 UTC"


def test_failures_count_on_every_printer(tmp_path: Path) -> None:
    site = LockSite(tmp_path)
    site.store.add_printer(Printer("hall"))
    for minute in range(3):
        refused_with(site.at(minute, "alice", "0000", printer="lab"))
    for minute in range(3, 5):
        refused_with(site.at(minute, "alice", "0000", printer="hall"))
    assert refused_with(site.at(6, "alice", PIN, printer="lab")).startswith(LOCKED)
    assert refused_with(site.at(6, "alice", PIN, printer="hall")).startswith(LOCKED)
    # another user is not affected
    site.store.set_user_pin_hash("bob", stored_pin("9999", set_at=T0 - timedelta(days=1)))
    assert site.at(6, "bob", "9999")[0] == BackendExit.OK


def test_unknown_users_get_the_same_answers(tmp_path: Path) -> None:
    """Names with wildcard characters are counted as themselves, too."""
    site = LockSite(tmp_path)
    users = ("alice", "ghost", "lab[1]", "a*")
    answers = {user: [refused_with(site.at(m, user, "0000")) for m in range(6)] for user in users}
    for user in users:
        assert answers[user] == ["wrong PIN"] * 5 + [f"{LOCKED} 12:15 UTC"], user


@pytest.mark.parametrize("new_pin", ["4455", PIN])  # a new PIN, or the same again
def test_setting_the_pin_ends_the_lockout(tmp_path: Path, new_pin: str) -> None:
    site = LockSite(tmp_path)
    for minute in range(5):
        refused_with(site.at(minute, "alice", "0000"))
    assert refused_with(site.at(6, "alice", new_pin)).startswith(LOCKED)
    # what `pagetally users edit alice --pin` does, at 12:07
    site.store.set_user_pin_hash("alice", stored_pin(new_pin, set_at=T0 + timedelta(minutes=7)))
    code, err = site.at(8, "alice", new_pin)
    assert code == BackendExit.OK, err
    assert site.printed() == 1


def test_zero_never_locks_and_the_window_is_configurable(tmp_path: Path) -> None:
    site = LockSite(tmp_path, "printauth: pin\nprintauthmaxfailures: 0\n")
    for minute in range(8):
        assert refused_with(site.at(minute, "alice", "0000")) == "wrong PIN"
    assert site.at(8, "alice", PIN)[0] == BackendExit.OK

    (tmp_path / "b").mkdir()
    other = LockSite(
        tmp_path / "b", "printauth: pin\nprintauthmaxfailures: 2\nprintauthlockout: 60\n"
    )
    refused_with(other.at(0, "alice", "0000"))
    refused_with(other.at(0.5, "alice", "0000"))
    assert refused_with(other.at(1 - 1 / 600, "alice", PIN)) == f"{LOCKED} 12:01 UTC"
    assert other.at(1, "alice", PIN)[0] == BackendExit.OK


def test_a_site_command_is_not_asked_during_a_lockout(tmp_path: Path) -> None:
    checker = tmp_path / "check.sh"
    checker.write_text(CHECKER.format(out=tmp_path, pin=PIN))
    checker.chmod(stat.S_IRWXU)
    site = LockSite(tmp_path, f"printauth: command({checker})\nprintauthmaxfailures: 3\n")
    for minute in range(3):
        assert refused_with(site.at(minute, "alice", "nope")) == "authentication failed"
    (tmp_path / "checker-args").unlink()
    assert refused_with(site.at(4, "alice", PIN)) == f"{LOCKED} 12:15 UTC"
    assert not (tmp_path / "checker-args").exists()
    assert site.at(15, "alice", PIN)[0] == BackendExit.OK


def test_a_check_that_cannot_run_is_not_the_users_failure(tmp_path: Path) -> None:
    site = LockSite(tmp_path, f"printauth: command({tmp_path}/missing)\nprintauthmaxfailures: 1\n")
    for minute in range(3):
        assert refused_with(site.at(minute, "alice", PIN)).startswith(
            "authentication failed: the check could not be run"
        )


def test_the_lockout_through_the_accounting_service(tmp_path: Path) -> None:
    """With `pagetally serve` holding the store, the history is read through it."""
    site = LockSite(tmp_path)
    with site.served():
        for minute in range(5):
            assert refused_with(site.at(minute, "alice", "0000")) == "wrong PIN"
        assert refused_with(site.at(5, "alice", PIN)) == f"{LOCKED} 12:15 UTC"
        assert site.at(15, "alice", PIN)[0] == BackendExit.OK
    assert site.printed() == 1


@pytest.mark.parametrize(("limit", "prints"), [(3, False), (0, True)])
def test_a_site_command_with_the_store_down(tmp_path: Path, limit: int, prints: bool) -> None:
    """The lockout needs the history: without it, command(...) fails closed,
    unless the lockout is off (then onstoreerror decides, as before)."""
    checker = tmp_path / "check.sh"
    checker.write_text(CHECKER.format(out=tmp_path, pin=PIN))
    checker.chmod(stat.S_IRWXU)
    site = LockSite(
        tmp_path,
        f"printauth: command({checker})\nprintauthmaxfailures: {limit}\nonstoreerror: allow\n",
    )
    site.conf.write_text(
        site.conf.read_text().replace(
            f"storagename: {site.db}", f"storagename: {tmp_path / 'gone' / 'x.db'}"
        )
    )
    code, err = site.at(0, "alice", PIN)
    assert (code == BackendExit.OK) is prints, err
    assert site.printed() == int(prints)
    if not prints:
        assert "the user cannot be authenticated" in err
