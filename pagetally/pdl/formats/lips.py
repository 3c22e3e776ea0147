"""Canon LIPS III/IV (Ghostscript's lips3, lips4 raster devices, lips4v vector device).

Facts (the bytes those devices write; Ghostscript's contrib/lips4/gdevl4v.c for
lips4v): "ESC %@" enters LIPS, a DCS string ("DCS 41;150;0J lips4 ... ST")
names the level. Then ISO 6429 control sequences: CSI (0x9B or ESC [)
parameters, intermediates, a final byte. "CSI n;...; .r" is a raster image
followed by n bytes of data; "CSI n v" asks for n copies; a form feed (0x0C)
ejects a page, and nothing else does here. DCS ... ST strings carry text (job
name) and are skipped whole.

lips4v draws each page in LIPS IV vector mode, entered by "CSI &}" (ESC [0&}):
commands of bytes 0x20-0x7F each ended by IS2 (0x1E), numbers in
LIPS' own encoding (6 bits a byte from 0x40, the last byte 0x20-0x3F with 4 bits
and the sign). Only the image-data command carries binary data:
"}Q1" + (0|1) + compression (0, ":" or ";") + byte count + IS2 + that many
bytes. A "}p" command leaves vector mode: bare, for the page's end (then "CSI n
v" and the form feed), or "}p x y" to print downloaded glyphs at (x, y) in text
mode: each glyph one byte (a control code after "CSI 1.v"), fonts downloaded
by "CSI n;... .p" / ".q" with n bytes of bitmap, the cursor moved by "CSI n
a/j/k/e", and "CSI &}" back to vector mode. A printer's text mode may wrap or
feed a page when text runs off its edge, so a glyph run longer than the driver
writes (`_MAX_RUN` glyphs with no cursor command between them), a line feed or
carriage return among glyphs, or a cursor far outside the page area the
vector header declares ("(00 width height"; half of it beyond each edge is
allowed, glyphs overhang) is refused with its offset, never counted as no page.
"""

from __future__ import annotations

from pagetally.errors import CorruptData, TruncatedData
from pagetally.pdl._lazyre import lazy
from pagetally.pdl.base import DEFAULT_LIMITS, Analysis, Buffer, Limits
from pagetally.pdl.formats._host import Budget, Pages, corrupt, need, skip_pjl, split_head

_CSI = lazy(rb"(?:\x9b|\x1b\[)([0-9;<=>?:]{0,128})([\x20-\x2f]{0,4})([\x40-\x7e])")
_ESC = lazy(rb"\x1b([\x20-\x2f]{0,4})([\x30-\x7e])")
_ST = lazy(rb"\x9c|\x1b\\")
_LEVEL = lazy(rb"(?:\x90|\x1bP)\d+;\d+(?:;\d+)?J")
_VECTOR_CMD = lazy(rb"[\x20-\x7f]{0,4096}\x1e")
_IMAGE_DATA = lazy(rb"\}Q1[01][0:;]([\x40-\x7f]{0,5}[\x20-\x3f])\x1e")
_MAX_RUN = 16  # glyphs printed with no cursor command between them (lips4v writes 1)
_MOVES = {b"a": (1, 0), b"j": (-1, 0), b"k": (0, 1), b"e": (0, -1)}


def _first(params: bytes) -> int:
    head = params.split(b";", 1)[0]
    return int(head) if head.isdigit() else 0


def lips_numbers(text: bytes) -> list[int]:
    """The numbers in a LIPS IV vector command's parameters, in order."""
    out: list[int] = []
    acc = 0
    for c in text:
        if c >= 0x40:
            acc = (acc << 6) | (c & 0x3F)
        elif c >= 0x20:
            value = (acc << 4) | (c & 0x0F)
            out.append(value if c & 0x10 else -value)
            acc = 0
    return out


class _Glyphs:
    """The text-mode cursor while lips4v prints glyphs (see the module's notes)."""

    __slots__ = ("area", "run", "x", "y")

    def __init__(self, area: tuple[int, int], x: int, y: int) -> None:
        self.area = area
        self.x, self.y = x, y
        self.run = 0

    def move(self, final: bytes, n: int) -> None:
        dx, dy = _MOVES[final]
        self.x += dx * n
        self.y += dy * n
        self.run = 0

    def glyph(self, fmt: str, pos: int) -> None:
        self.run += 1
        width, height = self.area  # glyphs may overhang the area's edges by a cell
        inside = (
            -width // 2 <= self.x <= width * 3 // 2 and -height // 2 <= self.y <= height * 3 // 2
        )
        if self.run > _MAX_RUN or not inside:
            raise CorruptData(
                f"{fmt}: text at offset {pos} runs off the page area or past what the "
                "driver writes; whether the printer feeds a page there cannot be known"
            )


