"""Canon BJ and BJC inkjets (Ghostscript's bj10e, bj200, bjc600, bjc800 devices).

Facts (Ghostscript's gdevbj10.c/gdevbjc_.c output, pkpgcounter's bj notes):
a job starts with "Set initial condition" ESC [ K 0x02 0x00 ...; ESC [ x and
ESC ( x commands carry a little-endian 16-bit length and that many bytes
(raster rows are ESC ( A / ESC [ g); ESC @ resets; ESC C, ESC J, ESC 5 and
ESC d take 1 or 2 parameter bytes. A form feed (0x0C) ejects the page.
"""

from __future__ import annotations

import struct

from pagetally.pdl.base import DEFAULT_LIMITS, Analysis, Buffer, Limits
from pagetally.pdl.formats._host import Budget, Pages, corrupt, need, split_head

_U16 = struct.Struct("<H")
_INIT = b"\x1b[K\x02\x00"
# ESC commands with fixed-size parameters: command byte -> parameter bytes.
_FIXED = {0x40: 0, 0x4A: 1, 0x35: 1, 0x64: 2, 0x41: 1, 0x33: 1, 0x2B: 1, 0x4E: 1, 0x51: 1}


class BjcParser:
    """Canon BJ/BJC raster."""

    name = "bjc"
    format = "Canon BJ/BJC"

    def detect(self, head: bytes) -> float:
        _lang, body = split_head(head)
        if body.startswith(_INIT) or body.startswith(b"\x1b@" + _INIT):
            return 0.95
        return 0.0

    def count(self, data: Buffer, limits: Limits = DEFAULT_LIMITS) -> Analysis:
        n = len(data)
        budget = Budget(n, limits)
        pages = Pages(limits)
        feeds = inits = 0
        pos = 0
        while pos < n:
            c = data[pos]
            if c == 0x1B and pos + 5 <= n and data[pos + 1] in (0x28, 0x5B):
                # ESC ( x / ESC [ x: 16-bit little-endian length, then data (hot path).
                if data[pos + 1] == 0x5B and data[pos + 2] == 0x4B:
                    inits += 1
                pos += 5 + (data[pos + 3] | data[pos + 4] << 8)
                budget.tick()
            elif c == 0x1B:
                need(data, pos, 2, self.format)
                cmd = data[pos + 1]
                if cmd == 0x43:  # ESC C n, or ESC C 0 n
                    need(data, pos, 3, self.format)
                    pos += 4 if data[pos + 2] == 0 else 3
                elif cmd in _FIXED:
                    pos += 2 + _FIXED[cmd]
                else:
                    raise corrupt(self.format, pos)
            elif c == 0x0C:
                feeds += 1
                pos += 1
            elif c == 0x0D or c == 0x0A or c == 0:
                pos += 1
            else:
                raise corrupt(self.format, pos)
        need(data, pos, 0, self.format)
        for _ in range(max(feeds, inits)):
            pages.add()
        return pages.analysis(self.format)


PARSERS = [BjcParser()]
