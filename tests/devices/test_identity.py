"""A physical printer's identity for its hardware lock: one printer reached by
address, by name, by port or scheme is one lock; a resolver that fails or hangs
falls back to the name, in bounded time, and says so."""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Iterator, Sequence
from pathlib import Path

import pytest

from pagetally.cups.accounting import HardwareCounting
from pagetally.devices.factory import host_from_device_uri
from pagetally.devices.lock import (
    RESOLVE_TIMEOUT,
    PrinterIdentity,
    Resolver,
    canonical_address,
    printer_identity,
    printer_lock,
    resolve_bounded,
    system_resolver,
)
from pagetally.errors import DeviceError


def ident(
    uri: str,
    *,
    resolver: Resolver = system_resolver,
    timeout: float = RESOLVE_TIMEOUT,
    explicit: str | None = None,
) -> PrinterIdentity:
    """The identity the backend gives a queue with this device URI."""
    return printer_identity(
        host_from_device_uri(uri),
        device_uri=uri,
        explicit=explicit,
        resolver=resolver,
        timeout=timeout,
    )


def excludes(a: PrinterIdentity, b: PrinterIdentity, lock_dir: Path) -> bool:
    """What a second queue sees: does holding a's lock keep b waiting?"""
    with printer_lock(a.keys, lock_dir):
        try:
            with printer_lock(b.keys, lock_dir, timeout=0.1, poll=0.02):
                return False
        except DeviceError:
            return True


DUAL_STACK = {
    "printer.example": ["10.0.0.5", "2001:db8::5", "10.0.0.5"],
    "other.example": ["10.0.0.6"],
}


def dual_stack(host: str) -> Sequence[str]:
    if host not in DUAL_STACK:
        raise socket.gaierror(socket.EAI_NONAME, "Name or service not known")
    return DUAL_STACK[host]


@pytest.mark.parametrize(
    ("text", "canonical"),
    [
        ("10.0.0.5", "10.0.0.5"),
        ("::FFFF:10.0.0.5", "10.0.0.5"),
        ("2001:DB8:0:0::5", "2001:db8::5"),
        ("[::1]", "::1"),
        ("printer.example", None),
        ("", None),
    ],
)
def test_canonical_address(text: str, canonical: str | None) -> None:
    assert canonical_address(text) == canonical


def test_localhost_and_its_address_are_one_printer_here(tmp_path: Path) -> None:
    """This machine's resolver: localhost is 127.0.0.1 (/etc/hosts), whatever the
    scheme, port or case of the URI."""
    by_address = ident("socket://127.0.0.1:9100")
    by_name = ident("ipp://localhost/ipp/print")
    assert by_address == PrinterIdentity(("127.0.0.1",), "127.0.0.1")
    assert "127.0.0.1" in by_name.keys and "localhost" in by_name.keys
    assert not by_name.fallback
    assert ident("ipps://LOCALHOST.:631/ipp/print").keys == by_name.keys
    assert excludes(by_address, by_name, tmp_path)
    assert excludes(by_name, by_address, tmp_path)


def test_ipv6_loopback_as_this_machine_resolves_it(tmp_path: Path) -> None:
    """[::1] is its own address; it is localhost's printer only where localhost
    resolves to ::1 too (Debian's usual /etc/hosts; not this container's)."""
    v6 = ident("ipp://[::1]/ipp/print")
    assert v6.keys == ("::1",) and not v6.fallback
    localhost_v6 = "::1" in {i[4][0] for i in socket.getaddrinfo("localhost", None)}
    assert excludes(v6, ident("ipp://localhost/ipp/print"), tmp_path) == localhost_v6
    assert not excludes(v6, ident("socket://127.0.0.1:9100"), tmp_path)


@pytest.mark.parametrize(
    "uri",
    [
        "socket://10.0.0.5:9100",
        "ipps://[2001:DB8:0::5]:443/ipp/print",
        "lpd://Printer.Example./queue",
        "hp:/net/HP_LaserJet?ip=10.0.0.5",
        "socket://[::ffff:10.0.0.5]:9101",
    ],
)
def test_one_dual_stack_printer_by_any_way_is_one_lock(uri: str, tmp_path: Path) -> None:
    by_name = ident("ipp://printer.example/ipp/print", resolver=dual_stack)
    assert by_name.keys == ("10.0.0.5", "2001:db8::5", "printer.example")
    assert excludes(by_name, ident(uri, resolver=dual_stack), tmp_path)
    assert excludes(ident(uri, resolver=dual_stack), by_name, tmp_path)


def test_two_printers_are_two_locks(tmp_path: Path) -> None:
    one = ident("ipp://printer.example/ipp/print", resolver=dual_stack)
    for other in ("ipp://other.example/", "socket://10.0.0.7:9100", "usb://HP/LaserJet"):
        assert not excludes(one, ident(other, resolver=dual_stack), tmp_path)