class LipsParser:
    """Canon LIPS raster lasers, and LIPS IV vector output (lips4v)."""

    name = "lips"
    format = "Canon LIPS"

    def detect(self, head: bytes) -> float:
        _lang, body = split_head(head)
        if body.startswith(b"\x1b%@") and _LEVEL.match(body, 3):
            return 0.99
        return 0.7 if body.startswith(b"\x1b%@") else 0.0

    def count(self, data: Buffer, limits: Limits = DEFAULT_LIMITS) -> Analysis:
        pos = skip_pjl(data)
        n = len(data)
        pages = Pages(limits)
        budget = Budget(n, limits)
        copies = 1
        area = (0, 0)  # lips4v: the page's drawing area in dots, from its vector header
        glyphs: _Glyphs | None = None  # lips4v: printing glyphs in text mode
        while pos < n:
            budget.tick()
            c = data[pos]
            if c == 0x9B or data[pos : pos + 2] == b"\x1b[":
                m = _CSI.match(data, pos)
                if not m:
                    raise corrupt(self.format, pos)
                pos = m.end()
                params, inter, final = m.groups()
                if inter == b"&" and final == b"}":
                    pos, area, glyphs = self._vector(data, pos, area, budget)
                elif inter == b"." and final in b"rpq":  # raster image, font download
                    size = _first(params)
                    need(data, pos, size, self.format)
                    pos += size
                elif inter == b"." and final == b"v":  # print the next n control codes
                    size = _first(params)
                    need(data, pos, size, self.format)
                    if glyphs is None:
                        raise corrupt(self.format, m.start())
                    for _ in range(size):
                        glyphs.glyph(self.format, pos)
                    pos += size
                elif not inter and final == b"v":
                    copies = _first(params) or 1
                elif glyphs is not None and not inter and final in _MOVES:
                    glyphs.move(final, _first(params))
            elif c == 0x90 or data[pos : pos + 2] == b"\x1bP":
                st = _ST.search(data, pos + 1)
                if not st:
                    raise corrupt(self.format, pos)
                pos = st.end()
            elif c == 0x1B:
                e = _ESC.match(data, pos)
                if not e:
                    raise corrupt(self.format, pos)
                pos = e.end()
            elif c == 0x0C:
                pages.add(copies)
                glyphs = None
                pos += 1
            elif glyphs is not None and c not in b"\r\n\x00\x07\x08\t\x0b\x0e\x0f" and c < 0x80:
                glyphs.glyph(self.format, pos)
                pos += 1
            elif c in b"\r\n\x00 " and glyphs is None:
                pos += 1
            else:
                raise corrupt(self.format, pos)
        return pages.analysis(self.format)

    def _vector(
        self, data: Buffer, pos: int, area: tuple[int, int], budget: Budget
    ) -> tuple[int, tuple[int, int], _Glyphs | None]:
        """Walk LIPS IV vector commands from `pos` to the "}p" that leaves vector
        mode: (where text mode resumes, the page area, the glyph cursor or None)."""
        n = len(data)
        while pos < n:
            budget.tick()
            if data[pos : pos + 3] == b"}Q1":
                m = _IMAGE_DATA.match(data, pos)
                if not m:
                    raise corrupt(self.format, pos)
                size = lips_numbers(m.group(1))[0]
                if size < 0:
                    raise corrupt(self.format, pos)
                need(data, m.end(), size, self.format)
                pos = m.end() + size
                continue
            m = _VECTOR_CMD.match(data, pos)
            if not m:
                raise corrupt(self.format, pos)
            cmd = data[pos : m.end() - 1]
            pos = m.end()
            if cmd.startswith(b"(00"):
                extent = lips_numbers(cmd[3:])
                if len(extent) != 2:
                    raise corrupt(self.format, m.start())
                area = (extent[0], extent[1])
            elif cmd.startswith(b"}p"):
                if len(cmd) == 2:
                    return pos, area, None
                at = lips_numbers(cmd[2:])
                if len(at) != 2:
                    raise corrupt(self.format, m.start())
                return pos, area, _Glyphs(area, at[0], at[1])
        raise TruncatedData(f"{self.format}: the job ends in vector mode")


PARSERS = [LipsParser()]
