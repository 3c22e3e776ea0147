"""Structured Fax File, SFF (Ghostscript's cfax device, CAPI fax software).

Facts (the SFF description pkpgcounter cites, and Ghostscript's cfax output):
a 20-byte little-endian header "Sfff", version, reserved, user info, page
count, offset of the first page header (2 bytes), offsets of the last page and
of the end (4 bytes each; writers may leave them 0). Then records by their
first byte: 254 is a page header (next byte its length, 0 = end of document),
1..216 that many bytes of one coded line, 0 a 16-bit little-endian length then
that many bytes, 255 followed by a length byte (0 = an illegal line) and that
many bytes of user data. The next-page offset in a page header is honoured
when it lands on another page header.
"""

from __future__ import annotations

import struct

from pagetally.pdl.base import DEFAULT_LIMITS, Analysis, Buffer, Limits
from pagetally.pdl.formats._host import Budget, Pages, corrupt, need

_DOC = struct.Struct("<4sBBHHHII")
_NEXT = struct.Struct("<I")
_U16 = struct.Struct("<H")


class SfaxParser:
    """Structured Fax (SFF)."""

    name = "sfax"
    format = "Structured Fax"

    def detect(self, head: bytes) -> float:
        if head.startswith(b"Sfff") and len(head) >= 20:
            first = _DOC.unpack_from(head, 0)[5]
            return 1.0 if first < len(head) and head[first] == 0xFE else 0.9
        return 0.0

    def count(self, data: Buffer, limits: Limits = DEFAULT_LIMITS) -> Analysis:
        need(data, 0, _DOC.size, self.format)
        magic, _v, _r, _u, declared, first, _last, _end = _DOC.unpack_from(data, 0)
        if magic != b"Sfff":
            raise corrupt(self.format, 0)
        n = len(data)
        pages = Pages(limits)
        budget = Budget(n, limits)
        pos = max(first, _DOC.size)
        while pos < n:
            budget.tick()
            rid = data[pos]
            if rid == 0xFE:
                need(data, pos, 2, self.format)
                size = data[pos + 1]
                if size == 0:
                    break  # end of document
                need(data, pos + 2, size, self.format)
                pages.add()
                body = pos + 2 + size
                nxt = int(_NEXT.unpack_from(data, pos + 14)[0]) if size >= 16 else 0
                pos = body
                if nxt > 1 and body + nxt < n and data[body + nxt] == 0xFE:
                    pos = body + nxt
            elif 1 <= rid <= 216:
                pos += 1 + rid
            elif rid == 0:
                need(data, pos, 3, self.format)
                pos += 3 + int(_U16.unpack_from(data, pos + 1)[0])
            else:  # 255: illegal line (0) or user information
                need(data, pos, 2, self.format)
                pos += 2 + data[pos + 1]
        need(data, pos, 0, self.format)
        if not len(pages) and declared:
            for _ in range(min(declared, limits.max_pages)):
                pages.add()
        return pages.analysis(self.format)


PARSERS = [SfaxParser()]
