"""Hardware accounting through the backend: the printer's life counter read over PJL
before and after the job (our PJL printer simulator on 127.0.0.1, which prints a
job's form feeds as pages and counts them), with CUPS' real socket backend."""

from __future__ import annotations

import contextlib
import io
import subprocess
import sys
import threading
import time
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path

import pytest

from pagetally.core.models import LimitBy, PriceTable, Printer, User
from pagetally.cups.backend import BackendEnv, run
from pagetally.storage import StoreSettings, open_store
from tests.devices.pjlsim import LOAD_PAPER, PRINTING, WARMUP, PjlSim
from tests.fixtures_devices import SnmpSimAgent

pytestmark = pytest.mark.slow

FAST = "statusstabilizationloops: 1\nstatusstabilizationdelay: 0.05\nnoprintingmaxdelay: 5\n"


def backend(
    tmp: Path,
    sim: PjlSim,
    accounter: str,
    data: bytes,
    job: str,
    extra: str = "",
    timing: str = FAST,
) -> tuple[int, str]:
    conf = tmp / "pagetally.conf"
    conf.write_text(
        f"[global]\nstoragebackend: sqlite\nstoragename: {tmp / 'p.db'}\n"
        f"directory: {tmp / 'spool'}\n[lab]\naccounter: {accounter}\n{timing}{extra}"
    )
    environ = {
        "DEVICE_URI": f"pagetally:socket://{sim.host}:{sim.port}",
        "PRINTER": "lab",
        "CUPS_SERVERBIN": "/usr/lib/cups",
        "TMPDIR": str(tmp),
        "PATH": "/usr/bin:/bin",
    }
    err = io.StringIO()
    argv = ["pagetally", job, "alice", "t", "1", f"job-uuid=urn:uuid:{job}"]
    code = run(
        BackendEnv(
            argv,
            environ,
            io.BytesIO(data),
            err,
            now=lambda: datetime(2026, 11, 24, tzinfo=UTC),
            config_path=str(conf),
        )
    )
    return code, err.getvalue()


def make_store(tmp: Path) -> object:
    store = open_store(StoreSettings(backend="sqlite", name=str(tmp / "p.db")))
    store.add_printer(Printer("lab", prices=PriceTable(per_page=Decimal("0.10"))))
    store.add_user(User("alice", limit_by=LimitBy.BALANCE, balance=Decimal("5")))
    store.set_user_quota("alice", "lab")
    return store


def test_pjl_counter_is_what_is_charged(tmp_path: Path) -> None:
    store = make_store(tmp_path)
    # the data says 2 pages (text: one form feed), the printer will print 4
    with PjlSim(500, seconds_per_page=0.05, pages_for=lambda _d: 4) as sim:
        code, err = backend(tmp_path, sim, f"hardware(pjl:{sim.port})", b"page 1\fpage 2", "1")
        assert code == 0, err
        assert sim.counter == 504
    [row] = list(store.history())  # type: ignore[attr-defined]
    assert (row.pages, row.precomputed_pages, row.printer_counter) == (4, 2, 500)
    assert row.price == Decimal("0.4")
    assert store.get_user("alice").balance == Decimal("4.6")  # type: ignore[attr-defined]


def test_printer_lying_idle_is_charged_every_page_even_with_one_loop(tmp_path: Path) -> None:
    """FAST has 1 stabilisation loop: no window at all. A printer that says idle
    while printing was taken as done after its first page (1 charged of 8); now
    its pace, learnt from its counter, keeps the wait going to the last page."""
    store = make_store(tmp_path)
    with PjlSim(500, seconds_per_page=0.15, lies_idle=True) as sim:
        code, err = backend(tmp_path, sim, f"hardware(pjl:{sim.port})", b"p\f" * 8, "5")
        assert code == 0, err
        assert sim.counter == 508  # printed whole before the backend returned
    [row] = list(store.history())  # type: ignore[attr-defined]
    assert (row.pages, row.printer_counter) == (8, 500)
    assert err.count("says idle but its counter moved") <= 2  # when seen + summary, not per page


