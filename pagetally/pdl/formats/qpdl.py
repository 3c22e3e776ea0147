"""Samsung QPDL, also called SPL2 (foo2qpdl, splix).

Facts (Aurélien Croc's SPL2 notes as used by pkpgcounter, foo2zjs' qpdldecode,
and the bytes foo2qpdl and splix write): after a PJL header ending "ENTER
LANGUAGE = QPDL", one-byte tags:
- 0x00 page header, 17 bytes with the tag; bytes 2-3 are the big-endian copies;
- 0x0C band: band number (1), width (2), height (2), [colour plane (1) in
  foo2qpdl and splix colour output], compression (1), big-endian data length
  (4), then the data. The optional plane byte makes the header 11 or 12 bytes;
  splix' colour bands instead list planes (plane, compression, length, data)
  ended by a 0x00 byte. The layout is told apart by where the next tag lands;
- 0x01 page end, 3 bytes (copies again); 0x09 end of job; ESC starts PJL/UEL;
- foo2qpdl's colour models (`-c -z2`, `-z3`: CLP-600, CLP-610 and relatives)
  add 0x13 (15 bytes) after the page header and 0x14 records: 25 bytes (a JBIG
  header) before the bands, 8 bytes before the page end (as qpdldecode shows
  them). Which of the two a 0x14 is, is told by what follows: a band after 25
  bytes, a page end after 8; a record that could be both or neither is refused
  with its offset.

Colour pages: in foo2qpdl's layout a band names its plane (1 cyan, 2 magenta,
3 yellow, 4 black; qpdldecode's "plane="). foo2qpdl sends a page's cyan, magenta
and yellow planes only when one of them holds a non-zero byte (foo2qpdl.c,
`AnyColor`), black alone otherwise, so a page is colour when it carries a band
of plane 1, 2 or 3: a page without one cannot put colour on paper. Bands without
a plane byte (monochrome QPDL) are black. The verdicts fill `page_inks` (no
renderer reads QPDL) when every page's bands were read in one of these layouts
and all pages ask for the same copies; splix' plane lists give no verdict.
"""

from __future__ import annotations

import struct

from pagetally.pdl.base import DEFAULT_LIMITS, Analysis, Buffer, Limits, PageInk
from pagetally.pdl.formats._host import (
    Budget,
    Pages,
    corrupt,
    need,
    only_trailer,
    skip_pjl,
    split_head,
)

_U16 = struct.Struct(">H")
_U32 = struct.Struct(">I")
_COLOUR_PLANES = (1, 2, 3)  # cyan, magenta, yellow (4 is black)
_TAGS = frozenset((0x00, 0x01, 0x09, 0x0C, 0x13, 0x14, 0x1B))
# colour models' extra records: size -> the tags that may follow
_SIZES: dict[int, dict[int, tuple[int, ...]]] = {
    0x13: {15: (0x14,)},
    0x14: {25: (0x0C,), 8: (0x01,)},
}


def _band_end(data: Buffer, pos: int, layout: int) -> int:
    """Where a band at `pos` ends in `layout` (11, 12: header size; 0: plane list), or -1."""
    n = len(data)
    if layout:
        if pos + layout > n:
            return -1
        return pos + layout + int(_U32.unpack_from(data, pos + layout - 4)[0])
    p = pos + 6
    for _ in range(8):
        if p >= n:
            return -1
        if data[p] == 0:
            return p + 1
        if p + 6 > n:
            return -1
        p += 6 + int(_U32.unpack_from(data, p + 2)[0])
    return -1


def _lands(data: Buffer, end: int) -> bool:
    """True when `end` is the end of the data or a valid next tag."""
    n = len(data)
    if end == n:
        return True
    if not 0 <= end < n or data[end] not in _TAGS:
        return False
    # A page header (0x00) is 17 bytes and is followed by a band or a page end.
    return data[end] != 0 or (end + 17 < n and data[end + 17] in (0x01, 0x09, 0x0C, 0x13))


class QpdlParser:
    """Samsung/Xerox/Dell SPL2 laser printers."""

    name = "qpdl"
    format = "Samsung QPDL (SPL2)"

    def detect(self, head: bytes) -> float:
        lang, body = split_head(head)
        looks = len(body) > 18 and body[0] == 0x00 and body[17] in (0x0C, 0x13)
        if lang == "QPDL":
            # a job the driver ended at once (end-of-job tag 0x09) is QPDL too
            return 0.99 if looks or not body or body[0] in (0x00, 0x09) else 0.9
        if not looks or _U16.unpack_from(body, 2)[0] > 999:
            return 0.0
        # A page header, then a band whose declared length lands on the next tag.
        if any(_lands(body, e) for e in (_band_end(body, 17, h) for h in (12, 0, 11)) if e > 17):
            return 0.9
        return 0.6

    def count(self, data: Buffer, limits: Limits = DEFAULT_LIMITS) -> Analysis:
        pos = skip_pjl(data)
        n = len(data)
        pages = Pages(limits)
        budget = Budget(n, limits)
        layout = -1  # band layout once seen: 11, 12 or 0 (see _band_end)
        colour: list[bool] = []  # per page: a cyan, magenta or yellow band seen
        known = True  # every band so far in a layout that names its plane (or none)
        while pos < n:
            budget.tick()
            tag = data[pos]
            if tag == 0x0C:
                ends = {h: _band_end(data, pos, h) for h in (12, 0, 11)}
                ok = [h for h, e in ends.items() if e > pos and _lands(data, e)]
                if layout not in ok:
                    if not ok:
                        need(data, pos, max(ends.values()) - pos, self.format)
                        raise corrupt(self.format, pos)
                    layout = ok[0]
                known = known and layout != 0 and bool(colour)
                if known and layout == 12 and data[pos + 6] in _COLOUR_PLANES:
                    colour[-1] = True
                pos = ends[layout]
            elif tag == 0x00:
                need(data, pos, 17, self.format)
                pages.add(int(_U16.unpack_from(data, pos + 2)[0]))
                colour.append(False)
                pos += 17
            elif tag == 0x01:
                need(data, pos, 3, self.format)
                pos += 3
            elif tag == 0x09:
                pos += 1
            elif tag in _SIZES:
                sizes = _SIZES[tag]
                fits = [pos + k for k, nxt in sizes.items() if pos + k < n and data[pos + k] in nxt]
                if len(fits) != 1:
                    need(data, pos, min(sizes) + 1, self.format)
                    raise corrupt(self.format, pos)
                pos = fits[0]
            elif tag == 0x1B:
                nxt = skip_pjl(data, pos)
                if nxt == pos:
                    raise corrupt(self.format, pos)
                pos = nxt
            elif only_trailer(data, pos):
                break
            else:
                raise corrupt(self.format, pos)
        analysis = pages.analysis(self.format)
        if not known or len(set(pages.copies)) > 1:
            return analysis
        return analysis._replace(page_inks=tuple(PageInk(color=c) for c in colour))


PARSERS = [QpdlParser()]