def test_unresolvable_name_falls_back_to_the_name(tmp_path: Path) -> None:
    lost = ident("socket://Nowhere.Example:9100", resolver=dual_stack)
    assert lost.keys == ("nowhere.example",)
    assert lost.fallback == "cannot resolve nowhere.example: [Errno -2] Name or service not known"
    # the same name in another queue is still the same printer
    assert excludes(lost, ident("ipp://nowhere.example/ipp/print", resolver=dual_stack), tmp_path)
    empty = ident("ipp://empty.example/", resolver=lambda _h: [])
    assert empty.keys == ("empty.example",)
    assert empty.fallback == "empty.example resolves to no address"


def test_unresolvable_name_with_the_system_resolver() -> None:
    start = time.monotonic()
    lost = ident("ipp://no-such-printer.invalid/ipp/print", timeout=2.0)
    assert time.monotonic() - start < 3.0
    assert lost.keys == ("no-such-printer.invalid",) and lost.fallback


@pytest.fixture
def hung() -> Iterator[threading.Event]:
    """A resolver that never answers until the test is over."""
    release = threading.Event()
    yield release
    release.set()


def test_hung_resolver_is_bounded(hung: threading.Event) -> None:
    def resolver(host: str) -> Sequence[str]:
        hung.wait(30)
        return ["10.0.0.5"]

    start = time.monotonic()
    lost = ident("socket://printer.example:9100", resolver=resolver, timeout=0.3)
    elapsed = time.monotonic() - start
    assert 0.3 <= elapsed < 2.0
    assert lost.keys == ("printer.example",)
    assert lost.fallback == (
        "cannot resolve printer.example: no answer from the resolver within 0.3 s"
    )
    with pytest.raises(TimeoutError):
        resolve_bounded("printer.example", resolver, 0.05)


def test_explicit_physical_printer_wins(tmp_path: Path) -> None:
    a = ident("socket://192.0.2.10:9100", explicit=" Lab-HP4250 ")
    b = ident("ipp://[2001:db8::99]/ipp/print", explicit="lab-hp4250")
    assert a == PrinterIdentity(("lab-hp4250",), "Lab-HP4250")
    assert excludes(a, b, tmp_path)
    assert not excludes(a, ident("socket://192.0.2.10:9100"), tmp_path)


def test_waiting_for_several_locks_is_said_once_and_bounded(tmp_path: Path) -> None:
    """A queue holding {a, b} keeps one wanting {b, c} waiting (a then c are
    taken in one order by everyone: no deadlock); its wait is said once."""
    told: list[str] = []
    with printer_lock(["a", "b"], tmp_path), pytest.raises(DeviceError, match="for more than"):
        with printer_lock(
            ["c", "b"], tmp_path, timeout=0.2, poll=0.02, on_wait=told.append, name="lab printer"
        ):
            pass
    assert told == ["printer lab printer is busy with another queue's job; waiting for it"]
    with printer_lock(["c", "b"], tmp_path, timeout=0.2):  # all released
        pass


def test_crossed_orders_do_not_deadlock(tmp_path: Path) -> None:
    """Two queues asking for the same locks in opposite orders both get through."""
    done: list[str] = []

    def queue(keys: list[str], tag: str) -> None:
        for _ in range(20):
            with printer_lock(keys, tmp_path, timeout=10, poll=0.001):
                time.sleep(0.001)
        done.append(tag)

    threads = [
        threading.Thread(target=queue, args=(["x", "y", "z"], "1")),
        threading.Thread(target=queue, args=(["z", "y", "x"], "2")),
    ]
    for t in threads:
        t.start()
    for t in threads:
        t.join(20)
    assert sorted(done) == ["1", "2"]


SETTINGS = {
    "snmperrormask": "0x4FCC",
    "statusstabilizationloops": "1",
    "statusstabilizationdelay": "0.1",
    "noprintingmaxdelay": "5",
    "skipinitialwait": False,
    "errormaxdelay": "10",
    "unreachablemaxdelay": "5",
    "physicalprinter": None,
}


def counting(uri: str, lock_dir: Path, log: list[str], **settings: object) -> HardwareCounting:
    values = SETTINGS | settings
    return HardwareCounting(
        "pjl", uri, lock_dir, values.__getitem__, log.append, resolver=dual_stack
    )


def test_hardware_counting_locks_the_physical_printer(tmp_path: Path) -> None:
    """The backend's lock: queues by address and by name wait for each other; a
    fallback to the name is said in the job's log; physicalprinter is obeyed."""
    log: list[str] = []
    by_name = counting("ipp://printer.example/ipp/print", tmp_path, log).identity()
    with counting("socket://10.0.0.5:9100", tmp_path, log).lock():
        with pytest.raises(DeviceError, match=r"printer printer\.example is busy"):
            with printer_lock(by_name.keys, tmp_path, timeout=0.1, name=by_name.name):
                pass
    assert log == []  # resolved: nothing to say
    lost = counting("socket://nowhere.example:9100", tmp_path, log)
    with lost.lock():
        pass
    assert log == [
        "PageTally: cannot resolve nowhere.example: [Errno -2] Name or service "
        "not known; the printer's lock is keyed by the name 'nowhere.example'"
    ]
    named = counting("socket://nowhere.example:9100", tmp_path, log, physicalprinter="lab-hp4250")
    assert named.identity().keys == ("lab-hp4250",)
    assert len(log) == 1  # a configured name is no fallback
