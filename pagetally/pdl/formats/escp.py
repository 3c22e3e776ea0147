"""Epson ESC/P and ESC/P2: pages from form feeds, graphics skipped by their lengths.

An ESC/P job is text and escape commands, each with a fixed number of parameter
bytes, or a declared amount of data: bit images (ESC * / K / L / Y / Z / ^),
ESC/P2 raster graphics (ESC . and ESC i, run-length compressed rows walked by their
counters), extended commands ESC ( X nL nH … and the Stylus 800 style ESC | B rows
that Ghostscript's `escp` device writes, and the Canon BJ-10v's ESC | * nL nH
(n bytes of graphics: Ghostscript's bj10v and bj10vh, whose data is full of form
feed bytes — 191 pages for 3 when it was read as text). A page leaves the printer on a form feed
outside such data; a marked page without one is counted at the end of the job.
Remote mode (ESC ( R … REMOTE1) is skipped up to its terminator (ESC NUL NUL NUL),
EJL lines (ESC SOH @EJL …) up to the next escape.

pkpgcounter miscounted Ghostscript's `stcolor` output: its ESC . 1 rows are
compressed, so their byte length is known only by walking the run-length counters,
which this module does.

Gutenprint's Stylus driver (print-escp2.c, `send_print_command`) writes its rows
as `ESC i r c b nL nH mL mH`: colour, compression (0 none, 1 run-length), bits
per dot, bytes per row and a 16-bit row count; the row data is bytes × rows
once expanded. After `ESC ( G` (raster graphics mode, where the printer prints
no characters) the job is a machine's: every byte must belong to a command the
scanner knows, or to the CR/LF/FF/NUL/space between them, and anything else is
refused with its offset (`CorruptData`) instead of being guessed at; data that
ends inside a command there is `TruncatedData`. Remote mode is walked command by
command (two letters, a 16-bit length, data) up to its ESC NUL NUL NUL.
"""

from __future__ import annotations

import re
import time

from pagetally.errors import AnalysisUnavailable, CorruptData, LimitReached, TruncatedData
from pagetally.pdl._lazyre import lazy
from pagetally.pdl.base import DEFAULT_LIMITS, Analysis, Buffer, Limits
from pagetally.pdl.formats._escprows import MIN_SIZE, CommandIndex

_STOP = lazy(rb"[\x1b\x0c]")
_INK = lazy(rb"[\x21-\x7e\x80-\xff]")

# Parameter bytes of the ESC commands with a fixed count (ESC/P and ESC/P2).
_FIXED: dict[int, int] = {}
for _cmd, _n in {
    b"\x0e": 0, b"\x0f": 0, b"\x19": 1, b" ": 1, b"!": 1, b"$": 2, b"%": 1, b"+": 1,
    b"-": 1, b"/": 1, b"0": 0, b"1": 0, b"2": 0, b"3": 1, b"4": 0, b"5": 0, b"6": 0,
    b"7": 0, b"8": 0, b"9": 0, b":": 3, b"<": 0, b"=": 0, b">": 0, b"?": 2, b"@": 0,
    b"A": 1, b"E": 0, b"F": 0, b"G": 0, b"H": 0, b"I": 1, b"J": 1, b"M": 0, b"N": 1,
    b"O": 0, b"P": 0, b"Q": 1, b"R": 1, b"S": 1, b"T": 0, b"U": 1, b"W": 1, b"X": 3,
    b"\\": 2, b"a": 1, b"c": 2, b"e": 2, b"f": 2, b"g": 0, b"j": 1, b"k": 1, b"l": 1,
    b"p": 1, b"q": 1, b"r": 1, b"s": 1, b"t": 1, b"w": 1, b"x": 1, b"~": 2,
}.items():  # fmt: skip
    _FIXED[_cmd[0]] = _n
# Bit image commands ESC <c> nL nH data: bytes per column.
_COLUMN_IMAGES = {ord("K"): 1, ord("L"): 1, ord("Y"): 1, ord("Z"): 1}
# ESC * m nL nH: bytes per column by mode m.
_STAR_MODES = {0: 1, 1: 1, 2: 1, 3: 1, 4: 1, 5: 1, 6: 1, 7: 1, 32: 3, 33: 3, 38: 3, 39: 3, 40: 3,
               71: 6, 72: 6, 73: 6}  # fmt: skip
