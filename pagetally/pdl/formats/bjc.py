"""Canon BJ, BJC and PIXMA inkjets (Ghostscript's bj10e, bj200, bjc600, bjc800
devices; Gutenprint's canon driver).

Facts (Ghostscript's gdevbj10.c/gdevbjc_.c output, pkpgcounter's bj notes, and
Gutenprint's print-canon.c as seen in its output): a job starts with "Set
initial condition" ESC [ K 0x02 0x00 ...; ESC [ x and ESC ( x commands carry a
little-endian 16-bit length and that many bytes (raster rows are ESC ( A /
ESC [ g); ESC @ resets; ESC C, ESC J, ESC 5 and ESC d take 1 or 2 parameter
bytes. A form feed (0x0C) ejects the page.

Gutenprint adds two wrappers: BJL control blocks, an ESC [ K whose two bytes are
00 1F followed by text lines from "BJLSTART" to "BJLEND" (refused "unexpected
data at offset 7" before this was known), and, for PIXMA models since about 2008,
XML "cmd" documents of Canon's IVEC schema (StartJob, ModeShift, EndJob) before
and after the raster. Neither prints anything; both are skipped whole, and a
BJL block is not a page's "initial condition".
"""

from __future__ import annotations

from pagetally.pdl.base import DEFAULT_LIMITS, Analysis, Buffer, Limits
from pagetally.pdl.formats._host import Budget, Pages, corrupt, need, split_head

_INIT = b"\x1b[K\x02\x00"
_BJL = b"\x1b[K\x02\x00\x00\x1f"
_BJL_END = b"BJLEND\n"
_XML = b"<?xml"
_XML_END = b"</cmd>"
_IVEC = b"canon.com/ns/cmd"
_TEXT_LIMIT = 1 << 16  # a BJL block or XML command longer than this is not one
# ESC commands with fixed-size parameters: command byte -> parameter bytes.
_FIXED = {0x40: 0, 0x4A: 1, 0x35: 1, 0x64: 2, 0x41: 1, 0x33: 1, 0x2B: 1, 0x4E: 1, 0x51: 1}


def _text_end(data: Buffer, pos: int, closing: bytes, fmt: str) -> int:
    """Where a BJL block or an XML command starting at `pos` ends (after `closing`)."""
    end = data.find(closing, pos, pos + _TEXT_LIMIT)
    if end < 0:
        need(data, pos, _TEXT_LIMIT, fmt)
        raise corrupt(f"{fmt}: no {closing.decode().strip()!r} after the block", pos)
    return end + len(closing)


class BjcParser:
    """Canon BJ/BJC/PIXMA raster."""

    name = "bjc"
    format = "Canon BJ/BJC"

    def detect(self, head: bytes) -> float:
        _lang, body = split_head(head)
        if body.startswith(_XML) and _IVEC in body[:1024]:
            end = body.rfind(_XML_END, 0, 8192)
            after = body[end + len(_XML_END) :] if end >= 0 else b""
            return 0.95 if after.startswith(_INIT) else 0.6
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
                    if data[pos : pos + 7] == _BJL:
                        pos = _text_end(data, pos + 7, _BJL_END, self.format)
                        continue
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
            elif c == 0x3C and data[pos : pos + 5] == _XML:
                pos = _text_end(data, pos, _XML_END, self.format)
            else:
                raise corrupt(self.format, pos)
        need(data, pos, 0, self.format)
        for _ in range(max(feeds, inits)):
            pages.add()
        return pages.analysis(self.format)


PARSERS = [BjcParser()]
