"""Accounters from PyKota-style directives; the per-printer lock."""

from __future__ import annotations

import threading
import time
from pathlib import Path

import pytest

from pagetally.devices.external import ExternalAccounter
from pagetally.devices.factory import (
    accounter_from_directive,
    host_from_device_uri,
    snmp_community_port,
)
from pagetally.devices.lock import lock_path, printer_lock
from pagetally.devices.pjl import PjlAccounter
from pagetally.devices.snmp import SnmpAccounter
from pagetally.errors import ConfigError, DeviceError
from tests.polling import wait_until


@pytest.mark.parametrize(
    ("uri", "host"),
    [
        ("socket://10.0.0.5:9100", "10.0.0.5"),
        ("ipp://user@printer.example:631/ipp/print", "printer.example"),
        ("ipps://[fe80::1]/ipp/print", "fe80::1"),
        ("lpd://lpd.example/queue", "lpd.example"),
        ("hp:/net/HP_LaserJet_4000?ip=10.1.2.3", "10.1.2.3"),
        ("socket://Printer.Example:9100", "printer.example"),  # host names are case-blind
        ("usb://HP/LaserJet?serial=1", None),
        ("parallel:/dev/lp0", None),
        ("file:///dev/null", None),
    ],
)
def test_host_from_device_uri(uri: str, host: str | None) -> None:
    assert host_from_device_uri(uri) == host


def test_snmp_directive() -> None:
    acc = accounter_from_directive("snmp:secret", "10.0.0.5", snmp_version="1")
    assert isinstance(acc, SnmpAccounter)
    assert (acc.target.host, acc.target.community, acc.target.version) == (
        "10.0.0.5",
        "secret",
        "1",
    )
    default = accounter_from_directive("SNMP", "10.0.0.5")
    assert isinstance(default, SnmpAccounter) and default.target.community == "public"


@pytest.mark.parametrize(
    ("arg", "community", "port"),
    [
        ("", "public", 161),
        ("secret", "secret", 161),
        ("secret:1161", "secret", 1161),
        (":1161", "public", 1161),
        ("1234", "1234", 161),  # one part: a community, as PyKota read it
        ("a:b:c", "a:b:c", 161),  # a community may hold colons
        ("a:b:16100", "a:b", 16100),
    ],
)
def test_snmp_community_and_port(arg: str, community: str, port: int) -> None:
    assert snmp_community_port(arg) == (community, port)
    acc = accounter_from_directive(f"snmp:{arg}", "10.0.0.5")
    assert isinstance(acc, SnmpAccounter)
    assert (acc.target.community, acc.target.port) == (community, port)


def test_snmp_bad_port() -> None:
    for arg in ("public:0", "public:70000"):
        with pytest.raises(ConfigError, match="bad SNMP port"):
            accounter_from_directive(f"snmp:{arg}", "10.0.0.5")


def test_pjl_directive() -> None:
    acc = accounter_from_directive("pjl", "10.0.0.5")
    assert isinstance(acc, PjlAccounter) and (acc.host, acc.port) == ("10.0.0.5", 9100)
    other = accounter_from_directive("pjl:9101", "10.0.0.5")
    assert isinstance(other, PjlAccounter) and other.port == 9101
    with pytest.raises(ConfigError, match="bad PJL port"):
        accounter_from_directive("pjl:x", "10.0.0.5")


def test_command_directive_is_split_not_shelled() -> None:
    acc = accounter_from_directive("/usr/local/bin/count --host '%(printer)s' 'a b'", "h; rm -rf /")
    assert isinstance(acc, ExternalAccounter)
    assert acc.argv == ["/usr/local/bin/count", "--host", "h; rm -rf /", "a b"]


def test_directives_needing_a_host() -> None:
    for spec in ("snmp", "pjl", "count {printer}"):
        with pytest.raises(ConfigError, match="device URI has no"):
            accounter_from_directive(spec, None)
    assert isinstance(accounter_from_directive("count --usb", None), ExternalAccounter)
    for bad in ("", "count 'unterminated"):
        with pytest.raises(ConfigError):
            accounter_from_directive(bad, "h")


def test_lock_path_is_safe_and_distinct(tmp_path: Path) -> None:
    a = lock_path(tmp_path, "../../etc/passwd")
    assert a.parent == tmp_path and "/" not in a.name
    assert lock_path(tmp_path, "a/b") != lock_path(tmp_path, "a_b")
    assert lock_path(tmp_path, "Printer") == lock_path(tmp_path, "printer")


def test_second_queue_waits_for_the_first(tmp_path: Path) -> None:
    events: list[str] = []
    told: list[str] = []
    first_holds = threading.Event()

    def first() -> None:
        with printer_lock("10.0.0.5", tmp_path):
            events.append("first in")
            first_holds.set()
            wait_until(lambda: told, "the second queue waits for the lock", timeout=5)
            events.append("first out")

    thread = threading.Thread(target=first)
    thread.start()
    first_holds.wait(5)
    with printer_lock("10.0.0.5", tmp_path, timeout=5, on_wait=told.append):
        events.append("second in")
    thread.join()
    assert events == ["first in", "first out", "second in"]
    assert told == ["printer 10.0.0.5 is busy with another queue's job; waiting for it"]
    with printer_lock("10.0.0.5", tmp_path, on_wait=told.append):  # free: nothing said
        pass
    assert len(told) == 1


def test_lock_timeout_and_other_printers_are_free(tmp_path: Path) -> None:
    with printer_lock("p1", tmp_path):
        with printer_lock("p2", tmp_path, timeout=0.2):
            pass
        start = time.monotonic()
        with (
            pytest.raises(DeviceError, match="busy with another queue"),
            printer_lock("p1", tmp_path, timeout=0.3),
        ):
            pass
        assert time.monotonic() - start >= 0.3
    with printer_lock("p1", tmp_path, timeout=0.2):  # released
        pass