_REMOTE_END = b"\x1b\x00\x00\x00"
# ESC r / ESC ( r / ESC i inks: the low four bits name the colour (0 black, 1 magenta,
# 2 cyan, 4 yellow), the high four Gutenprint's density variant of it (light, light
# light, matte: 0x10-0x40 on black, 0x11/0x12 light magenta/cyan on an R3000). Black
# and its variants (grey inks) are neutral; any other colour (ESC/P's violet, red and
# green, a gloss optimiser ...) gives no verdict rather than a guess.
_COLOUR_INKS = frozenset(v << 4 | base for base in (1, 2, 4) for v in range(16))
_NEUTRAL_INKS = frozenset(v << 4 for v in range(16))
_ESCPR_ENTER = b"\x1b(R\x06\x00\x00ESCPR"
_GRAPHICS_MODE = b"\x1b(G\x01\x00\x01"
_SPACING = lazy(rb"\x1b(?:A[\x00-\x7f]|3[\x00-\xff]|[0-2])")
_BIT_IMAGE = lazy(rb"\x1b(?:\*[\x00-\x07\x20\x21\x26\x27\x28\x47-\x49]|[KLYZ])")


class _Page:
    __slots__ = (
        "colour", "colours", "escpr", "graphics", "ink", "limits", "marked", "notes", "pages",
        "track", "unknown_ink",
    )  # fmt: skip

    def __init__(self, limits: Limits, track: bool = False) -> None:
        self.limits = limits
        self.pages = 0
        self.marked = False
        self.graphics = False  # in ESC ( G raster graphics mode: strict
        self.escpr = False  # the job holds Epson ESC/P-R
        self.notes: list[str] = []
        # Colour pages (`page_colours`): the ink selected by ESC r / ESC ( r, whether
        # the page so far put a non-zero dot in a colour ink, the verdicts so far.
        self.track = track
        self.ink = 0
        self.colour = False
        self.colours: list[bool] = []
        self.unknown_ink = False

    def dots(self, data: Buffer, ink: int, start: int, stop: int, rle: bool) -> None:
        """Rows at data[start:stop] printed in `ink`: does the page now hold colour?"""
        if not self.track or self.colour or ink in _NEUTRAL_INKS:
            return
        if ink not in _COLOUR_INKS:
            self.unknown_ink = True
        elif _inked(data, start, stop, rle):
            self.colour = True

    def eject(self) -> None:
        self.pages += 1
        self.marked = False
        if self.track:
            self.colours.append(self.colour)
            self.colour = False
        if self.pages > self.limits.max_pages:
            raise LimitReached(f"ESC/P job has more than {self.limits.max_pages} pages")

    def unknown(self, what: str, at: int) -> int:
        """Where an unknown command at `at` ends: refused in graphics mode, else noted."""
        if self.graphics:
            raise CorruptData(f"ESC/P2: {what} at offset {at} in raster graphics mode")
        self.notes.append(f"{what} at offset {at} skipped")
        return at + 2


_ESCPR_NAME = lazy(rb"[a-z]{4}")


def _escpr(data: Buffer, q: int, end: int, pg: _Page) -> int:
    """Walk Epson ESC/P-R commands (ESC c, 32-bit length, four-letter name, data)
    up to the ESC @ after "endj"; each "endp" ends a page. Refused, with the
    offset, where the data is not such a command."""
    pg.escpr = True
    while q < end:
        if data[q] == 0x1B and q + 1 < end and data[q + 1] == 0x40:
            return q  # ESC @: back to ESC/P (the closing remote mode)
        if q + 10 > end:
            break
        if data[q] != 0x1B or not _ESCPR_NAME.fullmatch(data, q + 6, q + 10):
            raise CorruptData(f"ESC/P-R: unexpected data at offset {q}")
        length = int.from_bytes(data[q + 2 : q + 6], "little")
        name = bytes(data[q + 6 : q + 10])
        if name == b"endp":
            pg.eject()
        elif name == b"dsnd" and length:
            pg.marked = True
        q += 10 + length
    if q == end and not pg.marked:
        return q
    raise TruncatedData(f"ESC/P-R job ends inside a command or page (offset {min(q, end)})")


def _remote(data: Buffer, q: int, end: int, at: int) -> int:
    """Position after remote mode's commands (two letters, nL nH, data) and ESC NUL NUL NUL."""
    while q + 4 <= end:
        if data[q] == 0x1B:
            if data[q : q + 4] == _REMOTE_END:
                return q + 4
            break
        if not (0x20 < data[q] < 0x7F and 0x20 < data[q + 1] < 0x7F):
            break
        q += 4 + (data[q + 2] | (data[q + 3] << 8))
    if q + 4 > end:
        raise TruncatedData(f"ESC/P remote mode from offset {at} has no end")
    raise CorruptData(f"ESC/P remote mode from offset {at}: unexpected data at offset {q}")


