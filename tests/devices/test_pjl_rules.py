"""Parsing PJL answers and status codes, without a printer."""

from __future__ import annotations

import pytest

from pagetally.devices import PrinterState
from pagetally.devices.pjl import QUERY, PjlStatus, classify_code, parse_reply

HP_ANSWER = (
    b'@PJL INFO STATUS\r\nCODE=10001\r\nDISPLAY="Ready"\r\nONLINE=TRUE\r\n\x0c'
    b"@PJL INFO PAGECOUNT\r\nPAGECOUNT=123456\r\n\x0c"
)


def test_query_is_pykotas() -> None:
    assert QUERY.startswith(b"\x1b%-12345X@PJL USTATUS DEVICE=ON\r\n")
    assert b"@PJL INFO STATUS\r\n@PJL INFO PAGECOUNT\r\n" in QUERY
    assert QUERY.endswith(b"\x1b%-12345X")


def test_parse_hp_answer() -> None:
    assert parse_reply(HP_ANSWER) == PjlStatus(10001, 123456, "Ready", True)


def test_pagecount_on_the_next_line() -> None:
    data = b"@PJL INFO PAGECOUNT\r\n  4321\r\n\x0c@PJL INFO STATUS\r\nCODE=10023\r\n\x0c"
    status = parse_reply(data)
    assert (status.code, status.pagecount, status.complete) == (10023, 4321, True)


def test_bare_number_outside_pagecount_answer_is_ignored() -> None:
    data = b"@PJL INFO STATUS\r\nCODE=10001\r\n12345\r\n\x0c"
    assert parse_reply(data).pagecount is None


def test_unsolicited_ustatus_and_uel_echo() -> None:
    data = (
        b"\x1b%-12345X@PJL USTATUS DEVICE\r\nCODE=10023\r\n\x0c"
        b'@PJL INFO STATUS\r\nCODE=41002\r\nDISPLAY="LOAD PAPER"\r\n\x0c'
        b"@PJL INFO PAGECOUNT\r\nPAGECOUNT=77\r\n\x0c"
    )
    status = parse_reply(data)
    assert status.code == 41002  # INFO STATUS wins over the unsolicited status
    assert status.display == "LOAD PAPER"
    assert status.pagecount == 77


def test_ustatus_code_used_when_no_info_status() -> None:
    assert parse_reply(b"@PJL USTATUS DEVICE\r\nCODE=10023\r\n\x0c").code == 10023


def test_incomplete_answer_is_not_complete() -> None:
    status = parse_reply(HP_ANSWER[:-20])
    assert status.code == 10001
    assert not status.complete


def test_garbage_gives_nothing() -> None:
    assert parse_reply(b"\x00\xff garbage \x0c\x0c") == PjlStatus()


@pytest.mark.parametrize(
    ("code", "state"),
    [
        (10023, PrinterState.PRINTING),
        (10003, PrinterState.PRINTING),
        (10000, PrinterState.IDLE),
        (10001, PrinterState.IDLE),
        (35078, PrinterState.IDLE),
        (40000, PrinterState.IDLE),
        (10002, PrinterState.ERROR),
        (40021, PrinterState.ERROR),
        (41002, PrinterState.ERROR),
        (42202, PrinterState.ERROR),
        (50001, PrinterState.ERROR),
        (10004, PrinterState.BUSY),
        (30016, PrinterState.BUSY),
        (None, PrinterState.UNKNOWN),
    ],
)
def test_classify_code(code: int | None, state: PrinterState) -> None:
    assert classify_code(code) is state
