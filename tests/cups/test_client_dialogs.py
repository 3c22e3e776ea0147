"""End to end: print-time questions and notices through a private cupsd, PageTally's
backend, the notifier hub (as `pagetally serve` runs it) and `pagetally-client`
itself, run as a user runs it (`--terminal`: questions on its standard input),
on 127.0.0.1.

The job's user answers "print it?" yes / no / nothing: the job prints and is
charged / is cancelled, not charged, with the reason in `lpstat -l` / takes the
configured default (no) after `clienttimeout`. "Which billing code?" and "your
PIN" answered in the client decide the job's code and whether it may print.
A refused job's reason reaches the client. A client with a wrong token is
refused; a client with another user's token hears nothing of this user's jobs."""

from __future__ import annotations

import os
import queue
import subprocess
import sys
import threading
from collections.abc import Iterator
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path

import pytest

from pagetally.core.dialogs import Answer, Kind, Source
from pagetally.core.models import LimitBy, PriceTable, Printer, User
from pagetally.core.tokens import TokenRole
from pagetally.service.notifier import Hub, NotifierSettings
from pagetally.service.notifier_store import status_reader, verifier
from pagetally.storage import StoreSettings, open_store
from pagetally.storage.sql import SqlStore
from tests.cups.cupsd import Cupsd, private_cupsd
from tests.cups.test_auth_cupsd import lpstat_line
from tests.cups.test_cupsd import ONE_PAGE, add_queue, submit, wait_done
from tests.fixtures_devices import IppEvePrinter
from tests.polling import wait_until

pytestmark = [pytest.mark.slow, pytest.mark.cups]

TIMEOUT = 4  # clienttimeout: the "nothing" case waits this long
PAGETALLY = Path(sys.executable).parent / "pagetally"
PIN = "5517"


class Client:
    """`pagetally-client run` in a terminal: its output lines, its standard input."""

    def __init__(self, port: int, token: str) -> None:
        env = {**os.environ, "PAGETALLY_TOKEN": token}
        env.pop("DBUS_SESSION_BUS_ADDRESS", None)
        self.proc = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "pagetally_client",
                "--server",
                f"127.0.0.1:{port}",
                "--terminal",
                "run",
                "--once",
            ],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            env=env,
        )
        self.lines: queue.Queue[str] = queue.Queue()
        self.seen: list[str] = []
        threading.Thread(target=self._read, daemon=True).start()

    def _read(self) -> None:
        assert self.proc.stdout is not None
        for line in self.proc.stdout:
            self.lines.put(line.rstrip("\n"))

    def next(self, timeout: float = 60) -> str:
        line = self.lines.get(timeout=timeout)
        self.seen.append(line)
        return line

    def type(self, text: str) -> None:
        assert self.proc.stdin is not None
        self.proc.stdin.write(text + "\n")
        self.proc.stdin.flush()

    def stop(self) -> str:
        """Stop it (if it still runs); what it wrote on standard error."""
        if self.proc.poll() is None:
            self.proc.terminate()
        self.proc.wait(timeout=10)
        assert self.proc.stderr is not None and self.proc.stdin is not None
        self.proc.stdin.close()
        return self.proc.stderr.read()


@pytest.fixture(scope="module")
def setup(ipp_printer: IppEvePrinter) -> Iterator[tuple[Cupsd, Hub, SqlStore]]:
    where: dict[str, Path] = {}

    def conf(base: Path) -> str:
        where["base"] = base
        return (
            "[global]\nstoragebackend: sqlite\n"
            f"storagename: {base / 'pagetally.db'}\n"
            f"directory: {base / 'pagetally-spool'}\n"
            f"notifierservice: {base / 'notify.sock'}\n"
            f"clienttimeout: {TIMEOUT}\n"
            "[askq]\nclientconfirm: yes\nclientconfirmdefault: no\n"
            "[codeq]\nclientbillingcode: missing\nclientbillingcodes: PHYS, CHEM\n"
            "[pinq]\nprintauth: pin\nclientpin: yes\n"
        )

    with private_cupsd("pagetally-notifier-", conf) as cupsd:
        base = where["base"]
        store = open_store(StoreSettings(backend="sqlite", name=str(base / "pagetally.db")))
        assert isinstance(store, SqlStore)
        hub = Hub(
            NotifierSettings(("127.0.0.1", 0), str(base / "notify.sock")),
            verifier(store),
            status_reader(store, "EUR"),
        )
        hub.start()
        try:
            add_queue(cupsd, ipp_printer, "askq")
            add_queue(cupsd, ipp_printer, "dearq")
            add_queue(cupsd, ipp_printer, "codeq")
            add_queue(cupsd, ipp_printer, "pinq")
            store.add_printer(Printer("askq", prices=PriceTable(per_page=Decimal("0.10"))))
            store.add_printer(Printer("dearq", prices=PriceTable(per_page=Decimal("50"))))
            store.add_printer(Printer("codeq", prices=PriceTable(per_page=Decimal("0.10"))))
            store.add_printer(Printer("pinq", prices=PriceTable(per_page=Decimal("0.10"))))
            for name in ("cora", "dave"):
                store.add_user(User(name, limit_by=LimitBy.BALANCE, balance=Decimal("5")))
                store.set_user_quota(name, "askq")
                store.set_user_quota(name, "dearq")
                store.set_user_quota(name, "codeq")
                store.set_user_quota(name, "pinq")
            yield cupsd, hub, store
        finally:
            hub.stop()
            store.close()


