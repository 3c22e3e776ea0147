"""Oki HIPERC (foo2hiperc: Oki C3200, C5100, C5500 ...).

Facts (foo2zjs' hiperc.h, hipercdecode on foo2hiperc output): after a PJL header
ending "ENTER LANGUAGE=HIPERC", records of a big-endian total length (header
included) and a big-endian type: 0 starts a colour plane, 1 is image data, 255
ends the page. A page has one plane (black) or, printed in colour (`-c`), four
(cyan, magenta, yellow, black): so a page starts at the first type 0 after a
page end, not at each one (6 pages were counted for 3 in colour). Copies are
asked for in the PJL header (COPIES/QTY), which the PJL layer reads.

Colour pages: a type 0 record names its plane (byte 13: 0 cyan, 1 magenta,
2 yellow, 3 black; hipercdecode's "pn"). foo2hiperc sends the black plane alone
for a page without colour, even in colour mode, and all four for a page with
colour: a page is colour when it carries a cyan, magenta or yellow plane (what
the driver decided; the planes' JBIG data is not decoded). The verdicts fill
`page_inks` when every page's planes were read, so `analyse(color=True)` needs no
renderer (none can render HIPERC).
"""

from __future__ import annotations

import struct

from pagetally.pdl.base import DEFAULT_LIMITS, Analysis, Buffer, Limits, PageInk
from pagetally.pdl.formats._host import (
    Budget,
    Pages,
    after_foreign,
    need,
    skip_pjl,
    split_head,
)

_HDR = struct.Struct(">II")
_PLANE_AT = 13  # a type 0 record's plane number (after its first block's length, count)
_BLACK = 3


def _walks(head: bytes) -> bool:
    """True when `head` starts with a page-start record followed by a valid record."""
    pos = checked = 0
    for expected in ((0,), (0, 1, 255), (0, 1, 255)):
        if pos + 8 > len(head):
            break
        size, kind = _HDR.unpack_from(head, pos)
        if kind not in expected or size < 8 or (kind == 0 and size > 1024):
            return False
        checked += 1
        pos += size
    return checked >= 2


class HipercParser:
    """Oki HIPERC."""

    name = "hiperc"
    format = "Oki HIPERC"

    def detect(self, head: bytes) -> float:
        lang, body = split_head(head)
        if lang == "HIPERC":
            return 0.99
        return 0.9 if _walks(body) else 0.0

    def count(self, data: Buffer, limits: Limits = DEFAULT_LIMITS) -> Analysis:
        pos = skip_pjl(data)
        n = len(data)
        pages = Pages(limits)
        budget = Budget(n, limits)
        in_page = False
        colour: list[bool] = []  # per page: a cyan, magenta or yellow plane seen
        planes_known = True
        while pos + _HDR.size <= n:
            budget.tick()
            size, kind = _HDR.unpack_from(data, pos)
            if kind not in (0, 1, 255) or size < _HDR.size:
                resumed = after_foreign(data, pos, self.format)
                if resumed is None:
                    break
                pos = resumed
                continue
            need(data, pos, size, self.format)
            if kind == 0 and not in_page:
                pages.add()
                colour.append(False)
                in_page = True
            if kind == 0:
                plane = data[pos + _PLANE_AT] if size > _PLANE_AT else -1
                planes_known = planes_known and 0 <= plane <= _BLACK
                colour[-1] = colour[-1] or plane != _BLACK
            elif kind == 255:
                in_page = False
            pos += size
        analysis = pages.analysis(self.format)
        if not planes_known or len(colour) != len(pages):
            return analysis
        return analysis._replace(page_inks=tuple(PageInk(color=c) for c in colour))


PARSERS = [HipercParser()]