def test_paper_out_longer_than_noprintingmaxdelay_does_not_make_the_job_free(
    tmp_path: Path,
) -> None:
    """A printer that says idle while printing, its tray empty: it takes the job,
    warms up 0.5 s (saying idle: the no-printing delay of 2 s starts), then says
    LOAD PAPER for 3 s. An error is not 'never started': the delay stops and
    restarts from zero when paper is back, so the first page (0.5 s later) is
    seen, and all 3 pages are charged. (Counting the error as quiet time would
    give up at the first idle reading after the paper is back: 0 pages.)"""
    store = make_store(tmp_path)
    timing = "statusstabilizationloops: 2\nstatusstabilizationdelay: 0.1\nnoprintingmaxdelay: 2\n"
    with PjlSim(500, seconds_per_page=0.5, warmup=0.5, lies_idle=True) as sim:
        sim.load_paper(0)

        def put_paper_back() -> None:
            if sim.wait_paper_needed(timeout=60):
                time.sleep(3.0)  # a lower bound: a loaded machine only makes it longer
            sim.paper_out(out=False)

        helper = threading.Thread(target=put_paper_back)
        helper.start()
        code, err = backend(
            tmp_path, sim, f"hardware(pjl:{sim.port})", b"p\fp\fp\f", "8", timing=timing
        )
        helper.join()
        assert code == 0, err
        assert sim.counter == 503
    [row] = list(store.history())  # type: ignore[attr-defined]
    assert (row.pages, row.price) == (3, Decimal("0.3"))
    assert "LOAD PAPER" in err
    assert "did not start printing" not in err


def test_paper_out_for_longer_than_errormaxdelay_charges_what_was_printed(
    tmp_path: Path,
) -> None:
    """Two sheets in the tray for a 5-page job, nobody refills it: after errormaxdelay
    the backend gives up waiting and charges the 2 pages the counter shows."""
    store = make_store(tmp_path)
    with PjlSim(500, seconds_per_page=0.05) as sim:
        sim.load_paper(2)
        code, err = backend(
            tmp_path, sim, f"hardware(pjl:{sim.port})", b"p\f" * 5, "9", "errormaxdelay: 1\n"
        )
        assert code == 0, err
        assert sim.counter == 502
    [row] = list(store.history())  # type: ignore[attr-defined]
    assert (row.pages, row.printer_counter) == (2, 500)
    assert "printer stalled: charged 2 printed" in err


def test_unreadable_counter_stops_the_queue_by_default(tmp_path: Path) -> None:
    make_store(tmp_path)
    with PjlSim(500) as sim:
        # PJL on a port where nothing answers
        code, err = backend(
            tmp_path, sim, "hardware(pjl:1)", b"page 1\fpage 2", "2", "unreachablemaxdelay: 1\n"
        )
    assert code == 4, err  # CUPS_BACKEND_STOP: nothing printed, the job is kept
    assert "cannot read the printer's counter" in err
    assert sim.counter == 500


def test_unreadable_counter_with_continue_charges_the_software_count(tmp_path: Path) -> None:
    store = make_store(tmp_path)
    with PjlSim(500, seconds_per_page=0.01) as sim:
        code, err = backend(
            tmp_path,
            sim,
            "hardware(pjl:1)",
            b"page 1\fpage 2",
            "3",
            "unreachablemaxdelay: 1\nonaccountererror: continue\n",
        )
        assert code == 0, err
    [row] = list(store.history())  # type: ignore[attr-defined]
    assert (row.pages, row.price) == (2, Decimal("0.2"))


def test_bad_snmperrormask_stops_the_queue_with_one_line(tmp_path: Path) -> None:
    make_store(tmp_path)
    with PjlSim(500) as sim:
        code, err = backend(
            tmp_path, sim, f"hardware(pjl:{sim.port})", b"page 1", "4", "snmperrormask: lots\n"
        )
    assert code == 4, err  # CUPS_BACKEND_STOP: the job is kept
    assert "configuration error: [snmperrormask] snmperrormask 'lots' is not" in err
    assert sim.jobs == []


SNMP_DEVICE = """#!{python}
import sys
from pagetally.devices import snmp
sys.stdin.buffer.read()
target = snmp.SnmpTarget("127.0.0.1", {port}, community="printer")
before = int(snmp.snmp_get(target, [snmp.PAGE_COUNTER_OID])[snmp.PAGE_COUNTER_OID])
snmp.snmp_set(target, snmp.PAGE_COUNTER_OID, before + {pages}, "counter32")
print("INFO: printed {pages} pages", file=sys.stderr)
"""


