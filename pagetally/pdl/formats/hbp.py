"""Brother/Fuji Xerox/Dell HBPL (foo2hbpl2), and the older Brother HBP.

Facts (foo2zjs' hbpl.h, hbpldecode on foo2hbpl2 output): after a PJL header
ending "ENTER LANGUAGE=HBPL", records of ESC, a two-letter type and a one-byte
payload length, then the payload. "PS" starts a page: its payload holds the
page's image byte count as a little-endian DWORD at offset 12 (record offset 16),
and that many JBIG bytes follow the record. "PE" ends the page, "JP" carries job
parameters, "DM" is a short marker. Copies are PJL's (COPIES), read by the PJL layer.

The older HBP (pkpgcounter's facts, no generator here): "@PJL ENTER LANGUAGE = HBP"
and a form feed sequence "@G\\0\\0\\1\\xff@F" per page.
"""

from __future__ import annotations

import re
import struct

from pagetally.errors import CorruptData
from pagetally.pdl.base import DEFAULT_LIMITS, Analysis, Buffer, Limits
from pagetally.pdl.formats._host import (
    Budget,
    Pages,
    corrupt,
    need,
    only_trailer,
    skip_pjl,
    split_head,
)

_U32 = struct.Struct("<I")
_RECORD = re.compile(rb"\x1b[A-Z]{2}[\x00-\xff]")
_HBP_FF = b"@G\x00\x00\x01\xff@F"


class HbplParser:
    """HBPL version 2 (Brother HL-3040/DCP-9010, Dell 1355, Xerox Phaser 6010 ...)."""

    name = "hbpl"
    format = "Brother HBPL"

    def detect(self, head: bytes) -> float:
        lang, body = split_head(head)
        rec = body[:4]
        known = len(rec) == 4 and rec[:3] in (b"\x1bJP", b"\x1bPS", b"\x1bDM", b"\x1bPE")
        if lang == "HBPL":
            return 0.99 if known or not body else 0.9
        if lang == "HBP":
            return 0.0
        if known and len(body) > 4 + body[3] and body[4 + body[3]] in (0x1B, 0x00, 0xFF):
            return 0.9
        return 0.0

    def count(self, data: Buffer, limits: Limits = DEFAULT_LIMITS) -> Analysis:
        pos = skip_pjl(data)
        n = len(data)
        pages = Pages(limits)
        budget = Budget(n, limits)
        while pos + 4 <= n:
            budget.tick()
            if data[pos] != 0x1B or not _RECORD.match(data, pos):
                nxt = skip_pjl(data, pos)
                if pos < nxt < n:  # another job's PJL header: go on after it
                    pos = nxt
                    continue
                if only_trailer(data, pos):
                    break
                raise corrupt(self.format, pos)
            kind = data[pos + 1 : pos + 3]
            size = data[pos + 3]
            need(data, pos + 4, size, self.format)
            body = pos + 4
            pos = body + size
            if kind == b"PS":
                if size < 16:
                    raise corrupt(self.format, body)
                image = int(_U32.unpack_from(data, body + 12)[0])
                need(data, pos, image, self.format)
                pos += image
                pages.add()
        return pages.analysis(self.format)


class HbpParser:
    """Brother HBP (the first generation, hbp-for-brother)."""

    name = "hbp"
    format = "Brother HBP"

    def detect(self, head: bytes) -> float:
        lang, body = split_head(head)
        if lang == "HBP":
            return 0.95
        return 0.6 if body.startswith(b"@G") and _HBP_FF in head else 0.0

    def count(self, data: Buffer, limits: Limits = DEFAULT_LIMITS) -> Analysis:
        # No declared lengths are known for HBP's raster blocks: count the
        # page-eject sequence with the C-speed find, as pkpgcounter did.
        pages = Pages(limits)
        budget = Budget(len(data), limits)
        pos = data.find(_HBP_FF)
        while pos >= 0:
            budget.tick()
            pages.add()
            pos = data.find(_HBP_FF, pos + len(_HBP_FF))
        if not pages and not len(data):
            raise CorruptData("Brother HBP: empty job")
        return pages.analysis(self.format)


PARSERS = [HbplParser(), HbpParser()]
