"""SNMP status reading rules (PyKota's), without an agent."""

from __future__ import annotations

import pytest

from pagetally.devices import PrinterState
from pagetally.devices.snmp import (
    DEFAULT_ERROR_MASK,
    SnmpTarget,
    classify,
    error_bits,
    error_states,
    parse_error_mask,
)


def test_error_bits_first_octet_is_high_byte() -> None:
    assert error_bits(b"\x40\x00") == 0x4000
    assert error_bits(b"\x00\x04") == 0x0004
    assert error_bits(b"\x40") == 0x4000  # short value: missing octet is 0
    assert error_bits(b"") == 0
    assert error_states(b"\x48\x04") == ["No Paper", "Door Open", "Input Tray Empty"]


def test_default_mask_is_pykotas_list() -> None:
    names = error_states(DEFAULT_ERROR_MASK.to_bytes(2, "big"))
    assert names == [
        "No Paper",
        "Door Open",
        "Jammed",
        "Offline",
        "Service Requested",
        "Input Tray Missing",
        "Output Tray Missing",
        "Output Full",
        "Input Tray Empty",
    ]


@pytest.mark.parametrize(
    ("pstatus", "dstatus", "octets", "state"),
    [
        (3, 2, b"\x00\x00", PrinterState.IDLE),
        (1, 2, b"\x00\x00", PrinterState.IDLE),  # other + running: standby/power save
        (1, 3, b"\x00\x00", PrinterState.BUSY),
        (4, 2, b"\x00\x00", PrinterState.PRINTING),
        (5, 2, b"", PrinterState.PRINTING),  # warmup
        (2, 1, b"", PrinterState.BUSY),
        (3, 2, b"\x80\x00", PrinterState.IDLE),  # low paper: not blocking
        (3, 3, b"\x20\x00", PrinterState.IDLE),  # low toner: not blocking
        (4, 3, b"\x40\x00", PrinterState.ERROR),  # no paper while printing
        (3, 2, b"\x00\x08", PrinterState.ERROR),  # output full
        (3, 5, b"", PrinterState.ERROR),  # device down
        (None, None, b"", PrinterState.UNKNOWN),  # no Host Resources MIB
        (None, 2, b"", PrinterState.BUSY),
    ],
)
def test_classify(
    pstatus: int | None, dstatus: int | None, octets: bytes, state: PrinterState
) -> None:
    assert classify(pstatus, dstatus, octets)[0] is state


def test_classify_detail_names_the_blocking_errors() -> None:
    state, detail = classify(4, 3, b"\x4c\x00")
    assert state is PrinterState.ERROR
    assert detail == "No Paper, Door Open, Jammed"


def test_custom_mask_ignores_other_bits() -> None:
    only_jams = 0x0400
    assert classify(3, 2, b"\x40\x00", only_jams)[0] is PrinterState.IDLE
    assert classify(3, 2, b"\x04\x00", only_jams)[0] is PrinterState.ERROR


@pytest.mark.parametrize(
    ("text", "mask"), [("0x4FCC", 0x4FCC), ("040", 32), ("255", 255), ("0", 0)]
)
def test_parse_error_mask(text: str, mask: int) -> None:
    assert parse_error_mask(text) == mask


@pytest.mark.parametrize("text", ["0x10000", "-1", "lots", "0x"])
def test_parse_error_mask_refuses(text: str) -> None:
    with pytest.raises(ValueError):
        parse_error_mask(text)


def test_target_version() -> None:
    with pytest.raises(ValueError):
        SnmpTarget("printer", version="3")