def _inked(data: Buffer, start: int, stop: int, rle: bool) -> bool:
    """True when the rows at data[start:stop] (run-length coded or not) hold a non-zero byte."""
    stop = min(stop, len(data))
    if not rle:
        return data[start:stop].count(0) != stop - start
    pos = start
    while pos < stop:
        c = data[pos]
        if c < 128:
            lit = data[pos + 1 : min(stop, pos + 2 + c)]
            if lit.count(0) != len(lit):
                return True
            pos += c + 2
        else:
            if pos + 1 < stop and data[pos + 1]:
                return True
            pos += 2
    return False


def _packbits(data: Buffer, pos: int, need: int, end: int) -> int:
    """Position after run-length data that expands to `need` bytes (TIFF packbits)."""
    made = 0
    while made < need:
        if pos >= end:
            return end + 1  # truncated
        c = data[pos]
        if c < 128:
            made += c + 1
            pos += c + 2
        else:
            made += 257 - c
            pos += 2
    return pos


def _rows(data: Buffer, q: int, need: int, comp: int, ink: int, end: int, pg: _Page) -> int:
    """Raster rows of `need` bytes expanded at `q` in `ink`: where they end, -1 for an
    unknown compression (0 none, 1 run-length)."""
    if need:
        pg.marked = True
    if comp not in (0, 1):
        return -1
    stop = q + need if comp == 0 else _packbits(data, q, need, end)
    pg.dots(data, ink, q, stop, comp == 1)
    return stop


