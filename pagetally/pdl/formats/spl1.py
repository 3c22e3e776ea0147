"""Samsung SPL1, also called GDI or SMART (older Samsung ML lasers).

Facts (pkpgcounter's reverse-engineered notes, and Ghostscript's `gdi` and
`samsunggdi` devices, which write SPL1): textual commands start with ESC or
'$' ("ESC%-12345X", "$PJL ... LANGUAGE=SMART") and run to the next ESC or NUL
byte, or to a byte >= 0x80 outside double quotes. After a text part ending
"$PJL BITMAP START\\r\\n" come bitmap blocks: a big-endian 32-bit length and a
16-bit sequence number, the block being 4 + length bytes long. The sequence
number restarts at 0 with every page.
"""

from __future__ import annotations

import struct

from pagetally.pdl._lazyre import lazy
from pagetally.pdl.base import DEFAULT_LIMITS, Analysis, Buffer, Limits
from pagetally.pdl.formats._host import Budget, Pages, corrupt, need

_TEXT = lazy(rb'[\x1b$](?:"[^"\x00]{0,4096}"|[^\x00\x1b"\x80-\xff]){0,65536}')
_SMART = lazy(rb"\$PJL[^\r\n]{0,200}LANGUAGE\s*=\s*SMART")
_BLOCK = struct.Struct(">IH")
_BITMAP = b"$PJL BITMAP START\r\n"


class Spl1Parser:
    """Samsung SPL1 (GDI) lasers."""

    name = "spl1"
    format = "Samsung SPL1 (GDI)"

    def detect(self, head: bytes) -> float:
        if _SMART.search(head, 0, 8192):
            return 0.95
        # The detector has already removed "@PJL ENTER LANGUAGE = SMART" (Ghostscript's
        # gdi/samsunggdi devices): SPL1's own "$PJL" lines then begin the data.
        return 0.9 if head.startswith(b"$PJL JOB START") and _BITMAP in head[:4096] else 0.0

    def count(self, data: Buffer, limits: Limits = DEFAULT_LIMITS) -> Analysis:
        n = len(data)
        pages = Pages(limits)
        budget = Budget(n, limits)
        bitmap = False
        pos = 0
        while pos < n:
            budget.tick()
            c = data[pos]
            if c == 0x1B or c == 0x24:
                m = _TEXT.match(data, pos)
                end = m.end() if m else pos + 1
                bitmap = data[max(pos, end - len(_BITMAP)) : end] == _BITMAP
                pos = end
            elif bitmap:
                need(data, pos, _BLOCK.size, self.format)
                length, seq = _BLOCK.unpack_from(data, pos)
                need(data, pos + 4, length, self.format)
                if seq == 0:
                    pages.add()
                pos += 4 + length
            elif c in b"\x00\r\n":
                pos += 1
            else:
                raise corrupt(self.format, pos)
        return pages.analysis(self.format)


PARSERS = [Spl1Parser()]
