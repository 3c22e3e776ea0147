"""End to end: `printauth: pin` through a private cupsd, PageTally's backend, CUPS'
ipp backend and an ippeveprinter. The PIN is set with the `pagetally` CLI (from
standard input) and sent with `lp -o job-password=PIN`: the right PIN prints and
is charged; a missing or wrong one is cancelled with the reason shown by
`lpstat -l`, nothing charged, and the PIN is nowhere in the store. Too many
wrong PINs lock the user out on every queue until a new PIN is set."""

from __future__ import annotations

import subprocess
import sys
import time
from decimal import Decimal
from pathlib import Path

import pytest

from pagetally.core.models import Action, LimitBy, PriceTable, Printer, User
from pagetally.storage import StoreSettings, open_store
from pagetally.storage.base import Store
from tests.cups.cupsd import Cupsd
from tests.cups.test_cupsd import ONE_PAGE, add_queue, history, submit, wait_done
from tests.fixtures_devices import IppEvePrinter

pytestmark = [pytest.mark.slow, pytest.mark.cups]

PAGETALLY = Path(sys.executable).parent / "pagetally"
PIN = "5517"


@pytest.fixture(scope="module")
def store(cupsd: Cupsd) -> Store:
    return open_store(
        StoreSettings(backend="sqlite", name=str(cupsd.config.parent / "pagetally.db"))
    )


def lpstat_line(cupsd: Cupsd, queue: str, job: int) -> str:
    """`lpstat -l` for one job: its line and the status lines under it."""
    out = cupsd.run("lpstat", "-l", "-W", "all", "-o", queue).stdout
    block = out.split(f"{queue}-{job} ", 1)[1]
    return block.split(f"\n{queue}-", 1)[0]


def test_print_pin_through_cupsd(cupsd: Cupsd, ipp_printer: IppEvePrinter, store: Store) -> None:
    add_queue(cupsd, ipp_printer, "pinq")
    with cupsd.config.open("a") as conf:
        conf.write("\n[pinq]\nprintauth: pin\n")
    store.add_printer(Printer("pinq", prices=PriceTable(per_page=Decimal("0.10"))))
    store.add_user(User("penny", limit_by=LimitBy.BALANCE, balance=Decimal("2")))
    store.set_user_quota("penny", "pinq")
    subprocess.run(
        [str(PAGETALLY), "-C", str(cupsd.config), "users", "edit", "penny", "--pin-stdin"],
        input=f"{PIN}\n",
        text=True,
        check=True,
        timeout=60,
    )

    ok = wait_done(cupsd, submit(cupsd, "pinq", "penny", ONE_PAGE, f"job-password={PIN}"))
    assert ok["job-state"] == "completed"
    assert store.get_user("penny").balance == Decimal("1.90")

    wrong = submit(cupsd, "pinq", "penny", ONE_PAGE, "job-password=0000")
    missing = submit(cupsd, "pinq", "penny", ONE_PAGE)
    assert wait_done(cupsd, wrong)["job-state"] == "canceled"
    assert wait_done(cupsd, missing)["job-state"] == "canceled"
    assert "wrong PIN" in lpstat_line(cupsd, "pinq", wrong)
    assert "PIN missing" in lpstat_line(cupsd, "pinq", missing)
    assert store.get_user("penny").balance == Decimal("1.90")
    assert history(store, "penny") == [
        (Action.ALLOW, 1, Decimal("0.1")),
        (Action.DENY, 1, Decimal("0")),
        (Action.DENY, 1, Decimal("0")),
    ]
    rows = [j for j in store.history() if j.user == "penny"]
    assert [r.reason.split(":")[0] for r in rows[1:]] == ["wrong PIN", "PIN missing"]
    assert not any(PIN in repr(r) or "0000" in (r.options or "") for r in rows)


def set_pin(cupsd: Cupsd, user: str, pin: str) -> None:
    subprocess.run(
        [str(PAGETALLY), "-C", str(cupsd.config), "users", "edit", user, "--pin-stdin"],
        input=f"{pin}\n",
        text=True,
        check=True,
        timeout=60,
    )


def test_wrong_pins_lock_out_through_cupsd(
    cupsd: Cupsd, ipp_printer: IppEvePrinter, store: Store
) -> None:
    for queue in ("lockq", "lockq2"):
        add_queue(cupsd, ipp_printer, queue)
        store.add_printer(Printer(queue, prices=PriceTable(per_page=Decimal("0.10"))))
    with cupsd.config.open("a") as conf:
        for queue in ("lockq", "lockq2"):
            conf.write(f"\n[{queue}]\nprintauth: pin\nprintauthmaxfailures: 2\n")
    store.add_user(User("lena", limit_by=LimitBy.BALANCE, balance=Decimal("2")))
    for queue in ("lockq", "lockq2"):
        store.set_user_quota("lena", queue)
    set_pin(cupsd, "lena", PIN)

    wrong = [
        submit(cupsd, "lockq", "lena", ONE_PAGE, f"job-password={guess}")
        for guess in ("1111", "2222")
    ]
    for job in wrong:
        assert wait_done(cupsd, job)["job-state"] == "canceled"
        assert "wrong PIN" in lpstat_line(cupsd, "lockq", job)
    # the right PIN, on another queue: locked out all the same
    locked = wait_done(cupsd, submit(cupsd, "lockq2", "lena", ONE_PAGE, f"job-password={PIN}"))
    assert locked["job-state"] == "canceled"
    assert "too many wrong PINs: try again after" in lpstat_line(
        cupsd, "lockq2", int(locked["job-id"])
    )
    assert store.get_user("lena").balance == Decimal("2")

    time.sleep(1.1)  # the PIN's change time is kept to the second
    set_pin(cupsd, "lena", "8642")  # the administrator ends the lockout
    ok = wait_done(cupsd, submit(cupsd, "lockq2", "lena", ONE_PAGE, "job-password=8642"))
    assert ok["job-state"] == "completed"
    assert store.get_user("lena").balance == Decimal("1.90")
    rows = [
        (r.action, r.printer, r.reason.split(":")[0]) for r in store.history() if r.user == "lena"
    ]
    assert rows[:3] == [
        (Action.DENY, "lockq", "wrong PIN"),
        (Action.DENY, "lockq", "wrong PIN"),
        (Action.DENY, "lockq2", "too many wrong PINs"),
    ]
    assert rows[3][:2] == (Action.ALLOW, "lockq2")
