"""Oak Technology OAKT (foo2oak: HP LaserJet 1500, Kyocera KM-1635/2035).

Facts (foo2zjs' oak.h and oakdecode on foo2oak output): a stream of records, each
starting "OAKT", a little-endian total length (header included, padded to 16)
and a little-endian type. Type 0x14 starts a page, 0x18 ends it; 0x2A, inside
a page, carries its copies (first little-endian DWORD of the payload).
Type 0x3C (image data) is followed by its JBIG bytes, padded length at offset 36.
"""

from __future__ import annotations

import struct

from pagetally.pdl.base import DEFAULT_LIMITS, Analysis, Buffer, Limits
from pagetally.pdl.formats._host import (
    Budget,
    Pages,
    after_foreign,
    need,
    only_trailer,
    skip_pjl,
    split_head,
)

_HDR = struct.Struct("<4sII")
_U32 = struct.Struct("<I")


class OakParser:
    """OAKT host-based laser printers."""

    name = "oak"
    format = "Oak Technology OAKT"

    def detect(self, head: bytes) -> float:
        _lang, body = split_head(head)
        if body.startswith(b"OAKT"):
            return 1.0
        return 0.0

    def count(self, data: Buffer, limits: Limits = DEFAULT_LIMITS) -> Analysis:
        pos = skip_pjl(data)
        n = len(data)
        pages = Pages(limits)
        budget = Budget(n, limits)
        copies = 1
        in_page = False
        while pos + _HDR.size <= n:
            budget.tick()
            magic, size, kind = _HDR.unpack_from(data, pos)
            if magic != b"OAKT" or size < _HDR.size:
                resumed = after_foreign(data, pos, self.format)
                if resumed is None:
                    break
                pos = resumed
                continue
            need(data, pos, size, self.format)
            if kind == 0x2A and size >= _HDR.size + 4:
                # Copies come inside the page they apply to (after its start).
                copies = int(_U32.unpack_from(data, pos + _HDR.size)[0])
                if in_page:
                    pages.set_last_copies(copies)
            elif kind == 0x14:
                pages.add(copies)
                in_page = True
            elif kind == 0x18:
                in_page = False
            elif kind == 0x3C and size >= _HDR.size + 28:
                # Image data: the JBIG bytes follow the record, padded length at +36.
                pad = int(_U32.unpack_from(data, pos + 36)[0])
                need(data, pos + size, pad, self.format)
                pos += pad
            pos += size
        if pos < n and not only_trailer(data, pos):
            need(data, pos, _HDR.size, self.format)
        return pages.analysis(self.format)


PARSERS = [OakParser()]
