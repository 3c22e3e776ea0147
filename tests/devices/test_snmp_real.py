"""SNMP against a real agent: snmpsim simulating a printer on 127.0.0.1."""

from __future__ import annotations

import threading
import time

import pytest

from pagetally.devices import (
    CounterNotSupported,
    PrinterStalled,
    PrinterState,
    Timing,
    counter_after,
    counter_before,
)
from pagetally.devices.factory import accounter_from_directive
from pagetally.devices.snmp import PAGE_COUNTER_OID, SnmpAccounter, SnmpTarget, snmp_get
from pagetally.errors import DeviceError
from tests.fixtures_devices import SnmpSimAgent, free_port

pytestmark = pytest.mark.slow

FAST = Timing(stabilization_loops=3, stabilization_delay=0.1, no_printing_max_delay=1.5)


def test_read_counter_and_status(snmp_printer: SnmpSimAgent) -> None:
    reading = SnmpAccounter(snmp_printer.target).read()
    assert (reading.counter, reading.state) == (1000, PrinterState.IDLE)
    assert "printer idle, device running" in reading.detail


def test_set_and_read_back(snmp_printer: SnmpSimAgent) -> None:
    snmp_printer.set_counter(123_456)
    snmp_printer.set_status(printer=4, device=2)
    reading = SnmpAccounter(snmp_printer.target).read()
    assert (reading.counter, reading.state) == (123_456, PrinterState.PRINTING)


def test_error_state_bits_over_the_wire(snmp_printer: SnmpSimAgent) -> None:
    snmp_printer.set_status(printer=1, device=3, errors=b"\x48\x00")
    reading = SnmpAccounter(snmp_printer.target).read()
    assert reading.state is PrinterState.ERROR
    assert reading.detail == "No Paper, Door Open"
    snmp_printer.set_status(printer=3, device=3, errors=b"\x20\x00")  # low toner only
    assert SnmpAccounter(snmp_printer.target).read().state is PrinterState.IDLE


def test_wrong_community_or_no_agent_is_a_device_error(snmp_printer: SnmpSimAgent) -> None:
    for target in (
        SnmpTarget("127.0.0.1", snmp_printer.target.port, "nosuch", timeout=0.3, retries=0),
        SnmpTarget("127.0.0.1", free_port(), "printer", timeout=0.3, retries=0),
    ):
        start = time.monotonic()
        with pytest.raises(DeviceError, match=r"SNMP 127\.0\.0\.1"):
            SnmpAccounter(target).read()
        assert time.monotonic() - start < 3


def test_missing_counter_object_is_not_supported(snmp_printer: SnmpSimAgent) -> None:
    values = snmp_get(snmp_printer.target, ["1.3.6.1.2.1.43.10.2.1.4.1.9", PAGE_COUNTER_OID])
    assert values == {"1.3.6.1.2.1.43.10.2.1.4.1.9": None, PAGE_COUNTER_OID: 1000}

    acc = SnmpAccounter(snmp_printer.target, counter_oid="1.3.6.1.2.1.43.10.2.1.4.1.9")
    with pytest.raises(CounterNotSupported, match=r"no page counter at 1\.3\.6\.1\.2\.1\.43\."):
        acc.read()
    with pytest.raises(CounterNotSupported):  # at once, not after unreachablemaxdelay
        counter_before(acc, FAST)


def _print(agent: SnmpSimAgent, pages: int, per_page: float, *, lie: bool = False) -> None:
    """The simulated printer's engine: printing status, counter steps, then idle."""
    time.sleep(0.3)
    agent.set_status(printer=3 if lie else 4)
    start = agent.read()[PAGE_COUNTER_OID]
    assert isinstance(start, int)
    for page in range(1, pages + 1):
        time.sleep(per_page)
        agent.set_counter(start + page)
    agent.set_status(printer=3)


