"""PCL3, PCL4, PCL5 and PCL3GUI: pages from page ejects, raster rows skipped by length.

A PCL job is text and escape sequences. A page leaves the printer on a form feed
(FF), on a reset (ESC E), a Universal Exit Language or a paper-source command
(ESC &l#H) when something was drawn on it, and at the end of the job when marked.
Copies come from ESC &l#X, in effect when each page is ejected. Bulk data (raster
rows ESC *b#W/#V, fonts, patterns, macros) is skipped by its declared length, never
read: FF and ESC bytes inside it mean nothing. HP-GL/2 blocks (ESC %#B … ESC %#A)
draw on the current page; FF inside them is not a page eject.

Speed: one compiled regular expression finds the next escape sequence or control
byte, and a tight loop walks runs of raster rows (`ESC *b#W` + data) that make up
most of a driver's output.
"""

from __future__ import annotations

import re
import time

from pagetally.errors import CorruptData, LimitReached
from pagetally.pdl.base import DEFAULT_LIMITS, Analysis, Buffer, Limits
from pagetally.pdl.formats._pclrows import MIN_SIZE, RowIndex

# Bytes the main loop stops at: ESC and FF. Everything else is text (or nothing).
_STOP = re.compile(rb"[\x1b\x0c]")
# Printable text that marks a page (space and control codes do not).
_INK = re.compile(rb"[\x21-\x7e\x80-\xff]")
# The fast path: one raster row `ESC *b <n> W` (upper case: sequence ends, data follows).
_ROW = re.compile(rb"\x1b\*b(\d{0,9})([WVMY])")
# A parameterized escape: ESC, parameterized char, optional group char, parameters.
_PARAM_HEAD = re.compile(rb"\x1b([!-/])([`-~]?)")
# One parameter: value and a parameter char (lower case: more follow; upper: last).
_PARAM = re.compile(rb"([+-]?[0-9]{0,12}(?:\.[0-9]*)?)([`-~@-^])")
# HP-GL/2 commands that put ink on paper (two letters, case-insensitive).
_HPGL_DRAW = re.compile(
    rb"(?i)(?:PD|PE|PA[^;]*PD|LB|RR|RA|ER|EA|EP|FP|WG|EW|CI|AA|AR|BZ|BR|PM2|SM.)"
)
_UEL = b"\x1b%-12345X"

# (parameterized char, group char, parameter char upper-cased) that carry bulk data
# of the parameter's value in bytes right after the parameter char.
_DATA_PARAMS = frozenset(
    {
        b"*bW",  # raster row
        b"*bV",  # raster plane
        b"(sW",  # character descriptor / font header
        b")sW",  # font header
        b"(fW",  # symbol set definition
        b"&pX",  # transparent print data
        b"*cW",  # user-defined pattern
        b"*gW",  # configure raster data (PCL3GUI)
        b"*mW",  # download dither matrix
        b"*lW",  # colour lookup tables
        b"*vW",  # configure image data
        b"*iW",  # viewing illuminant
        b"&bW",  # AppleTalk configuration
        b"&nW",  # alphanumeric ID
        b"*oW",  # driver configuration
        b"$bW",  # (Canon/other) binary blocks
        b"(cW",  # (PCL3GUI) colour data
    }
)

_TIME_CHECK_EVERY = 1 << 14


class _State:
    """Page state while walking one job."""

    __slots__ = (
        "after_reset",
        "copies",
        "copy_values",
        "deskjet",
        "marked",
        "notes",
        "pages",
        "paintjet",
        "sheets",
    )

    def __init__(self) -> None:
        self.pages = 0  # pages ejected, copies included
        self.sheets = 0  # pages ejected, copies not included
        self.copies = 1
        self.copy_values: set[int] = set()
        self.marked = False
        self.notes: list[str] = []
        # DeskJet colour raster set up (ESC *g#W, ESC *r#U planes): its drivers go on
        # with bare plane parameters after an ESC *b#Y or #V (see _params)
        self.deskjet = False
        # PaintJet (ESC *t180R or 90R): a reset does not eject, its form feed does; so a
        # form feed right after a reset that ejected is that same page
        self.paintjet = False
        self.after_reset = False

    def eject(self, limits: Limits) -> None:
        """A page leaves the printer: count it with the copies now in effect."""
        self.sheets += 1
        self.pages += self.copies
        self.copy_values.add(self.copies)
        self.marked = False
        self.after_reset = False
        if self.pages > limits.max_pages:
            raise LimitReached(f"PCL job has more than {limits.max_pages} pages")