def test_questions_and_notices_through_cupsd(setup: tuple[Cupsd, Hub, SqlStore]) -> None:
    cupsd, hub, store = setup
    assert hub.port is not None
    now = datetime.now(UTC)
    cora_token = store.add_api_token("cora", TokenRole.USER, now)[1]
    dave_token = store.add_api_token("dave", TokenRole.USER, now)[1]

    wrong = Client(hub.port, "ptk_" + "0" * 43)
    assert wrong.proc.wait(timeout=30) == 1
    assert "token refused" in wrong.stop()

    cora, dave = Client(hub.port, cora_token), Client(hub.port, dave_token)
    try:
        assert cora.next().startswith("pagetally-client: registered as cora from 127.0.0.1")
        assert dave.next().startswith("pagetally-client: registered as dave")

        # yes: printed and charged, the printed notice with the balance left
        job = submit(cupsd, "askq", "cora", ONE_PAGE)
        question = cora.next()
        assert (
            question.startswith("? ") and "askq: 1 page(s), 0.10 EUR. Print it? [y/n]" in question
        )
        cora.type("y")
        assert wait_done(cupsd, job)["job-state"] == "completed"
        assert cora.next() == "* Printed on askq: 1 page(s), 0.10 EUR; balance left 4.90 EUR"
        assert store.get_user("cora").balance == Decimal("4.90")
        assert store.job_answers("askq", str(job)) == [Answer(Kind.CONFIRM, "yes", Source.CLIENT)]

        # no: cancelled, not charged, why in lpstat -l and in the client
        job = submit(cupsd, "askq", "cora", ONE_PAGE)
        assert "Print it?" in cora.next()
        cora.type("n")
        assert wait_done(cupsd, job)["job-state"] == "canceled"
        assert "cancelled by the user (answered no in pagetally-client)" in lpstat_line(
            cupsd, "askq", job
        )
        assert cora.next() == (
            "! Job cancelled on askq: cancelled by the user (answered no in pagetally-client)"
        )
        assert store.get_user("cora").balance == Decimal("4.90")
        assert store.job_answers("askq", str(job)) == [Answer(Kind.CONFIRM, "no", Source.CLIENT)]

        # nothing: the default (no) after clienttimeout
        job = submit(cupsd, "askq", "cora", ONE_PAGE)
        assert "Print it?" in cora.next()
        assert wait_done(cupsd, job)["job-state"] == "canceled"
        assert f"cancelled: no answer within {TIMEOUT} s (clientconfirmdefault: no)" in lpstat_line(
            cupsd, "askq", job
        )
        assert store.get_user("cora").balance == Decimal("4.90")
        assert store.job_answers("askq", str(job)) == [Answer(Kind.CONFIRM, "no", Source.TIMEOUT)]
        assert cora.next().startswith("! Job cancelled on askq: cancelled: no answer")

        # "which billing code?": the answer goes on the job's row
        job = submit(cupsd, "codeq", "cora", ONE_PAGE)
        assert cora.next() == (
            "? Which billing code for 'default-testpage.pdf'? [PHYS, CHEM] — 4 s to answer"
        )
        cora.type("CHEM")
        assert wait_done(cupsd, job)["job-state"] == "completed"
        assert cora.next().startswith("* Printed on codeq: 1 page(s), 0.10 EUR")
        row = [j for j in store.history() if j.printer == "codeq"][-1]
        assert (row.job_id, row.billing_code) == (str(job), "CHEM")
        assert store.job_answers("codeq", str(job)) == [
            Answer(Kind.BILLING_CODE, "CHEM", Source.CLIENT)
        ]

        # "your PIN": typed in the client, the job prints; never kept anywhere
        subprocess.run(
            [str(PAGETALLY), "-C", str(cupsd.config), "users", "edit", "cora", "--pin-stdin"],
            input=f"{PIN}\n",
            text=True,
            check=True,
            timeout=60,
        )
        job = submit(cupsd, "pinq", "cora", ONE_PAGE)
        assert cora.next() == "? Your print PIN for pinq: (type it, then Enter) — 4 s to answer"
        cora.type(PIN)
        assert wait_done(cupsd, job)["job-state"] == "completed"
        assert cora.next().startswith("* Printed on pinq: 1 page(s), 0.10 EUR")
        assert store.job_answers("pinq", str(job)) == [Answer(Kind.PIN, "given", Source.CLIENT)]
        job = submit(cupsd, "pinq", "cora", ONE_PAGE)  # a wrong one: refused, as with lp
        assert "PIN" in cora.next()
        cora.type("0000")
        assert wait_done(cupsd, job)["job-state"] == "canceled"
        assert cora.next() == "! Job refused on pinq: wrong PIN"
        assert not any(PIN in repr(j) for j in store.history())

        # refused: a 50 EUR page takes the balance below zero (PyKota's rule: a job
        # is allowed while there is credit), the next is refused; its reason
        # reaches the client
        assert (
            wait_done(cupsd, submit(cupsd, "dearq", "cora", ONE_PAGE))["job-state"] == "completed"
        )
        assert cora.next() == "* Printed on dearq: 1 page(s), 50.00 EUR; balance left -45.30 EUR"
        job = submit(cupsd, "dearq", "cora", ONE_PAGE)
        assert wait_done(cupsd, job)["job-state"] == "canceled"
        refusal = cora.next()
        assert refusal.startswith("! Job refused on dearq: ")
        reason = refusal.removeprefix("! Job refused on dearq: ")
        assert reason in lpstat_line(cupsd, "dearq", job)
        assert "-45.30" in reason  # the balance that refused it

        # dave, registered all along with his own token, heard nothing of cora's jobs
        wait_until(lambda: dave.lines.empty(), "dave's output is read")
        assert dave.proc.poll() is None and dave.lines.empty()
        assert dave.seen == [dave.seen[0]]
    finally:
        cora.stop()
        dave.stop()
