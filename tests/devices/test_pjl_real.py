"""PJL over real TCP, against our PJL printer simulator on 127.0.0.1."""

from __future__ import annotations

import socket
import threading
import time

import pytest

from pagetally.devices import PrinterState, Timing, counter_after, counter_before
from pagetally.devices.pjl import PjlAccounter, query
from pagetally.errors import DeviceError
from tests.devices.pjlsim import PjlSim
from tests.fixtures_devices import free_port

pytestmark = pytest.mark.slow  # a real TCP server (ours), real sockets

FAST = Timing(stabilization_loops=3, stabilization_delay=0.05, no_printing_max_delay=1.0)


def test_query_reads_counter_and_status(pjl_printer: PjlSim) -> None:
    status = query(pjl_printer.host, pjl_printer.port, timeout=2)
    assert (status.code, status.pagecount, status.display, status.complete) == (
        10001,
        1000,
        "READY",
        True,
    )
    reading = PjlAccounter(pjl_printer.host, pjl_printer.port).read()
    assert (reading.counter, reading.state) == (1000, PrinterState.IDLE)


def test_bare_pagecount_answer() -> None:
    with PjlSim(4321, bare_pagecount=True) as sim:
        assert PjlAccounter(sim.host, sim.port).read().counter == 4321


def test_job_accounted_before_and_after(pjl_printer: PjlSim) -> None:
    acc = PjlAccounter(pjl_printer.host, pjl_printer.port, timeout=2)
    before = counter_before(acc, FAST)
    pjl_printer.print_pages(7)
    count = counter_after(acc, before, FAST)
    assert (count.before, count.after, count.pages, count.started) == (1000, 1007, 7, True)


def test_real_job_over_the_socket_is_printed_and_counted(pjl_printer: PjlSim) -> None:
    acc = PjlAccounter(pjl_printer.host, pjl_printer.port, timeout=2)
    before = counter_before(acc, FAST)
    job = (
        b'\x1b%-12345X@PJL JOB NAME="t"\r\n@PJL ENTER LANGUAGE=PCL\r\n'
        b"\x1bEpage1\x0cpage2\x0cpage3\x0c\x1bE"
    )
    with socket.create_connection((pjl_printer.host, pjl_printer.port)) as sock:
        sock.sendall(job + b"\x1b%-12345X@PJL EOJ\r\n\x1b%-12345X")
    count = counter_after(acc, before, FAST)
    assert count.pages == 3
    assert len(pjl_printer.jobs) == 1


def test_printer_lying_idle_while_printing_is_counted_whole() -> None:
    # Stable means the same counter over (loops - 1) x delay = 0.3 s: longer than a page.
    timing = Timing(stabilization_loops=4, stabilization_delay=0.1, no_printing_max_delay=1.0)
    with PjlSim(500, seconds_per_page=0.05, lies_idle=True) as sim:
        acc = PjlAccounter(sim.host, sim.port, timeout=2)
        before = counter_before(acc, timing)
        sim.print_pages(5)
        count = counter_after(acc, before, timing)
        assert count.pages == 5
        assert any("says idle but its counter moved" in n for n in count.notes)


def test_paper_out_during_job_waits_and_counts_every_page() -> None:
    with PjlSim(200, seconds_per_page=0.05) as sim:
        acc = PjlAccounter(sim.host, sim.port, timeout=2)
        before = counter_before(acc, FAST)
        sim.paper_out()
        sim.print_pages(4)
        # Paper out for 3x noprintingmaxdelay: the job must not be taken as unprinted.
        threading.Timer(3.0, sim.paper_out, kwargs={"out": False}).start()
        notes: list[str] = []
        count = counter_after(acc, before, FAST, log=notes.append)
        assert count.pages == 4
        assert any("LOAD PAPER" in n or "41002" in n for n in notes)


def test_hp_power_cycle_during_job() -> None:
    with PjlSim(1005, seconds_per_page=0.05) as sim:
        acc = PjlAccounter(sim.host, sim.port, timeout=2)
        before = counter_before(acc, FAST)
        sim.power_cycle()  # back to 1000
        sim.print_pages(3)
        count = counter_after(acc, before, FAST)
        assert count.after == 1003
        assert count.pages == 8  # PyKota's rule: -2 + 10
        assert any("NVRAM" in n for n in count.notes)


def test_no_printer_listening_is_a_device_error() -> None:
    with pytest.raises(DeviceError, match=r"PJL 127\.0\.0\.1"):
        query("127.0.0.1", free_port(), timeout=1)


def test_silent_printer_times_out() -> None:
    server = socket.create_server(("127.0.0.1", 0))
    port = server.getsockname()[1]
    accepted: list[socket.socket] = []
    thread = threading.Thread(target=lambda: accepted.append(server.accept()[0]), daemon=True)
    thread.start()
    try:
        start = time.monotonic()
        with pytest.raises(DeviceError, match="no status"):
            query("127.0.0.1", port, timeout=0.5)
        assert time.monotonic() - start < 2
    finally:
        for conn in accepted:
            conn.close()
        server.close()


def test_warming_up_counts_as_started() -> None:
    """10003 (warming up) is printing: a long warm-up is not 'never started'."""
    timing = Timing(stabilization_loops=3, stabilization_delay=0.05, no_printing_max_delay=0.3)
    with PjlSim(10, seconds_per_page=0.05, warmup=1.0) as sim:
        acc = PjlAccounter(sim.host, sim.port, timeout=2)
        before = counter_before(acc, timing)
        sim.print_pages(2)
        count = counter_after(acc, before, timing)
        assert (count.pages, count.started) == (2, True)
        assert not any("did not start" in n for n in count.notes)
