"""End to end through a private cupsd: jobs that do not go as planned. A job
cancelled with `cancel` while the real backend is still sending it (software
accounting) or while the printer prints it (hardware accounting), a job that
fails at the printer (`onbackenderror`), and the store unreachable
(`onstoreerror`) then back, with the local journal replayed by hand and by the
next job; PostgreSQL lost between the decision and the charge. Each test checks
the store's rows, the balance and what CUPS shows."""

from __future__ import annotations

import contextlib
import os
import socket
import struct
import subprocess
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path

import pytest

from pagetally.core.models import Action, LimitBy, PriceTable, Printer, User
from pagetally.storage import StoreSettings, open_store
from pagetally.storage.base import Store
from tests.cups.cupsd import Cupsd, private_cupsd
from tests.cups.e2e import (
    PAGETALLY,
    configure,
    lpstat_status,
    own_ipp_printer,
    pdf_of_pages,
    store_of,
    wrap,
)
from tests.cups.test_cupsd import ONE_PAGE, history, submit, wait_done
from tests.devices.pjlsim import PjlSim
from tests.fixtures_devices import IppEvePrinter, free_port
from tests.servers import ServerInfo, postgresql_server  # noqa: F401  (a fixture)

pytestmark = [pytest.mark.slow, pytest.mark.cups]


@pytest.fixture(scope="module")
def store(cupsd: Cupsd) -> Store:
    return store_of(cupsd)


@pytest.fixture(scope="module")
def ipp_printer(dns_sd: None, tmp_path_factory: pytest.TempPathFactory) -> Iterator[IppEvePrinter]:
    yield from own_ipp_printer(tmp_path_factory, "reliability")


def wait_rows(
    store: Store, user: str, count: int, timeout: float = 30
) -> list[tuple[Action, int, Decimal]]:
    """The user's history once it has `count` rows: a cancelled job is shown
    cancelled by cupsd before the backend has finished recording it."""
    deadline = time.monotonic() + timeout
    while len(rows := history(store, user)) < count and time.monotonic() < deadline:
        time.sleep(0.2)
    return rows


# --- a printer that holds the job -------------------------------------------------


class HoldingPrinter:
    """A raw socket printer on 127.0.0.1 that reads a whole job, then keeps the
    connection open (as a printer still printing) until released: CUPS' socket
    backend waits for the printer to close before it exits, so the job stays in
    the backend meanwhile."""

    def __init__(self) -> None:
        self._sock = socket.create_server(("127.0.0.1", 0))
        self._sock.settimeout(30)
        self.port: int = self._sock.getsockname()[1]
        self.received = threading.Event()
        self.release = threading.Event()
        self.data = bytearray()
        self._thread = threading.Thread(target=self._serve, daemon=True)
        self._thread.start()

    @property
    def uri(self) -> str:
        return f"socket://127.0.0.1:{self.port}"

    def _serve(self) -> None:
        with contextlib.suppress(OSError):
            conn, _ = self._sock.accept()
            with conn:
                while chunk := conn.recv(65536):
                    self.data.extend(chunk)
                self.received.set()
                self.release.wait(60)

    def stop(self) -> None:
        self.release.set()
        with contextlib.suppress(OSError):  # wakes accept() if no job came
            socket.create_connection(("127.0.0.1", self.port), 1).close()
        self._thread.join(5)
        self._sock.close()


@pytest.fixture
def holding_printer() -> Iterator[HoldingPrinter]:
    printer = HoldingPrinter()
    try:
        yield printer
    finally:
        printer.stop()


def cancel_while_printing(
    cupsd: Cupsd, printer: HoldingPrinter, queue: str, user: str
) -> dict[str, str]:
    job = submit(cupsd, queue, user, ONE_PAGE)
    assert printer.received.wait(30), cupsd.error_log()[-3000:]
    assert printer.data.startswith(b"%PDF")  # the job reached the printer...
    cupsd.run("cancel", f"{queue}-{job}")  # ...and is cancelled before it is done
    return wait_done(cupsd, job)


