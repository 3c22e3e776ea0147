"""CUPS backends' PAGE: lines, read as cupsd reads them (cups/status.py, the one
parser: the backend's count of what the real backend reported uses it too)."""

from __future__ import annotations

from pagetally.cups.status import PageLine, pages_from_stderr, parse_page_line


def test_parse_total_and_page_lines() -> None:
    assert parse_page_line("PAGE: total 12") == PageLine(True, 12)
    assert parse_page_line(b"PAGE: 3 2\n") == PageLine(False, 2, 3)
    assert parse_page_line("PAGE: TOTAL 4\r\n") == PageLine(True, 4)


def test_not_page_lines() -> None:
    for line in [
        "INFO: PAGE: total 3",
        "PAGE: total",
        "PAGE: many 2",
        "DEBUG: x",
        "",
        "PAGE: 1",
        "page: total 4",
        " PAGE: 1 1",
        "PAGE: 1 ²",
    ]:
        assert parse_page_line(line) is None


def test_pages_from_stderr_adds_copies_and_total_replaces() -> None:
    assert pages_from_stderr(["INFO: Connected", "PAGE: 1 1", "PAGE: 2 3"]) == 4
    assert pages_from_stderr(["PAGE: 1 1", "PAGE: total 7", "PAGE: 2 1"]) == 8
    assert pages_from_stderr(["PAGE: total 2", "PAGE: total 5"]) == 5


def test_no_page_lines_is_none_not_zero() -> None:
    assert pages_from_stderr(["INFO: printing", "ERROR: boom"]) is None
    assert pages_from_stderr(["PAGE: total 0"]) == 0