def _value(raw: bytes) -> int:
    """A PCL parameter value as an integer (decimals truncated, empty is 0)."""
    if not raw or raw in (b"+", b"-", b".", b"+.", b"-."):
        return 0
    try:
        return int(float(raw))
    except ValueError:  # pragma: no cover - the regex only lets numbers through
        return 0


_PJL_ENTER = re.compile(rb"@PJL[ \t]+ENTER[ \t]+LANGUAGE[ \t]*=[ \t]*\"?([A-Za-z0-9_.\-]*)", re.I)


def _is_pcl(language: bytes) -> bool:
    """Whether a PJL language name is one this parser reads (PCL, PCL3GUI, PCL5C, ...)."""
    name = language.upper()
    return name.startswith(b"PCL") and not name.startswith((b"PCLXL", b"PCL6", b"PCLM"))


def _skip_pjl(data: Buffer, pos: int, end: int) -> int:
    """After a UEL: skip PJL lines (`@PJL ...`) up to the next escape or other data.

    PJL entering another language is refused: what follows is not PCL, and reading
    it as PCL gives a count nobody printed (hpcups' JetReady: 5,230 pages for 2).
    """
    while pos < end:
        if data[pos : pos + 4].upper() == b"@PJL":
            nl = data.find(b"\n", pos, end)
            entered = _PJL_ENTER.match(data, pos, end if nl < 0 else nl)
            if entered is not None and not _is_pcl(entered.group(1)):
                lang = entered.group(1).decode("ascii", "replace")
                raise CorruptData(
                    f"PJL at offset {pos} enters LANGUAGE={lang} inside a PCL job: "
                    "another language is not counted as PCL"
                )
            pos = end if nl < 0 else nl + 1
        elif data[pos : pos + 1] in (b"\r", b"\n", b" ", b"\t", b"\x00"):
            pos += 1
        else:
            break
    return pos


def _hpgl(data: Buffer, pos: int, end: int, st: _State) -> int:
    """Inside HP-GL/2 (after ESC %#B): find its end, note whether it drew anything."""
    while True:
        esc = data.find(b"\x1b", pos, end)
        stop = end if esc < 0 else esc
        if not st.marked and _HPGL_DRAW.search(data, pos, stop):
            st.marked = True
        if esc < 0:
            return end
        nxt = data[esc + 1 : esc + 2]
        if nxt == b"E" or data[esc : esc + 9] == _UEL:
            return esc  # reset or UEL: leave HP-GL/2, let the main loop handle it
        if nxt == b"%":
            m = _PCT.match(data, esc)
            if m is not None and m.group(2) == b"A":
                return m.end()
        pos = esc + 1


def scan(data: Buffer, limits: Limits = DEFAULT_LIMITS, start: int = 0) -> Analysis:
    """Walk the whole PCL job in `data` from `start` and count its printed pages."""
    st = _State()
    end = len(data)
    pos = start
    stop_search = _STOP.search
    ink_search = _INK.search
    row_match = _ROW.match
    deadline = time.monotonic() + limits.max_seconds_per_mb * (end / 1_000_000 + 1)
    loops = 0
    truncated = False
    rows = RowIndex(data) if end - start >= MIN_SIZE else None
    while pos < end:
        loops += 1
        if loops % _TIME_CHECK_EVERY == 0 and time.monotonic() > deadline:
            raise LimitReached("PCL job took too long to scan")
        m = stop_search(data, pos)
        if m is None:
            if not st.marked and ink_search(data, pos, end):
                st.marked = True
            break
        i = m.start()
        if not st.marked and i > pos and ink_search(data, pos, i):
            st.marked = True
        if data[i] == 0x0C:  # form feed: the page is printed, drawn on or not
            if st.after_reset and st.paintjet and not st.marked:
                st.after_reset = False  # PaintJet: ESC E FF is one page
            else:
                st.eject(limits)
            pos = i + 1
            continue
        # Fast paths: raster rows and planes, vectorised in big jobs, else row by row.
        if rows is not None:
            jumped = rows.jump(i, True)
            if jumped is not None:
                pos, inside, drew = jumped
                if drew:
                    st.marked = True
                if (inside or (st.deskjet and _BARE.match(data, pos))) and pos <= end:
                    pos = _params(data, pos, b"*b", end, st, limits, rows, not inside)
                if pos > end:
                    truncated = True
                    break
                continue
        r = row_match(data, i)
        if r is not None:
            drew = False
            while r is not None:
                pos = r.end()
                if r.group(2) in b"WV" and r.group(1):
                    n = int(r.group(1))
                    if n:
                        drew = True
                        pos += n
                r = row_match(data, pos)
            if drew:
                st.marked = True
            if st.deskjet and pos < end and _BARE.match(data, pos):
                pos = _params(data, pos, b"*b", end, st, limits, rows, True)
            if pos > end:
                truncated = True
                break
            continue
        pos = _escape(data, i, end, st, limits, rows)
        if pos > end:
            truncated = True
            break
    if st.marked:
        st.eject(limits)
    if truncated:
        st.notes.append("data ends inside a PCL data block (truncated job)")
    copies = max(st.copy_values) if st.copy_values else 1
    if len(st.copy_values) > 1:
        st.notes.append("copies vary between pages: " + ",".join(map(str, sorted(st.copy_values))))
    return Analysis(format="PCL", pages=st.pages, copies=copies, notes=tuple(st.notes))


