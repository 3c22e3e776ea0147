"""Oki HIPERC (foo2hiperc: Oki C3200, C5100, C5500 ...).

Facts (foo2zjs' hiperc.h, hipercdecode on foo2hiperc output): after a PJL header
ending "ENTER LANGUAGE=HIPERC", records of a big-endian total length (header
included) and a big-endian type: 0 starts a colour plane, 1 is image data, 255
ends the page. A page has one plane (black) or, printed in colour (`-c`), four
(cyan, magenta, yellow, black): so a page starts at the first type 0 after a
page end, not at each one (6 pages were counted for 3 in colour). Copies are
asked for in the PJL header (COPIES/QTY), which the PJL layer reads.
"""

from __future__ import annotations

import struct

from pagetally.pdl.base import DEFAULT_LIMITS, Analysis, Buffer, Limits
from pagetally.pdl.formats._host import (
    Budget,
    Pages,
    after_foreign,
    need,
    skip_pjl,
    split_head,
)

_HDR = struct.Struct(">II")


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
                in_page = True
            elif kind == 255:
                in_page = False
            pos += size
        return pages.analysis(self.format)


PARSERS = [HipercParser()]