def test_snmp_counter_is_what_is_charged(tmp_path: Path, snmp_printer: SnmpSimAgent) -> None:
    """The device 'prints' 3 pages by moving the agent's life counter forward;
    the job's data says 2: the charge is the printer's 3."""
    import stat
    import sys

    store = make_store(tmp_path)
    port = snmp_printer.target.port
    serverbin = tmp_path / "serverbin"
    (serverbin / "backend").mkdir(parents=True)
    dev = serverbin / "backend" / "socket"
    dev.write_text(SNMP_DEVICE.format(python=sys.executable, port=port, pages=3))
    dev.chmod(stat.S_IRWXU)
    conf = tmp_path / "pagetally.conf"
    conf.write_text(
        f"[global]\nstoragebackend: sqlite\nstoragename: {tmp_path / 'p.db'}\n"
        f"directory: {tmp_path / 'spool'}\n[lab]\n"
        f"accounter: hardware(snmp:printer:{port})\n{FAST}"
    )
    environ = {
        "DEVICE_URI": "pagetally:socket://127.0.0.1:9100",
        "PRINTER": "lab",
        "CUPS_SERVERBIN": str(serverbin),
        "TMPDIR": str(tmp_path),
        "PATH": "/usr/bin:/bin",
        "PYTHONPATH": str(Path(__file__).parents[2]),
    }
    err = io.StringIO()
    argv = ["pagetally", "7", "alice", "t", "1", "job-uuid=urn:uuid:7"]
    code = run(
        BackendEnv(
            argv,
            environ,
            io.BytesIO(b"page 1\fpage 2"),
            err,
            now=lambda: datetime(2026, 11, 24, tzinfo=UTC),
            config_path=str(conf),
        )
    )
    assert code == 0, err.getvalue()
    [row] = list(store.history())  # type: ignore[attr-defined]
    assert (row.pages, row.precomputed_pages, row.printer_counter) == (3, 2, 1000)
    assert store.get_user("alice").balance == Decimal("4.7")  # type: ignore[attr-defined]


RUN_ONE = """
import contextlib, sys
from datetime import UTC, datetime
import pagetally.devices.lock
from pagetally.cups.backend import BackendEnv, run
conf, queue, job, host, port, tmp, lock = sys.argv[1:8]
if lock == "no-op":  # the proof: without the per-printer lock, counts mix
    pagetally.devices.lock.printer_lock = lambda *a, **k: contextlib.nullcontext()
environ = {{"DEVICE_URI": f"pagetally:socket://{{host}}:{{port}}", "PRINTER": queue,
           "CUPS_SERVERBIN": "/usr/lib/cups", "TMPDIR": tmp, "PATH": "/usr/bin:/bin"}}
argv = ["pagetally", job, "alice", "t", "1", f"job-uuid=urn:uuid:{{job}}"]
print("ready", flush=True)  # imported; the job (stdin) is the signal to go
sys.exit(run(BackendEnv(argv, environ, sys.stdin.buffer, sys.stderr,
                        now=lambda: datetime.now(UTC), config_path=conf)))
"""
# stable = the same counter for (3 - 1) x 0.3 s: twelve times a page (0.05 s), so
# a printer that says idle while printing is still caught between two pages on a
# loaded machine
SHARED = "statusstabilizationloops: 3\nstatusstabilizationdelay: 0.3\nnoprintingmaxdelay: 60\n"
BUSY = "busy with another queue's job"


class Backend:
    """One backend process for one queue; its stderr read as it comes."""

    def __init__(self, argv: list[str], cwd: Path, busy: threading.Event) -> None:
        self.proc = subprocess.Popen(
            argv, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE, cwd=cwd
        )
        self.lines: list[str] = []
        self.busy = busy
        self.reader = threading.Thread(target=self._read, daemon=True)
        self.reader.start()

    def _read(self) -> None:
        assert self.proc.stderr is not None
        for raw in self.proc.stderr:
            line = raw.decode(errors="replace")
            self.lines.append(line)
            if BUSY in line:
                self.busy.set()

    def ready(self) -> None:
        assert self.proc.stdout is not None
        assert self.proc.stdout.readline() == b"ready\n", "".join(self.lines)

    def send(self, data: bytes) -> None:
        assert self.proc.stdin is not None
        self.proc.stdin.write(data)
        self.proc.stdin.close()

    def finish(self) -> str:
        self.proc.wait(timeout=120)
        self.reader.join(timeout=10)
        err = "".join(self.lines)
        assert self.proc.returncode == 0, err
        return err


