"""LAVAFLOW (foo2lava: Konica Minolta magicolor 1600W/2530DL/4690MF, Xerox 6121MFP).

Facts (lavadecode on foo2lava output): after "@PJL ENTER LANGUAGE=LAVAFLOW", a
PCL-like stream of ESC sequences (ESC, a group character, a parameter character,
then value/letter pairs). Each page starts raster with ESC*r#A and ends it with
ESC*rC; ESC&l#X asks for copies. The payload-carrying commands ESC*b#V/W
(JBIG data), ESC*g#W (plane configuration) and the font/pattern downloads
ESC(s#W, ESC)s#W, ESC*c#W are followed by # bytes and are jumped over.
"""

from __future__ import annotations

from pagetally.pdl._lazyre import lazy
from pagetally.pdl.base import DEFAULT_LIMITS, Analysis, Buffer, Limits
from pagetally.pdl.formats._host import UEL, Budget, Pages, corrupt, need, skip_pjl, split_head

# ESC, group (!-/), parameter (`-~), then value+letter pairs; a final upper-case letter.
_NUM = rb"[+-]?[0-9]{0,32}(?:\.[0-9]{0,32})?"  # bounded: no slow backtracking
_SEQ = lazy(rb"\x1b([!-/])([`-~])((?:" + _NUM + rb"[`-~]){0,64})(" + _NUM + rb")([@-^])")
_PAIR = lazy(rb"(" + _NUM + rb")([`-~@-^])")
_DATA = {(b"*", b"b"), (b"*", b"g"), (b"(", b"s"), (b")", b"s"), (b"*", b"c"), (b"&", b"p")}


def _int(raw: bytes) -> int:
    try:
        return int(float(raw)) if raw else 0
    except ValueError:
        return 0


class LavaParser:
    """LAVAFLOW colour lasers."""

    name = "lava"
    format = "LAVAFLOW"

    def detect(self, head: bytes) -> float:
        lang, body = split_head(head)
        if lang == "LAVAFLOW":
            return 0.99
        # JBIG compression, "ESC*b1234M", is LAVAFLOW's alone (PCL's methods are 0-9):
        # surer than a PCL parser can be about a stream that starts with ESC E.
        if body.startswith(b"\x1bE") and b"\x1b*b1234M" in body[:512]:
            return 0.98
        return 0.0

    def count(self, data: Buffer, limits: Limits = DEFAULT_LIMITS) -> Analysis:
        pos = skip_pjl(data)
        n = len(data)
        pages = Pages(limits)
        budget = Budget(n, limits)
        copies = 1
        while pos < n:
            budget.tick()
            c = data[pos]
            if c != 0x1B:
                if c in b"\r\n\x00\x0c ":
                    pos += 1
                    continue
                raise corrupt(self.format, pos)
            if data[pos : pos + 2] == b"\x1bE":
                pos += 2
                continue
            if data[pos : pos + 9] == UEL:
                pos = skip_pjl(data, pos)
                continue
            m = _SEQ.match(data, pos)
            if not m:
                raise corrupt(self.format, pos)
            group, param = m.group(1), m.group(2)
            pos = m.end()
            pairs = [*_PAIR.findall(m.group(3)), (m.group(4), m.group(5))]
            for raw, letter in pairs:
                key = letter.upper()
                value = _int(raw)
                if (group, param) in _DATA and key in (b"V", b"W"):
                    need(data, pos, value, self.format)
                    pos += value
                elif group == b"*" and param == b"r" and key == b"A":
                    pages.add(copies)
                elif group == b"&" and param == b"l" and key == b"X":
                    copies = value
        return pages.analysis(self.format)


PARSERS = [LavaParser()]