def _escape(
    data: Buffer,
    i: int,
    end: int,
    st: _State,
    limits: Limits,
    rows: RowIndex | None,
) -> int:
    """Handle the escape sequence at `i`; return where scanning goes on."""
    nxt = data[i + 1 : i + 2]
    if not nxt:
        return end
    c = nxt[0]
    if c == 0x45:  # ESC E: reset, prints a marked page
        if st.marked:
            st.eject(limits)
            st.after_reset = True
        return i + 2
    if c == 0x25:  # ESC %: UEL or HP-GL/2 entry/exit
        if data[i + 2 : i + 3] in (b"8", b"@"):
            return i + 3  # DEC LJ250: enter (ESC %8) and leave (ESC %@) PCL emulation
        if data[i : i + 9] == _UEL:
            if st.marked:
                st.eject(limits)
            return _skip_pjl(data, i + 9, end)
        m = _PCT.match(data, i)
        if m is None:
            return i + 2
        if m.group(2) == b"B":
            return _hpgl(data, m.end(), end, st)
        return m.end()
    if not 0x21 <= c <= 0x2F:
        # two-character escape (ESC 9, ESC =, ESC Y, ...), or garbage; PCL3GUI
        # drivers also write ungrouped ones with a value (ESC u 300 D)
        if 0x61 <= c <= 0x7A:
            u = _UNGROUPED.match(data, i + 2)
            if u is not None:
                return u.end()
        return i + 2
    h = _PARAM_HEAD.match(data, i)
    if h is None:  # pragma: no cover - c is a parameterized char
        return i + 2
    return _params(data, h.end(), h.group(1) + h.group(2), end, st, limits, rows)


def _params(
    data: Buffer,
    pos: int,
    key_prefix: bytes,
    end: int,
    st: _State,
    limits: Limits,
    rows: RowIndex | None,
    bare: bool = False,
) -> int:
    """The parameters of one escape sequence (of group `key_prefix`) from `pos`.

    `bare`: `pos` holds raster parameters without an `ESC *b` of their own, after
    a sequence that ended (a DeskJet driver's `ESC *b507Y` then `0v0v12v…`): they
    must go on as raster parameters up to an escape, else the job is refused.
    """
    planes = rows is not None and key_prefix == b"*b"
    jump = bare  # skip planes in bulk: bare ones, and those after a lower-case one
    while True:
        if planes and jump:
            assert rows is not None
            jumped = rows.jump(pos, False)
            if jumped is not None:
                pos, inside, drew = jumped
                if drew:
                    st.marked = True
                if pos > end:
                    return pos
                if not inside:  # the chain ended on an upper-case parameter char
                    if st.deskjet and _BARE.match(data, pos):
                        bare = True  # the DeskJet drivers' bare planes: go on
                    else:
                        return _bare_end(data, pos, end) if bare else pos
        p = (_BARE_PARAM if bare else _PARAM).match(data, pos)
        if p is None:
            return _bare_end(data, pos, end) if bare else pos  # malformed: resume there
        raw, term = p.group(1), p.group(2)
        pos = p.end()
        upper = term.upper()
        if key_prefix + upper in _DATA_PARAMS:
            n = _value(raw)
            if n > 0:
                pos += n
                if key_prefix in (b"*b", b"&p"):  # raster, transparent print data
                    st.marked = True
            if pos > end:
                return pos
        elif key_prefix == b"&l":
            if upper == b"X":
                v = _value(raw)
                st.copies = v if 1 <= v <= 999 else 1
            elif upper == b"H" and st.marked:
                st.eject(limits)
        elif key_prefix == b"*c" and upper == b"P":
            st.marked = True  # rectangle fill
        elif key_prefix == b"*r" and upper == b"U":
            if _value(raw) not in (0, 1):
                st.deskjet = True  # colour planes
        elif key_prefix == b"*t" and upper == b"R" and _value(raw) in (90, 180):
            st.paintjet = True  # PaintJet resolutions (LaserJets: 75-600)
        if key_prefix == b"*g" and upper == b"W":
            st.deskjet = True  # configure raster data (PCL3GUI)
        jump = term != upper
        if not jump:  # upper case parameter char ends the sequence
            if key_prefix != b"*b" or pos >= end:
                return pos
            if st.deskjet and _BARE.match(data, pos):
                bare = True  # the DeskJet drivers' bare planes: go on
                continue
            return _bare_end(data, pos, end) if bare else pos