class SnmpMirror:
    """Shows a PjlSim's counter and state through the snmpsim agent (SNMP SETs), so
    one printer that takes jobs on its socket is counted over SNMP."""

    def __init__(self, sim: PjlSim, agent: SnmpSimAgent) -> None:
        self.sim, self.agent = sim, agent
        self.shown: tuple[int, int] | None = None
        self.stop = threading.Event()
        self._copy()
        self.thread = threading.Thread(target=self._run, daemon=True)
        self.thread.start()

    def _copy(self) -> None:
        now = (self.sim.counter, self.sim.code)
        if now == self.shown:
            return
        counter, code = now
        self.agent.set_counter(counter)
        if code == LOAD_PAPER:
            self.agent.set_status(printer=1, device=3, errors=b"\x40\x00")
        else:  # hrPrinterStatus 4 printing, 3 idle
            self.agent.set_status(printer=4 if code in (PRINTING, WARMUP) else 3)
        self.shown = now

    def _run(self) -> None:
        while not self.stop.wait(0.02):
            self._copy()

    def close(self) -> None:
        self.stop.set()
        self.thread.join(timeout=10)


@pytest.mark.parametrize(
    ("source", "lies_idle", "lock"),
    [
        ("pjl", False, "real"),
        ("pjl", True, "real"),
        ("pjl", True, "no-op"),
        ("snmp", True, "real"),
        ("snmp", True, "no-op"),
    ],
    ids=[
        "pjl-honest-printer",
        "pjl-printer-lying-idle",
        "pjl-lying-printer-without-lock-mixes",
        "snmp-printer-lying-idle",
        "snmp-lying-printer-without-lock-mixes",
    ],
)
def test_two_queues_on_one_printer(
    tmp_path: Path, request: pytest.FixtureRequest, source: str, lies_idle: bool, lock: str
) -> None:
    """Queues lab1 (6 pages) and lab2 (10 pages) on one printer (its counter read
    over PJL, or over SNMP from an snmpsim agent mirroring it), two backend
    processes started together. The printer buffers jobs and starts paused: its
    engine runs once it holds both jobs, or once a backend says it waits for the
    printer's lock. With the lock, one queue reads the counter before and after its
    job while the other waits: each pays its own pages. With the lock replaced by
    a no-op (the proof that it is what keeps them apart), a printer saying idle
    lets both queues read 500 before either job prints, and then each is charged
    pages of the other's job (16 each). An honest printer says printing while it
    holds a job, so without the lock the idle wait alone mostly keeps queues
    apart (all but the moment between one queue's reading and its job reaching
    the printer): that case cannot be forced and is not run."""
    store = open_store(StoreSettings(backend="sqlite", name=str(tmp_path / "p.db")))
    for queue in ("lab1", "lab2"):
        store.add_printer(Printer(queue, prices=PriceTable(per_page=Decimal("0.10"))))
    store.add_user(User("alice", limit_by=LimitBy.BALANCE, balance=Decimal("5")))
    for queue in ("lab1", "lab2"):
        store.set_user_quota("alice", queue)
    conf = tmp_path / "pagetally.conf"
    script = tmp_path / "run_one.py"
    script.write_text(RUN_ONE.format())
    busy = threading.Event()
    with contextlib.ExitStack() as stack:
        sim = stack.enter_context(PjlSim(500, seconds_per_page=0.05, lies_idle=lies_idle))
        sim.pause()
        spec = f"pjl:{sim.port}"
        if source == "snmp":
            agent = request.getfixturevalue("snmp_printer")
            stack.callback(SnmpMirror(sim, agent).close)
            spec = f"snmp:printer:{agent.target.port}"
        conf.write_text(
            f"[global]\nstoragebackend: sqlite\nstoragename: {tmp_path / 'p.db'}\n"
            f"directory: {tmp_path / 'spool'}\n"
            f"accounter: hardware({spec})\n{SHARED}"
        )
        jobs = {("lab1", "11"): b"p\f" * 6, ("lab2", "12"): b"p\f" * 10}
        backends = [
            (
                Backend(
                    [
                        sys.executable,
                        str(script),
                        str(conf),
                        queue,
                        job,
                        sim.host,
                        str(sim.port),
                        str(tmp_path),
                        lock,
                    ],
                    Path(__file__).parents[2],
                    busy,
                ),
                data,
            )
            for (queue, job), data in jobs.items()
        ]
        for backend, _ in backends:
            backend.ready()
        for backend, data in backends:
            backend.send(data)
        deadline = time.monotonic() + 60
        while not (sim.wait_jobs(2, timeout=0.05) or busy.is_set()):
            assert time.monotonic() < deadline, [b.lines for b, _ in backends]
        held_both = len(sim.jobs) == 2
        sim.resume()
        errs = [backend.finish() for backend, _ in backends]
        sim.wait_idle()
        printed = sim.counter
    rows = {r.printer: r for r in store.history()}
    pages = {q: rows[q].pages for q in rows}
    before = sorted(rows[q].printer_counter for q in rows)
    assert printed == 500 + 6 + 10
    if lock == "real":
        assert pages == {"lab1": 6, "lab2": 10}
        assert any(BUSY in err for err in errs)  # the second queue did wait
        # one read the counter after the other's job: 500 then 506, or 500 then 510
        assert before in ([500, 506], [500, 510])
        assert store.get_user("alice").balance == Decimal("3.4")
    else:
        assert held_both and not busy.is_set()
        assert before == [500, 500]  # both read the counter before either job printed
        assert pages != {"lab1": 6, "lab2": 10}  # so one was charged the other's pages
        assert store.get_user("alice").balance != Decimal("3.4")