@pytest.mark.parametrize(
    ("policy", "price"),
    [
        ("nocharge", Decimal("0")),
        ("charge", Decimal("0.10")),
    ],
)
def test_job_cancelled_while_printing(
    cupsd: Cupsd,
    store: Store,
    holding_printer: HoldingPrinter,
    policy: str,
    price: Decimal,
) -> None:
    """Software accounting: `cancel` while the real backend waits for the printer
    is recorded as cancelled; charged only under `onbackenderror: charge`."""
    queue, user = f"cancel{policy}", f"cal{policy}"
    wrap(cupsd, queue, holding_printer.uri)
    configure(cupsd, queue, onbackenderror=policy)
    store.add_printer(Printer(queue, prices=PriceTable(per_page=Decimal("0.10"))))
    store.add_user(User(user, limit_by=LimitBy.BALANCE, balance=Decimal("5")))
    store.set_user_quota(user, queue)

    done = cancel_while_printing(cupsd, holding_printer, queue, user)

    assert done["job-state"] == "canceled", done
    [(action, pages, charged)] = wait_rows(store, user, 1)
    [job] = [j for j in store.history() if j.user == user]
    assert "cancelled while printing" in job.reason
    # only allowed jobs are charged: a charged cancelled job keeps its action
    assert action is (Action.CANCEL if policy == "nocharge" else Action.ALLOW)
    assert (pages, charged) == (1, price)
    assert store.get_user(user).balance == Decimal("5") - price
    assert store.get_user_quota(user, queue).page_counter == (1 if price else 0)


def test_cancel_while_the_printer_prints_charges_what_it_printed(
    cupsd: Cupsd, store: Store
) -> None:
    """Hardware accounting (PJL counter): the job's data is in the printer's
    buffer and the printer prints it when the job is cancelled in CUPS, while
    PageTally waits for the counter to settle. The printer's 3 pages are
    charged: a cancel must not be a way to print for free."""
    queue, user = "hwcancel", "hal"
    with PjlSim(1000, seconds_per_page=0.1, pages_for=lambda _data: 3) as sim:
        wrap(cupsd, queue, f"socket://127.0.0.1:{sim.port}")
        configure(
            cupsd,
            queue,
            accounter=f"hardware(pjl:{sim.port})",
            statusstabilizationloops="2",
            statusstabilizationdelay="0.1",
            noprintingmaxdelay="30",
        )
        store.add_printer(Printer(queue, prices=PriceTable(per_page=Decimal("0.10"))))
        store.add_user(User(user, limit_by=LimitBy.BALANCE, balance=Decimal("5")))
        store.set_user_quota(user, queue)
        sim.pause()  # the job waits in the printer's buffer

        job = submit(cupsd, queue, user, ONE_PAGE)
        assert sim.wait_jobs(1, 30), cupsd.error_log()[-3000:]
        time.sleep(0.5)  # PageTally reads the printer's status meanwhile
        cupsd.run("cancel", f"{queue}-{job}")
        sim.resume()
        done = wait_done(cupsd, job)
        sim.wait_idle()

        assert done["job-state"] == "canceled", done
        assert sim.counter == 1003
        rows = wait_rows(store, user, 1, timeout=10)
    assert [(pages, price) for _action, pages, price in rows] == [(3, Decimal("0.30"))]
    assert store.get_user(user).balance == Decimal("4.70")
    assert store.get_user_quota(user, queue).page_counter == 3


class ResettingPrinter:
    """A raw socket printer on 127.0.0.1 that takes the start of each job, then
    drops the connection (a reset): CUPS' socket backend fails writing the rest."""

    def __init__(self) -> None:
        self._sock = socket.socket()
        # a small window: the job cannot all sit in the kernel's buffers when
        # the connection drops, the backend is still writing
        self._sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
        self._sock.bind(("127.0.0.1", 0))
        self._sock.listen()
        self._sock.settimeout(0.2)  # so that stop() is not kept waiting by accept()
        self.port: int = self._sock.getsockname()[1]
        self._stopping = threading.Event()
        self._thread = threading.Thread(target=self._serve, daemon=True)
        self._thread.start()

    def _serve(self) -> None:
        while not self._stopping.is_set():
            try:
                conn, _ = self._sock.accept()
            except TimeoutError:
                continue
            with contextlib.suppress(OSError):
                conn.settimeout(10)
                conn.recv(4096)
                conn.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
            conn.close()

    def stop(self) -> None:
        self._stopping.set()
        self._thread.join(5)
        self._sock.close()


