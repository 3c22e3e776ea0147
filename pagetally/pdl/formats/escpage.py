"""Epson ESC/Page, ESC/Page-Color and ESC/PageS03 (Ghostscript's escpage, lp2000,
lp8000c, alc*, epl* devices; Epson's ESC/PageS03 drivers).

Facts (the bytes Ghostscript's devices write; pkpgcounter's escpages03 notes):
an EJL header ("ESC 1 @EJL", "@EJL ... LANGUAGE=ESC/PAGE"), then commands that
start with GS (0x1D), decimal parameters separated by ';', and a name of lower
case letters ending in an upper case letter. A '{' before the final letter
("bi{I", "u{I", "cam{E", "eps{I") means the first parameter is the length of
binary data that follows. A form feed (0x0C) outside such data ejects a page.
Copies: "GS n coO" in the stream, or CO=n on the EJL SET line.

Ghostscript's `lp8000` (gdevlp8k.c) writes no form feed at all: each page is
raster blocks, then "GS 0bcI GS 1coO GS rhE" and a new EJL header; the reset
("GS rhE") prints what the page holds, as the end of the job does. So a page
is also counted at a reset, or at the end, when raster blocks ("bi{I") were
sent since the last page left.
"""

from __future__ import annotations

from pagetally.pdl._lazyre import lazy
from pagetally.pdl.base import DEFAULT_LIMITS, Analysis, Buffer, Limits
from pagetally.pdl.formats._host import Budget, Pages, need, skip_pjl, split_head

_BLOCK = lazy(rb"\x1d(\d{1,10})[0-9;.\-]{0,48}[a-z]{0,8}\{[A-Z]")
_GAP = lazy(rb"\x0c|\x1d(\d{1,4})coO|\x1drhE")
_EJL_COPIES = lazy(rb"@EJL[^\n]*?\sCO=(\d{1,4})")
_COMMAND = lazy(rb"\x1d[0-9;.\-]*[a-z]+\{?[A-Z]")


def _count_pages(data: Buffer, limits: Limits, fmt: str) -> Analysis:
    """Form feeds outside binary blocks, each times the copies then in force.

    The hot loop finds the next '{' with the C-speed find, checks the command
    around it, and looks into the commands before it (one regex search) only for
    a form feed, a copies command or a reset.
    """
    start = skip_pjl(data)
    ejl = _EJL_COPIES.search(data[:start])
    copies = int(ejl.group(1)) if ejl else 1
    n = len(data)
    pages = Pages(limits)
    budget = Budget(n, limits)
    find, rfind, block, gap = data.find, data.rfind, _BLOCK.match, _GAP.search
    pos = scan = start
    blocks = 0
    drawn = False  # raster blocks sent since the last page left
    while pos < n:
        brace = find(b"{", scan)
        if brace < 0:
            begin = after = size = n
        else:
            gs = rfind(b"\x1d", brace - 80 if brace - 80 > pos else pos, brace)
            m = block(data, gs) if gs >= 0 else None
            if m is None or m.end() != brace + 2:
                scan = brace + 1  # a '{' that starts no data block
                continue
            begin, after, size = gs, brace + 2, int(m.group(1))
        if gap(data, pos, begin):  # one C-speed look at the commands between blocks
            for hit in _GAP.finditer(data, pos, begin):
                text = hit.group(0)
                if text == b"\x0c" or (drawn and text == b"\x1drhE"):
                    pages.add(copies)
                    drawn = False
                elif text != b"\x1drhE":
                    copies = int(hit.group(1))
        if begin >= n:
            break
        if not drawn and data[brace - 2 : brace] == b"bi":
            drawn = True
        pos = scan = after + size
        if pos > n:
            need(data, after, size, fmt)
        blocks += 1
        if not blocks & 0xFF:
            budget.tick()
    if drawn:
        pages.add(copies)
        return pages.analysis(fmt, ("raster after the last page eject: printed at the end",))
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