def _bare_end(data: Buffer, pos: int, end: int) -> int:
    """Where bare raster parameters stop: only an escape, a form feed or the end may follow."""
    if pos >= end or data[pos] in (0x1B, 0x0C):
        return pos
    raise CorruptData(
        f"PCL raster parameters without ESC *b run into byte 0x{data[pos]:02x} at offset {pos}"
    )


_UNGROUPED = re.compile(rb"[+-]?[0-9]{1,9}[@-Z]")
# A raster parameter standing alone (value and v w m y, either case), as the DeskJet
# drivers write them after an ESC *b sequence that has ended.
_BARE = re.compile(rb"[0-9]{1,9}[vwmyVWMY]|[vwmy]")
_BARE_PARAM = re.compile(rb"([0-9]{0,9})([vwmyVWMY])")
_PCT = re.compile(rb"\x1b%([+-]?[0-9]{0,6})([A-Z])")


def detect(head: bytes) -> float:
    """PCL if the job opens with PCL escapes (after any NUL padding)."""
    h = head.lstrip(b"\x00")
    if h.startswith(b"\x1b%8\x1b"):  # DEC LJ250: PCL emulation, then PCL
        return 0.9 if detect(h[3:]) >= 0.6 else 0.0
    if h.startswith(b"\x1bE\x1b") or h.startswith(b"\x1bE\x1b%-12345X"):
        entered = _PJL_ENTER.search(h, 0, 4096)
        if entered is not None and not _is_pcl(entered.group(1)):
            return 0.0  # a reset, then PJL entering another language (hpcups' JetReady)
        return 0.95
    if h.startswith(b"\x1b%-12345X"):
        # UEL without PJL language switch; a PJL wrapper is stripped before us
        return 0.5 if b"\x1bE" in h[:4096] else 0.2
    hits = 0
    pos = 0
    for _ in range(8):
        m = _PARAM_HEAD.match(h, pos)
        if m is None:
            break
        p = m.end()
        ok = False
        for _ in range(16):
            q = _PARAM.match(h, p)
            if q is None:
                break
            p = q.end()
            if q.group(2).isupper() or q.group(2) in b"@[\\]^":
                ok = True
                break
        if not ok:
            break
        hits += 1
        pos = p
    if hits >= 3:
        return 0.9
    if hits >= 1 and h.startswith(b"\x1b"):
        return 0.6
    pct = _PCT.match(h)
    if pct is not None and pct.group(2) == b"B":
        return 0.6  # a job that opens in HP-GL/2
    return 0.0


class PclParser:
    """PCL3/4/5 and PCL3GUI (HP-GL/2 and raster inside)."""

    name = "pcl"
    format = "PCL"

    def detect(self, head: bytes) -> float:
        try:
            return detect(head)
        except Exception:  # detect must never raise  # pragma: no cover
            return 0.0

    def count(self, data: Buffer, limits: Limits = DEFAULT_LIMITS) -> Analysis:
        return scan(data, limits)


PARSERS = [PclParser()]