@pytest.mark.parametrize(
    ("physical", "mixes"),
    [({}, False), ({"lab1": "hp-a", "lab2": "hp-b"}, True)],
    ids=["address-and-name-are-one-printer", "two-identities-mix-as-two-host-keys-did"],
)
def test_two_queues_by_address_and_by_name_do_not_mix(
    tmp_path: Path, physical: dict[str, str], mixes: bool
) -> None:
    """lab1 prints to socket://127.0.0.1:PORT, lab2 to socket://localhost:PORT: one
    printer (saying idle while printing, as in test_two_queues_on_one_printer).
    The lock is the printer's, from the resolved address, so each queue pays its
    own pages. The proof: when the queues are told they are two printers
    (physicalprinter hp-a / hp-b — what keying the lock by the URI's host did),
    both read the counter before either job prints and the counts mix."""
    store = open_store(StoreSettings(backend="sqlite", name=str(tmp_path / "p.db")))
    store.add_user(User("alice", limit_by=LimitBy.BALANCE, balance=Decimal("5")))
    for queue in ("lab1", "lab2"):
        store.add_printer(Printer(queue, prices=PriceTable(per_page=Decimal("0.10"))))
        store.set_user_quota("alice", queue)
    script = tmp_path / "run_one.py"
    script.write_text(RUN_ONE.format())
    busy = threading.Event()
    with PjlSim(500, seconds_per_page=0.05, lies_idle=True) as sim:
        sim.pause()
        conf = tmp_path / "pagetally.conf"
        conf.write_text(
            f"[global]\nstoragebackend: sqlite\nstoragename: {tmp_path / 'p.db'}\n"
            f"directory: {tmp_path / 'spool'}\naccounter: hardware(pjl:{sim.port})\n{SHARED}"
            + "".join(f"[{q}]\nphysicalprinter: {name}\n" for q, name in physical.items())
        )
        jobs = [("lab1", "21", "127.0.0.1", 6), ("lab2", "22", "localhost", 10)]
        backends = [
            Backend(
                [
                    sys.executable,
                    str(script),
                    str(conf),
                    queue,
                    job,
                    host,
                    str(sim.port),
                    str(tmp_path),
                    "real",
                ],
                Path(__file__).parents[2],
                busy,
            )
            for queue, job, host, _ in jobs
        ]
        for b in backends:
            b.ready()
        for b, (_q, _j, _h, pages) in zip(backends, jobs, strict=True):
            b.send(b"p\f" * pages)
        deadline = time.monotonic() + 60
        while not (sim.wait_jobs(2, timeout=0.05) or busy.is_set()):
            assert time.monotonic() < deadline, [b.lines for b in backends]
        sim.resume()
        errs = [b.finish() for b in backends]
        sim.wait_idle()
        assert sim.counter == 516
    rows = {r.printer: r for r in store.history()}
    pages = {q: r.pages for q, r in rows.items()}
    if mixes:
        assert not busy.is_set()
        assert sorted(r.printer_counter for r in rows.values()) == [500, 500]
        assert pages != {"lab1": 6, "lab2": 10}
    else:
        assert pages == {"lab1": 6, "lab2": 10}
        assert any(BUSY in err for err in errs)  # the second queue did wait
        assert sorted(r.printer_counter for r in rows.values()) in ([500, 506], [500, 510])
        assert store.get_user("alice").balance == Decimal("3.4")
        assert not any("lock is keyed by the name" in err for err in errs)  # both resolved