def test_job_accounted_before_and_after(snmp_printer: SnmpSimAgent) -> None:
    acc = SnmpAccounter(snmp_printer.target)
    before = counter_before(acc, FAST)
    engine = threading.Thread(target=_print, args=(snmp_printer, 4, 0.1))
    engine.start()
    count = counter_after(acc, before, FAST)
    engine.join()
    assert (count.before, count.after, count.pages, count.started) == (1000, 1004, 4, True)


def test_counter32_wrap(snmp_printer: SnmpSimAgent) -> None:
    snmp_printer.set_counter(2**32 - 2)
    acc = SnmpAccounter(snmp_printer.target)
    before = counter_before(acc, FAST)
    snmp_printer.set_counter(3)
    count = counter_after(acc, before, FAST)
    assert count.pages == 5
    assert any("wrapped at 4294967295" in n for n in count.notes)


def test_paper_out_then_printing(snmp_printer: SnmpSimAgent) -> None:
    acc = SnmpAccounter(snmp_printer.target)
    before = counter_before(acc, FAST)
    snmp_printer.set_status(printer=1, device=3, errors=b"\x40\x00")  # no paper

    def put_paper_back() -> None:
        time.sleep(3.0)  # twice noprintingmaxdelay
        snmp_printer.set_status(printer=3)
        _print(snmp_printer, 2, 0.1)

    engine = threading.Thread(target=put_paper_back)
    engine.start()
    count = counter_after(acc, before, FAST)
    engine.join()
    assert count.pages == 2
    assert any("No Paper" in n for n in count.notes)


def test_paper_out_for_too_long_raises_with_last_counter(snmp_printer: SnmpSimAgent) -> None:
    acc = SnmpAccounter(snmp_printer.target)
    snmp_printer.set_counter(1002)
    snmp_printer.set_status(printer=1, device=3, errors=b"\x40\x00")
    timing = Timing(stabilization_loops=3, stabilization_delay=0.1, error_max_delay=1.0)
    with pytest.raises(PrinterStalled) as info:
        counter_after(acc, 1000, timing)
    assert info.value.last_counter == 1002
    assert "No Paper" in str(info.value)


def test_read_time(snmp_printer: SnmpSimAgent) -> None:
    """One reading (four objects, one GET) stays well under 100 ms on loopback."""
    acc = SnmpAccounter(snmp_printer.target)
    acc.read()  # pysnmp imported
    start = time.perf_counter()
    for _ in range(10):
        acc.read()
    per_read = (time.perf_counter() - start) / 10
    print(f"SNMP read: {per_read * 1000:.1f} ms")
    assert per_read < 0.1


def test_snmp_v1_reads_and_survives_a_missing_object(snmp_printer: SnmpSimAgent) -> None:
    v1 = SnmpTarget("127.0.0.1", snmp_printer.target.port, "printer", version="1", timeout=0.5)
    reading = SnmpAccounter(v1).read()
    assert (reading.counter, reading.state) == (1000, PrinterState.IDLE)
    missing = "1.3.6.1.2.1.43.10.2.1.4.1.9"
    assert snmp_get(v1, [missing, PAGE_COUNTER_OID]) == {missing: None, PAGE_COUNTER_OID: 1000}
    with pytest.raises(CounterNotSupported):
        SnmpAccounter(v1, counter_oid=missing).read()


def test_directive_community_and_port_reach_the_agent(snmp_printer: SnmpSimAgent) -> None:
    """`hardware(snmp:COMMUNITY:PORT)`: snmpsim listens on a free port, not 161."""
    port = snmp_printer.target.port
    assert port != 161
    snmp_printer.set_counter(4242)
    acc = accounter_from_directive(f"snmp:printer:{port}", "127.0.0.1", timeout=5.0)
    assert (acc.read().counter, acc.name) == (4242, f"snmp://127.0.0.1:{port}")
    wrong = accounter_from_directive(f"snmp:public:{port}", "127.0.0.1", timeout=0.3)
    with pytest.raises(DeviceError):  # the agent answers the community 'printer' only
        wrong.read()
