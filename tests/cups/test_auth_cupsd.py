"""End to end: `printauth: pin` through a private cupsd, PageTally's backend, CUPS'
ipp backend and an ippeveprinter. The PIN is set with the `pagetally` CLI (from
standard input) and sent with `lp -o job-password=PIN`: the right PIN prints and
is charged; a missing or wrong one is cancelled with the reason shown by
`lpstat -l`, nothing charged, and the PIN is nowhere in the store."""

from __future__ import annotations

import subprocess
import sys
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
    return open_store(StoreSettings(backend="sqlite",
                                    name=str(cupsd.config.parent / "pagetally.db")))


def lpstat_line(cupsd: Cupsd, queue: str, job: int) -> str:
    """`lpstat -l` for one job: its line and the status lines under it."""
    out = cupsd.run("lpstat", "-l", "-W", "all", "-o", queue).stdout
    block = out.split(f"{queue}-{job} ", 1)[1]
    return block.split(f"\n{queue}-", 1)[0]


def test_print_pin_through_cupsd(cupsd: Cupsd, ipp_printer: IppEvePrinter,
                                 store: Store) -> None:
    add_queue(cupsd, ipp_printer, "pinq")
    with cupsd.config.open("a") as conf:
        conf.write("\n[pinq]\nprintauth: pin\n")
    store.add_printer(Printer("pinq", prices=PriceTable(per_page=Decimal("0.10"))))
    store.add_user(User("penny", limit_by=LimitBy.BALANCE, balance=Decimal("2")))
    store.set_user_quota("penny", "pinq")
    subprocess.run([str(PAGETALLY), "-C", str(cupsd.config), "users", "edit", "penny",
                    "--pin-stdin"], input=f"{PIN}\n", text=True, check=True, timeout=60)

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
    assert history(store, "penny") == [(Action.ALLOW, 1, Decimal("0.1")),
                                       (Action.DENY, 1, Decimal("0")),
                                       (Action.DENY, 1, Decimal("0"))]
    rows = [j for j in store.history() if j.user == "penny"]
    assert [r.reason.split(":")[0] for r in rows[1:]] == ["wrong PIN", "PIN missing"]
    assert not any(PIN in repr(r) or "0000" in (r.options or "") for r in rows)
