"""HP DeskJet 505J: the Japanese DeskJet's `ESC _` raster commands, pages from form feeds.

Not PCL: after a reset (`ESC @`) every command is `ESC _` and one letter with a
fixed number of binary argument bytes (`ESC _ R lo hi` resolution, `ESC _ Y lo
hi` skip rows, ...); raster rows `ESC _ W|V lo hi` carry that many bytes of
data (mode 1 compressed) and `ESC _ C` ends raster graphics. A form feed ejects
the page. This is what Ghostscript's `dj505j` device writes; anything else in
such a job is refused with its offset (a count that was not followed is not
given).
"""

from __future__ import annotations

from pagetally.errors import CorruptData, LimitReached
from pagetally.pdl.base import DEFAULT_LIMITS, Analysis, Buffer, Limits

# ESC _ <letter> → argument bytes (W and V: two bytes of length, then the data).
_ARGS = {
    ord("R"): 2,  # resolution
    ord("D"): 1,  # depletion
    ord("E"): 1,  # shingling
    ord("N"): 1,
    ord("J"): 2,
    ord("U"): 2,  # number of planes
    ord("S"): 2,  # raster width
    ord("A"): 1,  # origin
    ord("M"): 1,  # compression
    ord("Y"): 2,  # skip rows
    ord("C"): 0,  # end raster graphics
}
_DATA = (ord("W"), ord("V"))


def scan(data: Buffer, limits: Limits = DEFAULT_LIMITS) -> Analysis:
    """Walk every command of the job; a page per form feed (and a drawn last page)."""
    end = len(data)
    pos = 0
    pages = 0
    marked = False
    notes: list[str] = []
    while pos < end:
        b = data[pos]
        if b == 0x0C:
            pages += 1
            marked = False
            if pages > limits.max_pages:
                raise LimitReached(f"DeskJet 505J job has more than {limits.max_pages} pages")
            pos += 1
        elif b == 0x1B and data[pos + 1 : pos + 2] == b"@":
            pos += 2
        elif b == 0x1B and data[pos + 1 : pos + 2] == b"_" and pos + 2 < end:
            op = data[pos + 2]
            if op in _DATA:
                if pos + 5 > end:
                    break
                n = data[pos + 3] | (data[pos + 4] << 8)
                marked = marked or n > 0
                pos += 5 + n
            elif op in _ARGS:
                pos += 3 + _ARGS[op]
            else:
                raise CorruptData(f"unknown DeskJet 505J command ESC _ 0x{op:02x} at offset {pos}")
        elif b == 0x00 and pages and not data[pos:end].strip(b"\x00"):
            break  # padding after the last page
        else:
            raise CorruptData(f"unexpected byte 0x{b:02x} in a DeskJet 505J job at offset {pos}")
    if pos > end:
        notes.append("data ends inside a DeskJet 505J raster row (truncated job)")
    if marked:
        pages += 1
        notes.append("the last page has no form feed: counted")
    return Analysis(format="HP DeskJet 505J", pages=pages, notes=tuple(notes))


def detect(head: bytes) -> float:
    """The job opens with a reset and the resolution command of the 505J."""
    return 0.95 if head.startswith(b"\x1b@\x1b_R") else 0.0


class DeskJet505jParser:
    """HP DeskJet 505J (`ESC _` raster commands)."""

    name = "dj505j"
    format = "HP DeskJet 505J"

    def detect(self, head: bytes) -> float:
        return detect(head)

    def count(self, data: Buffer, limits: Limits = DEFAULT_LIMITS) -> Analysis:
        return scan(data, limits)


PARSERS = [DeskJet505jParser()]
