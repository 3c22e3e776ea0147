"""TeX DVI: pages are `bop` commands, found through the postamble.

The postamble (at the end, found from `post_post` and its trailing 223 bytes)
points at the last page's `bop`; each `bop` points at the previous one. Walking
that chain counts the pages without reading the typesetting commands, and is
checked against the total the postamble declares.
"""

from __future__ import annotations

from pagetally.errors import CorruptData, LimitReached, TruncatedData
from pagetally.pdl.base import DEFAULT_LIMITS, Analysis, Buffer, Limits, Parser

_PRE, _ID_BYTES = 247, (2, 3, 5)  # TeX, XeTeX-ish, pTeX ids
_BOP, _POST, _POST_POST, _FILL = 139, 248, 249, 223
_NONE = 0xFFFFFFFF


def _u32(data: Buffer, at: int) -> int:
    if at < 0 or at + 4 > len(data):
        raise TruncatedData("DVI: a pointer leads past the end of the file")
    return int.from_bytes(data[at : at + 4], "big")


def _postamble(data: Buffer) -> int:
    end = len(data)
    pos = end - 1
    stop = max(0, end - 4096)
    while pos >= stop and data[pos] == _FILL:
        pos -= 1
    if pos < 5 or end - 1 - pos < 4 or data[pos] not in _ID_BYTES or data[pos - 5] != _POST_POST:
        raise TruncatedData("DVI: no postamble (the file is cut short or still being written)")
    post = _u32(data, pos - 4)
    if post >= len(data) or data[post] != _POST:
        raise CorruptData("DVI: the postamble pointer is wrong")
    return post


class DviParser:
    name = "dvi"
    format = "DVI"

    def detect(self, head: bytes) -> float:
        if len(head) >= 15 and head[0] == _PRE and head[1] in _ID_BYTES:
            return 0.95
        return 0.0

    def count(self, data: Buffer, limits: Limits = DEFAULT_LIMITS) -> Analysis:
        if len(data) < 15 or data[0] != _PRE:
            raise CorruptData("DVI: no preamble")
        post = _postamble(data)
        if post + 29 > len(data):
            raise TruncatedData("DVI: postamble cut short")
        declared = int.from_bytes(data[post + 27 : post + 29], "big")
        bop = _u32(data, post + 1)
        pages = 0
        seen: set[int] = set()
        while bop != _NONE:
            if bop in seen or bop >= post:
                raise CorruptData("DVI: the page chain loops or points forward")
            seen.add(bop)
            if data[bop] != _BOP:
                raise CorruptData("DVI: a page pointer does not lead to a page")
            pages += 1
            if pages > limits.max_pages:
                raise LimitReached(f"DVI: more than {limits.max_pages} pages")
            bop = _u32(data, bop + 41)
        notes: tuple[str, ...] = ()
        if pages != declared:
            notes = (f"the postamble declares {declared} pages, the page chain holds {pages}",)
        return Analysis(self.format, pages, notes=notes)


PARSERS: list[Parser] = [DviParser()]
