"""Epson ESC/Page, ESC/Page-Color and ESC/PageS03 (Ghostscript's escpage, lp2000,
lp8000c, alc*, epl* devices; Epson's ESC/PageS03 drivers).

Facts (the bytes Ghostscript's devices write; pkpgcounter's escpages03 notes):
an EJL header ("ESC 1 @EJL", "@EJL ... LANGUAGE=ESC/PAGE"), then commands that
start with GS (0x1D), decimal parameters separated by ';', and a name of lower
case letters ending in an upper case letter. A '{' before the final letter
("bi{I", "u{I", "cam{E", "eps{I") means the first parameter is the length of
binary data that follows. A form feed (0x0C) outside such data ejects a page.
Copies: "GS n coO" in the stream, or CO=n on the EJL SET line.
"""

from __future__ import annotations

import re

from pagetally.pdl.base import DEFAULT_LIMITS, Analysis, Buffer, Limits
from pagetally.pdl.formats._host import Budget, Pages, need, skip_pjl, split_head

_BLOCK = re.compile(rb"\x1d(\d{1,10})[0-9;.\-]{0,48}[a-z]{0,8}\{[A-Z]")
_COPIES = re.compile(rb"\x1d(\d{1,4})coO")
_EJL_COPIES = re.compile(rb"@EJL[^\n]*?\sCO=(\d{1,4})")
_COMMAND = re.compile(rb"\x1d[0-9;.\-]*[a-z]+\{?[A-Z]")


def _next_block(data: Buffer, pos: int, n: int) -> tuple[int, int, int]:
    """(start, end of command, data length) of the next '{' command, or (n, n, 0).

    Finds the '{' with the C-speed find, then checks the command around it.
    """
    while True:
        brace = data.find(b"{", pos)
        if brace < 0:
            return n, n, 0
        gs = data.rfind(b"\x1d", max(pos, brace - 80), brace)
        if gs >= 0:
            m = _BLOCK.match(data, gs)
            if m and m.end() == brace + 2:
                return gs, m.end(), int(m.group(1))
        pos = brace + 1


def _count_pages(data: Buffer, limits: Limits, fmt: str) -> Analysis:
    """Form feeds outside binary blocks, each times the copies then in force."""
    start = skip_pjl(data)
    ejl = _EJL_COPIES.search(data[:start])
    copies = int(ejl.group(1)) if ejl else 1
    n = len(data)
    pages = Pages(limits)
    budget = Budget(n, limits)
    pos = start
    while pos < n:
        budget.tick()
        begin, after, size = _next_block(data, pos, n)
        ff = data.find(b"\x0c", pos, begin)
        if ff >= 0 or data.find(b"coO", pos, begin) >= 0:
            gap = data[pos:begin]
            last = 0
            for feed in re.finditer(rb"\x0c", gap):
                for c in _COPIES.finditer(gap, last, feed.start()):
                    copies = int(c.group(1))
                last = feed.end()
                pages.add(copies)
            for c in _COPIES.finditer(gap, last):
                copies = int(c.group(1))
        if begin >= n:
            break
        need(data, after, size, fmt)
        pos = after + size
    return pages.analysis(fmt)


class EscPageParser:
    """ESC/Page and ESC/Page-Color lasers (Epson LP/AcuLaser/EPL series)."""

    name = "escpage"
    format = "Epson ESC/Page"

    def detect(self, head: bytes) -> float:
        lang, body = split_head(head)
        if lang.startswith("ESC/PAGE") and lang != "ESC/PAGES03":
            return 0.99
        if head.startswith(b"\x1b\x01@EJL") and not lang:
            return 0.5
        lead = body.lstrip(b"\r\n\x00")
        if lead.startswith(b"\x1bS\x1b\x1bS\x1c"):  # "enter ESC/Page mode"
            return 0.95
        if _COMMAND.match(lead) and _COMMAND.search(lead, 1, 256):
            return 0.8
        return 0.0

    def count(self, data: Buffer, limits: Limits = DEFAULT_LIMITS) -> Analysis:
        return _count_pages(data, limits, self.format)


class EscPageS03Parser:
    """ESC/PageS03 (Epson's host-based ESC/Page variant)."""

    name = "escpages03"
    format = "Epson ESC/PageS03"

    def detect(self, head: bytes) -> float:
        lang, _body = split_head(head)
        return 0.99 if lang == "ESC/PAGES03" else 0.0

    def count(self, data: Buffer, limits: Limits = DEFAULT_LIMITS) -> Analysis:
        return _count_pages(data, limits, self.format)


PARSERS = [EscPageParser(), EscPageS03Parser()]
