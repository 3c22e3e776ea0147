"""Brother/Fuji Xerox/Dell HBPL (foo2hbpl2), and the older Brother HBP.

Facts (foo2zjs' hbpl.h, hbpldecode on foo2hbpl2 output): after a PJL header
ending "ENTER LANGUAGE=HBPL", records of ESC, a two-letter type and a one-byte
payload length, then the payload. "PS" starts a page: its payload holds the
page's image byte count as a little-endian DWORD at offset 12 (record offset 16),
and that many JBIG bytes follow the record. "PE" ends the page, "JP" carries job
parameters, "DM" is a short marker. Copies are PJL's (COPIES), read by the PJL layer.

The older HBP (Ghostscript's `hl7x0` device, Brother HL-720/730 and MFC-9050;
pkpgcounter read it too): after "@PJL ENTER LANGUAGE = HBP", two-byte commands:
"@L" and one parameter byte, "@G" and a 3-byte big-endian length then that many
raster bytes, "@F" ejects the page, "@N" and "@X" close the job. The walk
follows every command to the end of the job; anything else is refused.
"""

from __future__ import annotations

import struct

from pagetally.errors import CorruptData
from pagetally.pdl._lazyre import lazy
from pagetally.pdl.base import DEFAULT_LIMITS, Analysis, Buffer, Limits
from pagetally.pdl.formats._host import (
    Budget,
    Pages,
    after_foreign,
    corrupt,
    need,
    skip_pjl,
    split_head,
)

_U32 = struct.Struct("<I")
_RECORD = lazy(rb"\x1b[A-Z]{2}[\x00-\xff]")
_HBP_START = lazy(rb"@L[\x00-\xff]@G")


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
                resumed = after_foreign(data, pos, self.format)
                if resumed is None:
                    break
                pos = resumed
                continue
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
    """Brother HBP (the first generation: HL-720/730, MFC-9050)."""

    name = "hbp"
    format = "Brother HBP"

    def detect(self, head: bytes) -> float:
        lang, body = split_head(head)
        if lang == "HBP":
            return 0.95
        return 0.9 if _HBP_START.match(body) else 0.0

    def count(self, data: Buffer, limits: Limits = DEFAULT_LIMITS) -> Analysis:
        pos = skip_pjl(data)
        n = len(data)
        pages = Pages(limits)
        budget = Budget(n, limits)
        while pos < n:
            budget.tick()
            op = data[pos : pos + 2]
            if op == b"@G":
                need(data, pos + 2, 3, self.format)
                size = int.from_bytes(data[pos + 2 : pos + 5], "big")
                need(data, pos + 5, size, self.format)
                pos += 5 + size
            elif op == b"@L":
                need(data, pos + 2, 1, self.format)
                pos += 3
            elif op == b"@F":
                pages.add()
                pos += 2
            elif op in (b"@N", b"@X"):
                pos += 2
            else:
                resumed = after_foreign(data, pos, self.format)
                if resumed is None:
                    break
                pos = resumed
                continue
        if not pages:
            raise CorruptData(f"Brother HBP: the job ejects no page (end of job at offset {pos})")
        return pages.analysis(self.format)


PARSERS = [HbplParser(), HbpParser()]