def _escape(data: Buffer, i: int, end: int, pg: _Page) -> int:
    """Handle the ESC command at `i`; return where scanning goes on (> end: truncated)."""
    if i + 1 >= end:
        return end
    c = data[i + 1]
    p = i + 2
    n = _FIXED.get(c)
    if n is not None:
        if c == 0x40:  # ESC @: a reset leaves graphics mode
            pg.graphics = False
            pg.ink = 0
        elif c == 0x72 and p < end:  # ESC r n: the ink of the rows that follow
            pg.ink = data[p]
        elif c == 0x65 and p + 1 < end and data[p + 1] == 0x1B:
            return p + 1  # ESC e n: one parameter in IBM's Jetprinter dialect (jetp3852)
        return p + n
    if c == 0x5B:  # ESC [ x nL nH data: IBM-style commands (Ghostscript's jetp3852 rows)
        if p + 3 > end:
            return end + 1
        length = data[p + 1] | (data[p + 2] << 8)
        if length:
            pg.marked = True
        return p + 3 + length
    if c == 0x2A:  # ESC * m nL nH: bit image
        if p + 3 > end:
            return end + 1
        per = _STAR_MODES.get(data[p])
        if per is None:
            return p  # not a bit image (a stray PCL-like prefix): ignore ESC *
        cols = data[p + 1] | (data[p + 2] << 8)
        if cols:
            pg.marked = True
            pg.dots(data, pg.ink, p + 3, p + 3 + cols * per, False)
        return p + 3 + cols * per
    if c in _COLUMN_IMAGES:  # ESC K/L/Y/Z nL nH data
        if p + 2 > end:
            return end + 1
        cols = data[p] | (data[p + 1] << 8)
        if cols:
            pg.marked = True
            pg.dots(data, pg.ink, p + 2, p + 2 + cols, False)
        return p + 2 + cols
    if c == 0x5E:  # ESC ^ m nL nH: 9-pin graphics, 2 bytes a column
        if p + 3 > end:
            return end + 1
        cols = data[p + 1] | (data[p + 2] << 8)
        if cols:
            pg.marked = True
        return p + 3 + 2 * cols
    if c == 0x28:  # ESC ( X nL nH data: extended command
        if p + 3 > end:
            return end + 1
        kind = data[p]
        length = data[p + 1] | (data[p + 2] << 8)
        q = p + 3 + length
        if kind == 0x52:  # ESC ( R NUL name: remote mode, or Epson's ESC/P-R
            name = bytes(data[p + 4 : q])
            if name == b"REMOTE1":
                return _remote(data, q, end, i)
            if name == b"ESCPR":
                return _escpr(data, q, end, pg)
            return pg.unknown(f"ESC ( R {name[:16]!r}", i)
        if kind == 0x47:  # ESC ( G: raster graphics mode
            pg.graphics = True
        elif kind == 0x72 and length == 2 and q <= end:  # ESC ( r 2 0 density ink
            pg.ink = data[p + 4]
        elif kind == 0x5E and length:  # ESC ( ^: data printed as characters
            pg.marked = True
        return q
    if c == 0x2E:  # ESC . c v h m nL nH: raster graphics
        if p + 6 > end:
            return end + 1
        dots = data[p + 4] | (data[p + 5] << 8)
        stop = _rows(data, p + 6, data[p + 3] * ((dots + 7) // 8), data[p], pg.ink, end, pg)
        return stop if stop >= 0 else pg.unknown(f"ESC . compression {data[p]}", i)
    if c == 0x69:  # ESC i: raster (r c b nL nH mL mH, Gutenprint) or ESC/P incremental (n)
        if p + 7 <= end and data[p + 1] in (0, 1) and data[p + 2] in (1, 2):
            need = (data[p + 3] | (data[p + 4] << 8)) * (data[p + 5] | (data[p + 6] << 8))
            return _rows(data, p + 7, need, data[p + 1], data[p], end, pg)
        if pg.graphics:
            return pg.unknown("ESC i with an unknown layout", i)
        return p + 1
    if c == 0x7C:  # ESC | (Stylus 800 style, Ghostscript's escp device)
        if p >= end:
            return end + 1
        sub = data[p]
        # ESC | B mode nL nH data: a raster row; ESC | * nL nH data: Canon BJ-10v
        # graphics (Ghostscript's bj10v); ESC | J n n: advance.
        skip = {0x42: 2, 0x2A: 1}.get(sub)
        if skip is None:
            return p + 3 if sub == 0x4A else p + 1
        q = p + skip
        if q + 2 > end:
            return end + 1
        length = data[q] | (data[q + 1] << 8)
        if length:
            pg.marked = True
        return q + 2 + length
    if pg.graphics:  # no text-mode command below makes sense after ESC ( G
        return pg.unknown(f"ESC 0x{c:02x}", i)
    if c == 0x01:  # ESC SOH @EJL ...: Epson job language up to the next escape
        nxt = data.find(b"\x1b", p)
        return end if nxt < 0 else nxt
    if c in (0x42, 0x44, 0x62):  # ESC B / D / b: tab stops up to NUL (at most 32)
        nul = data.find(b"\x00", p, min(end, p + 33))
        return p + 1 if nul < 0 else nul + 1
    if c == 0x43:  # ESC C n, or ESC C NUL n: page length
        return p + 2 if p < end and data[p] == 0 else p + 1
    if c == 0x26:  # ESC & NUL n m (a0 a1 a2 d...)*: user-defined characters
        if p + 3 > end:
            return end + 1
        first, last = data[p + 1], data[p + 2]
        q = p + 3
        for _ in range(max(0, last - first + 1)):
            if q + 3 > end:
                return end + 1
            q += 3 + 3 * data[q + 1]  # 24-pin: 3 bytes a column
        return q
    return p  # unknown: skip ESC and the command byte


_NOISE = lazy(rb"[^\x00\r\n ]")


def _stray(data: Buffer, pos: int, stop: int) -> None:
    """In graphics mode only CR, LF, NUL and spaces may lie between commands."""
    m = _NOISE.search(data, pos, stop)
    if m is not None:
        at = m.start()
        raise CorruptData(
            f"ESC/P2: unexpected byte 0x{data[at]:02x} at offset {at} in raster graphics mode"
        )


def scan(data: Buffer, limits: Limits = DEFAULT_LIMITS) -> Analysis:
    """Count the pages of the ESC/P or ESC/P2 job in `data`."""
    return _scan(data, _Page(limits))


def page_colours(data: Buffer, limits: Limits = DEFAULT_LIMITS) -> list[bool]:
    """Per page: does it put a dot of colour ink on paper? The job is walked
    command by command (no index: every raster row is looked at), and a page is
    colour when a row printed in magenta, cyan or yellow (ESC r, ESC ( r, ESC i's
    ink; Gutenprint's light and dark variants included) holds a non-zero byte: a
    colour row of only zero bytes prints nothing. AnalysisUnavailable for ESC/P-R
    (its own raster is not followed here) and for a row in an ink that is neither
    neutral nor one of those colours."""
    pg = _Page(limits, track=True)
    analysis = _scan(data, pg)
    if pg.escpr:
        raise AnalysisUnavailable("colour pages of Epson ESC/P-R jobs are not read")
    if pg.unknown_ink:
        raise AnalysisUnavailable("ESC/P: a row in an ink that is neither neutral nor C/M/Y")
    if len(pg.colours) != analysis.pages:
        raise AnalysisUnavailable("ESC/P: colour could not be followed page by page")
    return pg.colours


def _scan(data: Buffer, pg: _Page) -> Analysis:
    limits = pg.limits
    end = len(data)
    pos = 0
    deadline = time.monotonic() + limits.max_seconds_per_mb * (end / 1_000_000 + 1)
    stop_search = _STOP.search
    ink_search = _INK.search
    loops = 0
    truncated = False
    index = CommandIndex(data, _FIXED, _STAR_MODES) if end >= MIN_SIZE and not pg.track else None
    while pos < end:
        loops += 1
        if loops & 0x3FFF == 0 and time.monotonic() > deadline:
            raise LimitReached("ESC/P job took too long to scan")
        m = stop_search(data, pos)
        i = end if m is None else m.start()
        if pg.graphics:
            if i > pos:
                _stray(data, pos, i)
        elif not pg.marked and i > pos and ink_search(data, pos, i):
            pg.marked = True
        if m is None:
            break
        if data[i] == 0x0C:
            pg.eject()
            pos = i + 1
            continue
        if index is not None:
            jumped = index.jump(i)
            if jumped is not None:
                pos, drew = jumped
                if drew:
                    pg.marked = True
                if pos > end:
                    truncated = True
                    break
                continue
        pos = _escape(data, i, end, pg)
        if pos > end:
            truncated = True
            break
    if truncated and pg.graphics:
        raise TruncatedData(f"ESC/P2 job ends inside a raster command that began at offset {i}")
    notes = pg.notes
    if pg.marked:
        pg.eject()
        notes.append("last page has no form feed: counted")
    if truncated:
        notes.append("data ends inside an ESC/P command or graphics (truncated job)")
    fmt = "Epson ESC/P-R" if pg.escpr else "ESC/P"
    return Analysis(format=fmt, pages=pg.pages, notes=tuple(dict.fromkeys(notes)))


def detect(head: bytes) -> float:
    """ESC/P(2) when the job opens with a reset, ESC/P2 setup or EJL/remote mode."""
    h = head.lstrip(b"\x00")
    if h.startswith(b"\x1b\x01@EJL"):
        # Epson's job language also wraps ESC/Page: look at what it enters and at
        # what follows the EJL lines (an ESC/P2 job resets with ESC @).
        nxt = h.find(b"\x1b", 2)
        ejl = h[: len(h) if nxt < 0 else nxt].upper()
        if b"ENTER LANGUAGE" in ejl and b"ESC/P2" not in ejl and b"ESCP" not in ejl:
            return 0.0
        if b"ESC/PAGE" in ejl:
            return 0.0
        body = h[nxt:] if nxt >= 0 else b""
        return 0.9 if body.startswith((b"\x1b@", b"\x1b(R")) else 0.3
    if h.startswith((b"\x1b@\x1b(R", b"\x1b(R")):
        return 0.95
    if h.startswith(b"\x1b@"):
        if re.search(rb"\x1b[(.*K-Z^|J\\]", h[2:4096]):
            return 0.9
        # A reset followed by binary is a coincidence (raw G3 fax data), not ESC/P.
        after = h[2:3]
        return 0.6 if not after or after in b"\x1b\r\n\x0c" or 32 <= after[0] < 127 else 0.0
    if h.startswith(_GRAPHICS_MODE):
        return 0.9  # straight into raster graphics mode (netpbm's pbmtoescp2)
    if _SPACING.match(h) and _BIT_IMAGE.search(h, 0, 4096):
        return 0.7  # line spacing, then bit images (netpbm's pbmtoepson, pbmto10x)
    if re.search(rb"\x1b\|[BJ]", h[:4096]) and b"\x1b\\" in h[:4096]:
        return 0.8  # Stylus 800 style rows (after a PCL-like ESC*rbC prefix)
    return 0.0


class EscprParser:
    """Epson ESC/P-R (epson-escpr, Epson's own inkjet driver): ESC/P's job
    wrapper (EJL, remote mode) around ESC/P-R's length-prefixed commands."""

    name = "escpr"
    format = "Epson ESC/P-R"

    def detect(self, head: bytes) -> float:
        return 0.99 if _ESCPR_ENTER in head[:4096] and detect(head) > 0.0 else 0.0

    def count(self, data: Buffer, limits: Limits = DEFAULT_LIMITS) -> Analysis:
        return scan(data, limits)


class EscpParser:
    """Epson ESC/P (dot matrix) and ESC/P2 (Stylus: raster, remote mode)."""

    name = "escp"
    format = "ESC/P"

    def detect(self, head: bytes) -> float:
        return detect(head)

    def count(self, data: Buffer, limits: Limits = DEFAULT_LIMITS) -> Analysis:
        return scan(data, limits)


PARSERS = [EscpParser(), EscprParser()]