@pytest.fixture(scope="module")
def big_page(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A one-page PDF of 4 MB (a random attachment): larger than what loopback
    TCP buffers hold."""
    folder = tmp_path_factory.mktemp("big")
    (folder / "noise.bin").write_bytes(os.urandom(4_000_000))
    subprocess.run(
        [
            "qpdf",
            str(ONE_PAGE),
            "--add-attachment",
            str(folder / "noise.bin"),
            "--",
            str(folder / "big.pdf"),
        ],
        check=True,
    )
    return folder / "big.pdf"


@pytest.fixture
def resetting_printer() -> Iterator[ResettingPrinter]:
    printer = ResettingPrinter()
    try:
        yield printer
    finally:
        printer.stop()


@pytest.mark.parametrize(
    ("device", "policy", "action", "price"),
    [
        ("refused", "nocharge", Action.PROBLEM, Decimal("0")),
        ("reset", "nocharge", Action.PROBLEM, Decimal("0")),
        ("reset", "charge", Action.ALLOW, Decimal("0.10")),
    ],
)
def test_job_failed_at_the_printer(
    cupsd: Cupsd,
    store: Store,
    big_page: Path,
    resetting_printer: ResettingPrinter,
    device: str,
    policy: str,
    action: Action,
    price: Decimal,
) -> None:
    """The printer refuses the connection (CUPS' socket backend gives up after
    contimeout, 5 s) or drops it in the middle of the job: the real backend
    fails, the queue's error policy aborts the job, and `onbackenderror` says
    whether it is charged."""
    queue, user = f"fail{device}{policy}", f"fay{device}{policy}"
    uri = (
        f"socket://127.0.0.1:{free_port()}/?contimeout=1"
        if device == "refused"
        else f"socket://127.0.0.1:{resetting_printer.port}"
    )
    wrap(cupsd, queue, uri, "-o", "printer-error-policy=abort-job")
    configure(cupsd, queue, onbackenderror=policy)
    store.add_printer(Printer(queue, prices=PriceTable(per_page=Decimal("0.10"))))
    store.add_user(User(user, limit_by=LimitBy.BALANCE, balance=Decimal("5")))
    store.set_user_quota(user, queue)

    done = wait_done(cupsd, submit(cupsd, queue, user, big_page))

    assert done["job-state"] == "aborted", {k: v for k, v in done.items() if "state" in k}
    assert wait_rows(store, user, 1) == [(action, 1, price)]
    [job] = [j for j in store.history() if j.user == user]
    assert "real backend failed (exit 1)" in job.reason
    assert ("not charged" in job.reason) == (policy == "nocharge")
    assert store.get_user(user).balance == Decimal("5") - price
    assert store.get_user_quota(user, queue).page_counter == (1 if price else 0)


# --- the store unreachable, then back ----------------------------------------------


@dataclass
class Outage:
    """A second cupsd whose pagetally.conf keeps the SQLite store in a folder the
    test can take away (the store is then unreachable: StoreUnavailable) and
    bring back."""

    cupsd: Cupsd
    base: Path

    @property
    def folder(self) -> Path:
        return self.base / "store"

    def store(self) -> Store:
        return open_store(StoreSettings(backend="sqlite", name=str(self.folder / "pt.db")))

    @contextlib.contextmanager
    def down(self) -> Iterator[None]:
        self.folder.rename(self.base / "store-away")
        try:
            yield
        finally:
            (self.base / "store-away").rename(self.folder)

    def journal(self) -> list[Path]:
        folder = self.base / "spool" / "journal"
        return sorted(folder.glob("*.json")) if folder.is_dir() else []

    def cli(self, *args: str, code: int = 0) -> str:
        """`pagetally ARGS` on this cupsd's config: what it says (stdout and stderr)."""
        out = subprocess.run(
            [str(PAGETALLY), "-C", str(self.cupsd.config), *args],
            capture_output=True,
            text=True,
            timeout=60,
            check=False,
        )
        assert out.returncode == code, out.stderr
        return out.stdout + out.stderr


@pytest.fixture(scope="module")
def outage(dns_sd: None) -> Iterator[Outage]:
    def config(base: Path) -> str:
        (base / "store").mkdir()
        return (
            "[global]\nstoragebackend: sqlite\n"
            f"storagename: {base / 'store' / 'pt.db'}\ndirectory: {base / 'spool'}\n"
            "accountingservice: none\nmailto: devnull\n"
        )

    with private_cupsd("pagetally-outage-", config) as server:
        yield Outage(server, server.config.parent)


def outage_account(outage: Outage, queue: str, user: str) -> Store:
    store = outage.store()
    store.add_printer(Printer(queue, prices=PriceTable(per_page=Decimal("0.10"))))
    store.add_user(User(user, limit_by=LimitBy.BALANCE, balance=Decimal("5")))
    store.set_user_quota(user, queue)
    return store


def test_store_down_refuses_by_default(outage: Outage, ipp_printer: IppEvePrinter) -> None:
    """onstoreerror: deny (the default): the job is cancelled with the reason;
    nothing printed, nothing journaled, nothing owed when the store is back."""
    wrap(outage.cupsd, "outdeny", ipp_printer.uri)
    outage_account(outage, "outdeny", "dan")

    with outage.down():
        done = wait_done(outage.cupsd, submit(outage.cupsd, "outdeny", "dan", ONE_PAGE))

    assert done["job-state"] == "canceled", done
    assert "store is unreachable" in done["job-printer-state-message"]
    assert "store is unreachable" in lpstat_status(outage.cupsd, "outdeny")
    assert outage.journal() == []
    store = outage.store()
    assert history(store, "dan") == []
    assert store.get_user("dan").balance == Decimal("5")


def test_store_down_refusal_is_the_state_message(
    outage: Outage, ipp_printer: IppEvePrinter
) -> None:
    """The refusal, not the store's error, is what lpstat shows: the first ERROR
    line a backend writes stays the job's state message in cupsd."""
    wrap(outage.cupsd, "outdeny2", ipp_printer.uri)
    outage_account(outage, "outdeny2", "don")

    with outage.down():
        wait_done(outage.cupsd, submit(outage.cupsd, "outdeny2", "don", ONE_PAGE))

    status = lpstat_status(outage.cupsd, "outdeny2")
    assert "PageTally refused the job" in status
    assert "printing is refused until it is back" in status
    assert str(outage.folder) not in status  # where the database is: not the user's business


def test_store_down_allowed_then_journal_replayed_once(
    outage: Outage, ipp_printer: IppEvePrinter
) -> None:
    """onstoreerror: allow: the job prints and its charge waits in the journal;
    `pagetally journal replay` charges it once, however often it is run."""
    wrap(outage.cupsd, "outallow", ipp_printer.uri)
    configure(outage.cupsd, "outallow", onstoreerror="allow")
    outage_account(outage, "outallow", "ada")

    with outage.down():
        done = wait_done(outage.cupsd, submit(outage.cupsd, "outallow", "ada", ONE_PAGE))
        assert done["job-state"] == "completed", done
        assert len(outage.journal()) == 1
        assert "charge kept in the local journal" in outage.cupsd.error_log()
        # still down: kept, and said (exit 4: the store is unavailable)
        said = outage.cli("journal", "replay", code=4)
        assert "remaining 1" in said and "does not exist" in said
        assert len(outage.journal()) == 1

    assert "outallow job" in outage.cli("journal", "list")
    assert "charged 1, already charged 0, remaining 0" in outage.cli("journal", "replay")
    assert "charged 0, already charged 0, remaining 0" in outage.cli("journal", "replay")
    store = outage.store()
    assert history(store, "ada") == [(Action.ALLOW, 1, Decimal("0.10"))]
    assert store.get_user("ada").balance == Decimal("4.90")
    assert store.get_user_quota("ada", "outallow").page_counter == 1


def test_store_down_journal_replayed_by_the_next_job(
    outage: Outage, ipp_printer: IppEvePrinter, tmp_path: Path
) -> None:
    """The first job after the store is back charges what was journaled, then
    itself: both once, balances exact."""
    wrap(outage.cupsd, "outnext", ipp_printer.uri)
    configure(outage.cupsd, "outnext", onstoreerror="allow")
    outage_account(outage, "outnext", "abe")
    three = pdf_of_pages(tmp_path / "three.pdf", 3)

    with outage.down():
        done = wait_done(outage.cupsd, submit(outage.cupsd, "outnext", "abe", three))
        assert done["job-state"] == "completed", done
    assert len(outage.journal()) == 1

    done = wait_done(outage.cupsd, submit(outage.cupsd, "outnext", "abe", ONE_PAGE))

    assert done["job-state"] == "completed", done
    assert outage.journal() == []
    store = outage.store()
    assert history(store, "abe") == [
        (Action.ALLOW, 3, Decimal("0.30")),
        (Action.ALLOW, 1, Decimal("0.10")),
    ]
    assert store.get_user("abe").balance == Decimal("4.60")
    assert store.get_user_quota("abe", "outnext").page_counter == 4


# --- PostgreSQL lost in the middle of a job -----------------------------------------


class TcpGate:
    """A TCP relay on 127.0.0.1 in front of a database server. `cut()` drops
    every connection and refuses new ones (the server no longer answers);
    `restore()` listens again on the same port."""

    def __init__(self, target_port: int) -> None:
        self.target_port = target_port
        self.port = 0  # the first bind picks it; restore() binds the same one again
        self._conns: list[socket.socket] = []
        self._listener: socket.socket | None = None
        self._thread: threading.Thread | None = None
        self.restore()

    def restore(self) -> None:
        listener = socket.socket()
        listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        listener.bind(("127.0.0.1", self.port))
        self.port = listener.getsockname()[1]
        listener.listen()
        listener.settimeout(0.2)
        self._listener = listener
        self._thread = threading.Thread(target=self._accept, args=(listener,), daemon=True)
        self._thread.start()

    def _accept(self, listener: socket.socket) -> None:
        while self._listener is listener:
            try:
                client, _ = listener.accept()
            except TimeoutError:
                continue
            except OSError:
                return
            server = socket.create_connection(("127.0.0.1", self.target_port), 10)
            client.settimeout(None)
            self._conns += [client, server]
            for src, dst in ((client, server), (server, client)):
                threading.Thread(target=self._pump, args=(src, dst), daemon=True).start()

    @staticmethod
    def _pump(src: socket.socket, dst: socket.socket) -> None:
        with contextlib.suppress(OSError):
            while data := src.recv(65536):
                dst.sendall(data)
        with contextlib.suppress(OSError):
            dst.shutdown(socket.SHUT_RDWR)

    def cut(self) -> None:
        listener, self._listener = self._listener, None
        if self._thread is not None:
            self._thread.join(5)
        if listener is not None:
            listener.close()
        for conn in self._conns:
            with contextlib.suppress(OSError):
                conn.shutdown(socket.SHUT_RDWR)
            conn.close()
        self._conns.clear()


@dataclass
class PgOutage:
    """A third cupsd whose store is a PostgreSQL database reached through a gate."""

    cupsd: Cupsd
    gate: TcpGate
    settings: StoreSettings  # straight to the server, for the test's own eyes

    def store(self) -> Store:
        return open_store(self.settings)


@pytest.fixture(scope="module")
def pg_outage(dns_sd: None, postgresql_server: ServerInfo) -> Iterator[PgOutage]:  # noqa: F811
    settings = postgresql_server.new_database("ptcups")
    open_store(settings).upgrade()
    gate = TcpGate(postgresql_server.port)

    def config(base: Path) -> str:
        admin = base / "pagetally-admin.conf"
        admin.write_text(
            f"[global]\nstorageadmin: {settings.admin_user}\n"
            f"storageadminpw: {settings.admin_password}\n"
        )
        admin.chmod(0o640)
        return (
            "[global]\nstoragebackend: postgresql\n"
            f"storageserver: 127.0.0.1:{gate.port}\nstoragename: {settings.name}\n"
            f"directory: {base / 'spool'}\naccountingservice: none\nmailto: devnull\n"
        )

    try:
        with private_cupsd("pagetally-pgout-", config) as server:
            yield PgOutage(server, gate, settings)
    finally:
        gate.cut()


@pytest.mark.postgresql
def test_database_lost_while_printing_is_journaled_and_replayed_once(
    pg_outage: PgOutage, holding_printer: HoldingPrinter
) -> None:
    """PostgreSQL answers for the decision, then stops answering while the
    printer still holds the job: the job completes, its charge goes to the
    journal; once the database is back, `pagetally journal replay` charges it
    exactly once."""
    cupsd = pg_outage.cupsd
    wrap(cupsd, "pgmid", holding_printer.uri)
    store = pg_outage.store()
    store.add_printer(Printer("pgmid", prices=PriceTable(per_page=Decimal("0.10"))))
    store.add_user(User("mia", limit_by=LimitBy.BALANCE, balance=Decimal("5")))
    store.set_user_quota("mia", "pgmid")

    job = submit(cupsd, "pgmid", "mia", ONE_PAGE)
    assert holding_printer.received.wait(30), cupsd.error_log()[-3000:]
    pg_outage.gate.cut()
    holding_printer.release.set()  # the printer is done: the backend charges now
    done = wait_done(cupsd, job)
    assert done["job-state"] == "completed", done
    journal = cupsd.config.parent / "spool" / "journal"
    assert len(list(journal.glob("*.json"))) == 1, cupsd.error_log()[-3000:]
    assert history(store, "mia") == []

    pg_outage.gate.restore()
    replay = [str(PAGETALLY), "-C", str(cupsd.config), "journal", "replay"]
    for expected in ("charged 1, already charged 0", "charged 0, already charged 0"):
        out = subprocess.run(replay, capture_output=True, text=True, timeout=60, check=False)
        assert out.returncode == 0 and expected in out.stdout, out.stdout + out.stderr
    assert history(store, "mia") == [(Action.ALLOW, 1, Decimal("0.10"))]
    assert store.get_user("mia").balance == Decimal("4.90")
