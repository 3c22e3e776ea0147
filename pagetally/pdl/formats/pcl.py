"""PCL3, PCL4, PCL5 and PCL3GUI: pages from page ejects, raster rows skipped by length.

A PCL job is text and escape sequences. A page leaves the printer on a form feed
(FF) and on text running past the bottom margin (_pclpage.py), and, when something
was drawn on it, on a reset (ESC E), a Universal Exit Language, a paper source
(ESC &l#H), page size (#A), duplex (#S) or page side (ESC &a#G) command or an
orientation change (ESC &l#O), and at the end of the job. Copies come from ESC
&l#X (1 to 32,767, as GhostPCL), in effect when each page is ejected. Macros
(ESC &f#Y id, ESC &f#X control) are kept and run where executed or called (two
levels deep, as the printer) and as an overlay at every eject; a reset deletes
the temporary ones. Bulk data (raster rows ESC *b#W/#V, fonts, patterns) is
skipped by its declared length, never read: FF and ESC bytes inside it mean
nothing. HP-GL/2 blocks (ESC %#B … ESC %#A) draw on the current page; FF inside
them is not a page eject. Truths for these rules come from GhostPCL (tests).

Speed: one compiled regular expression finds the next escape sequence or control
byte, and a tight loop walks runs of raster rows (`ESC *b#W` + data) that make up
most of a driver's output.
"""

from __future__ import annotations

import re
import time

from pagetally.errors import CorruptData, LimitReached
from pagetally.pdl._lazyre import lazy
from pagetally.pdl.base import DEFAULT_LIMITS, Analysis, Buffer, Limits
from pagetally.pdl.formats._pclpage import WRAP_CHARS, Page
from pagetally.pdl.formats._pclrows import MIN_SIZE, RowIndex

# Bytes the main loop stops at: ESC and FF. Everything else is text (or nothing).
_STOP = lazy(rb"[\x1b\x0c]")
# Printable text that marks a page (space and control codes do not).
_INK = lazy(rb"[\x21-\x7e\x80-\xff]")
# The fast path: one raster row `ESC *b <n> W` (upper case: sequence ends, data follows).
_ROW = lazy(rb"\x1b\*b(\d{0,9})([WVMY])")
# A parameterized escape: ESC, parameterized char, optional group char, parameters.
_PARAM_HEAD = lazy(rb"\x1b([!-/])([`-~]?)")
# One parameter: value and a parameter char (lower case: more follow; upper: last).
_PARAM = lazy(rb"([+-]?[0-9]{0,12}(?:\.[0-9]*)?)([`-~@-^])")
# HP-GL/2 commands that put ink on paper (two letters, case-insensitive).
_HPGL_DRAW = lazy(rb"(?i)(?:PD|PE|PA[^;]*PD|LB|RR|RA|ER|EA|EP|FP|WG|EW|CI|AA|AR|BZ|BR|PM2|SM.)")
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


_LPI = frozenset({1, 2, 3, 4, 6, 8, 12, 16, 24, 48})  # lines per inch ESC &l#D takes
MAX_COPIES = 32767  # GhostPCL: ESC &l99999X prints 32,767 copies
MACRO_DEPTH = 3  # a macro runs inside at most two others (GhostPCL: a recursive one runs 3 times)


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
        # with bare plane parameters after an ESC *b#Y or #V (see _Walker.params)
        self.deskjet = False
        # PaintJet (ESC *t180R or 90R): a reset does not eject, its form feed does; so a
        # form feed right after a reset that ejected is that same page
        self.paintjet = False
        self.after_reset = False


# Raster resolutions of LaserJets (ESC *t#R); any other is a PaintJet-style driver,
# whose reset does not eject (so its "ESC E FF" is one page).
_LASERJET_DPI = (75, 100, 150, 200, 300, 600, 1200)


def _number(raw: bytes) -> float:
    """A PCL parameter value with its fraction (empty is 0)."""
    try:
        return float(raw) if raw.strip(b"+-.") else 0.0
    except ValueError:  # pragma: no cover - the regex only lets numbers through
        return 0.0


def _value(raw: bytes) -> int:
    """A PCL parameter value as an integer (decimals truncated, empty is 0)."""
    if not raw or raw in (b"+", b"-", b".", b"+.", b"-."):
        return 0
    try:
        return int(float(raw))
    except ValueError:  # pragma: no cover - the regex only lets numbers through
        return 0


_PJL_ENTER = lazy(rb"@PJL[ \t]+ENTER[ \t]+LANGUAGE[ \t]*=[ \t]*\"?([A-Za-z0-9_.\-]*)", re.I)


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


class _Walker:
    """One job: the walk, its page state, macros and the cursor's line."""

    def __init__(self, data: Buffer, limits: Limits, rows: RowIndex | None) -> None:
        self.data = data
        self.end = len(data)
        self.limits = limits
        self.rows = rows
        self.st = _State()
        self.page = Page()
        self.deadline = time.monotonic() + limits.max_seconds_per_mb * (self.end / 1_000_000 + 1)
        self.loops = 0
        self.truncated = False
        self.macro_id = 0
        self.macros: dict[int, tuple[int, int, bool]] = {}  # id → (start, stop, permanent)
        self.overlay: int | None = None
        self.depth = 0
        self.in_overlay = False
        self.units = 300  # PCL units per inch (ESC &u#D)

    # --- pages ---------------------------------------------------------------------

    def eject(self, top: bool = True) -> None:
        """A page leaves the printer: its overlay runs first, then it is counted.

        `top`: the next page starts at its top (not so after a line feed that ran
        past the bottom: Page.feed has placed the cursor).
        """
        st = self.st
        if self.overlay is not None and not self.in_overlay:
            macro = self.macros.get(self.overlay)
            if macro is not None:
                self.in_overlay = True
                try:
                    self.run_macro(macro)
                finally:
                    self.in_overlay = False
        st.sheets += 1
        st.pages += st.copies
        st.copy_values.add(st.copies)
        st.marked = False
        st.after_reset = False
        if top:
            self.page.y = 0
            self.page.unknown = False
        if st.pages > self.limits.max_pages:
            raise LimitReached(f"PCL job has more than {self.limits.max_pages} pages")

    def eject_marked(self) -> None:
        if self.st.marked:
            self.eject()

    def reset(self) -> None:
        """ESC E or UEL: prints a marked page, back to defaults, temporary macros gone."""
        self.eject_marked()
        self.page.reset()
        self.overlay = None
        self.units = 300
        self.macros = {k: m for k, m in self.macros.items() if m[2]}

    def text(self, pos: int, stop: int) -> None:
        """Text bytes (no ESC, no FF): ink marks the page, line ends move the cursor."""
        data = self.data
        page = self.page
        st = self.st
        if _INK.search(data, pos, stop) is None:
            ink = False
        else:
            ink = True
            if page.wrap:
                self.wrap(pos, stop)
        chunk = bytes(data[pos:stop])
        feeds = chunk.count(b"\n")
        cr = page.lt_mode & 1  # CR also feeds a line (ESC &k1G, 3G)
        if cr:
            feeds += chunk.count(b"\r")
        if feeds:
            ejects = page.feed(feeds)
            for _ in range(ejects):
                self.eject(False)
            if ejects and ink:  # the ink after the feed that ejected marks the new page
                q = len(chunk)
                for _ in range(page.since + 1):
                    q = max(chunk.rfind(b"\n", 0, q), chunk.rfind(b"\r", 0, q) if cr else -1)
                st.marked = _INK.search(chunk, q + 1) is not None
                return
        if ink:
            st.marked = True

    def wrap(self, pos: int, stop: int) -> None:
        """End-of-line wrap: long lines feed more lines (at 10 pitch only)."""
        if self.page.fonts:
            raise CorruptData(
                f"PCL text with end-of-line wrap in a chosen font at offset {pos}: "
                "where its lines break is not followed"
            )
        for line in re.split(rb"[\r\n]", bytes(self.data[pos:stop])):
            extra = (len(line) - 1) // WRAP_CHARS
            for _ in range(self.page.feed(extra) if extra > 0 else 0):
                self.eject(False)

    # --- macros --------------------------------------------------------------------

    def run_macro(self, macro: tuple[int, int, bool]) -> None:
        if self.depth >= MACRO_DEPTH:
            return
        self.depth += 1
        try:
            self.walk(macro[0], macro[1])
        finally:
            self.depth -= 1

    def define_macro(self, pos: int) -> int:
        """After ESC &f0X: the macro's body up to ESC &f1X is kept, not run."""
        body = pos
        stop = self.end
        while pos < stop:
            m = _STOP.search(self.data, pos)
            if m is None:
                break
            i = m.start()
            if self.data[i] != 0x1B:
                pos = i + 1
                continue
            h = _PARAM_HEAD.match(self.data, i)
            if h is None:
                pos = i + 2
                continue
            key = h.group(1) + h.group(2)
            pos = h.end()
            while True:  # the parameters, data blocks skipped, looking for &f1X
                p = _PARAM.match(self.data, pos)
                if p is None:
                    break
                pos = p.end()
                upper = p.group(2).upper()
                if key + upper in _DATA_PARAMS:
                    pos += max(0, _value(p.group(1)))
                elif key == b"&f" and upper == b"X" and _value(p.group(1)) == 1:
                    self.macros[self.macro_id] = (body, i, False)
                    return pos
                if p.group(2) == upper:
                    break
        self.st.notes.append("a macro definition runs to the end of the job")
        return self.end

    def macro_control(self, value: int, pos: int) -> int:
        """ESC &f#X; returns where scanning goes on."""
        mid = self.macro_id
        if value == 0:
            return self.define_macro(pos)
        if value in (2, 3):  # execute, call
            macro = self.macros.get(mid)
            if macro is not None:
                self.run_macro(macro)
        elif value == 4:
            self.overlay = mid
        elif value == 5:
            self.overlay = None
        elif value == 6:
            self.macros.clear()
        elif value == 7:
            self.macros = {k: m for k, m in self.macros.items() if m[2]}
        elif value == 8:
            self.macros.pop(mid, None)
        elif value in (9, 10) and mid in self.macros:
            start, stop, _ = self.macros[mid]
            self.macros[mid] = (start, stop, value == 10)
        return pos

    # --- the walk ------------------------------------------------------------------

    def walk(self, pos: int, end: int) -> None:
        """Walk `data[pos:end]` (the job, or a macro's body)."""
        data = self.data
        st = self.st
        rows = self.rows
        stop_search = _STOP.search
        row_match = _ROW.match
        escape = self.escape
        while pos < end:
            self.loops += 1
            if self.loops % _TIME_CHECK_EVERY == 0 and time.monotonic() > self.deadline:
                raise LimitReached("PCL job took too long to scan")
            m = stop_search(data, pos, end)
            if m is None:
                self.text(pos, end)
                return
            i = m.start()
            if i > pos:
                self.text(pos, i)
            if data[i] == 0x0C:  # form feed: the page is printed, drawn on or not
                if st.after_reset and st.paintjet and not st.marked:
                    st.after_reset = False  # PaintJet: ESC E FF is one page
                else:
                    self.eject()
                pos = i + 1
                continue
            # Fast paths: raster rows and planes, vectorised in big jobs, else row by row.
            if rows is not None:
                jumped = rows.jump(i, True)
                if jumped is not None:
                    pos, inside, drew = jumped
                    if drew:
                        st.marked = True
                    self.page.unknown = True
                    if (inside or (st.deskjet and _BARE.match(data, pos))) and pos <= end:
                        pos = self.params(pos, b"*b", not inside)
                    if pos > end:
                        self.truncated = True
                        return
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
                self.page.unknown = True
                if st.deskjet and pos < end and _BARE.match(data, pos):
                    pos = self.params(pos, b"*b", True)
                if pos > end:
                    self.truncated = True
                    return
                continue
            pos = escape(i)
            if pos > end:
                self.truncated = True
                return

    def escape(self, i: int) -> int:
        """Handle the escape sequence at `i`; return where scanning goes on."""
        data = self.data
        end = self.end
        st = self.st
        nxt = data[i + 1 : i + 2]
        if not nxt:
            return end
        c = nxt[0]
        if c == 0x45:  # ESC E: reset, prints a marked page
            marked = st.marked
            self.reset()
            if marked:
                st.after_reset = True
            return i + 2
        if c == 0x25:  # ESC %: UEL or HP-GL/2 entry/exit
            if data[i + 2 : i + 3] in (b"8", b"@"):
                return i + 3  # DEC LJ250: enter (ESC %8) and leave (ESC %@) PCL emulation
            if data[i : i + 9] == _UEL:
                self.reset()
                return _skip_pjl(data, i + 9, end)
            m = _PCT.match(data, i)
            if m is None:
                return i + 2
            if m.group(2) == b"B":
                return _hpgl(data, m.end(), end, st)
            return m.end()
        if c == 0x3D:  # ESC =: half line feed
            for _ in range(self.page.feed(1, half=True)):
                self.eject(False)
            return i + 2
        if not 0x21 <= c <= 0x2F:
            # two-character escape (ESC 9, ESC Y, ...), or garbage; PCL3GUI
            # drivers also write ungrouped ones with a value (ESC u 300 D)
            if 0x61 <= c <= 0x7A:
                u = _UNGROUPED.match(data, i + 2)
                if u is not None:
                    return u.end()
            return i + 2
        h = _PARAM_HEAD.match(data, i)
        if h is None:  # pragma: no cover - c is a parameterized char
            return i + 2
        return self.params(h.end(), h.group(1) + h.group(2))

    def params(self, pos: int, key_prefix: bytes, bare: bool = False) -> int:
        """The parameters of one escape sequence (of group `key_prefix`) from `pos`.

        `bare`: `pos` holds raster parameters without an `ESC *b` of their own, after
        a sequence that ended (a DeskJet driver's `ESC *b507Y` then `0v0v12v…`): they
        must go on as raster parameters up to an escape, else the job is refused.
        """
        data = self.data
        end = self.end
        st = self.st
        rows = self.rows
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
                        self.page.unknown = self.page.unknown or key_prefix == b"*b"
                if pos > end:
                    return pos
            elif key_prefix == b"*b":
                pass  # compression, y offset: nothing that counts
            elif key_prefix == b"&l":
                self.page_command(upper, raw)
            elif key_prefix == b"&f":
                if upper == b"Y":
                    self.macro_id = _value(raw)
                elif upper == b"X":
                    after = self.macro_control(_value(raw), pos)
                    if after != pos:  # a definition: its body is skipped
                        return after
            elif key_prefix == b"&a":
                self.move(upper, raw, self.page.vmi if upper == b"R" else 1)
            elif key_prefix == b"*p" and upper == b"Y":
                self.move(upper, raw, 0)
            elif key_prefix == b"&u" and upper == b"D":
                self.units = max(1, _value(raw))
            elif key_prefix == b"&k":
                if upper == b"G":
                    self.page.lt_mode = _value(raw) & 3
                elif upper in (b"H", b"S"):
                    self.page.fonts = True  # HMI, pitch mode
            elif key_prefix in (b"(s", b")s", b"&s"):
                if key_prefix == b"&s" and upper == b"C":
                    self.page.wrap = _value(raw) == 0
                elif key_prefix != b"&s":
                    self.page.fonts = True
            elif key_prefix == b"*c" and upper == b"P":
                st.marked = True  # rectangle fill
            elif key_prefix == b"*r" and upper == b"U":
                if _value(raw) not in (0, 1):
                    st.deskjet = True  # colour planes
            elif key_prefix == b"*t" and upper == b"R" and _value(raw) not in _LASERJET_DPI:
                st.paintjet = True  # PaintJet drivers (90, 180; Ghostscript's pj at -r72)
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

    def page_command(self, upper: bytes, raw: bytes) -> None:
        """ESC &l: copies, paper source, page size, orientation, duplex, lines."""
        st = self.st
        page = self.page
        v = _value(raw)
        if upper == b"X":
            if v >= 1:  # 0 and negative values change nothing
                st.copies = min(v, MAX_COPIES)
            return
        v = abs(v)  # the others take a negative value as positive (GhostPCL)
        if upper == b"H":
            self.eject_marked()
        elif upper == b"A":
            self.eject_marked()
            page.set_size(v)
        elif upper == b"O":
            marked = st.marked
            if page.set_orientation(v) and marked:
                self.eject()
        elif upper == b"S":
            self.eject_marked()
        elif upper == b"C":  # 1/48 inch (fractions too: ESC &l0.5C) → decipoints
            lines = abs(_number(raw))
            page.set_vmi(max(1, round(lines * 15)) if lines > 0 else 0)
        elif upper == b"D":
            if v in _LPI:  # other values are ignored (GhostPCL)
                page.set_vmi(720 // v)
        elif upper == b"E":
            page.set_top(v)
        elif upper == b"F":
            page.set_text_length(v)
        elif upper == b"L":
            page.perf = v != 0

    def move(self, upper: bytes, raw: bytes, scale: int) -> None:
        """Vertical cursor moves: rows (&a#R), decipoints (&a#V), PCL units (*p#Y); &a#G."""
        page = self.page
        if upper == b"G":
            self.eject_marked()  # page side (duplex): a marked side is printed
            return
        if upper not in (b"R", b"V", b"Y"):
            return
        v = _value(raw)
        dp = v * scale if scale else v * 720 // self.units
        if raw[:1] in (b"+", b"-"):
            page.move_to(page.y + dp)
        else:
            page.move_to(dp)


def scan(data: Buffer, limits: Limits = DEFAULT_LIMITS, start: int = 0) -> Analysis:
    """Walk the whole PCL job in `data` from `start` and count its printed pages."""
    end = len(data)
    walker = _Walker(data, limits, RowIndex(data) if end - start >= MIN_SIZE else None)
    walker.walk(start, end)
    st = walker.st
    if st.marked:
        walker.eject()
    if walker.truncated:
        st.notes.append("data ends inside a PCL data block (truncated job)")
    copies = max(st.copy_values) if st.copy_values else 1
    if len(st.copy_values) > 1:
        st.notes.append("copies vary between pages: " + ",".join(map(str, sorted(st.copy_values))))
    return Analysis(format="PCL", pages=st.pages, copies=copies, notes=tuple(st.notes))


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


def _bare_end(data: Buffer, pos: int, end: int) -> int:
    """Where bare raster parameters stop: only an escape, a form feed or the end may follow."""
    if pos >= end or data[pos] in (0x1B, 0x0C):
        return pos
    raise CorruptData(
        f"PCL raster parameters without ESC *b run into byte 0x{data[pos]:02x} at offset {pos}"
    )


_UNGROUPED = lazy(rb"[+-]?[0-9]{1,9}[@-Z]")
# A raster parameter standing alone (value and v w m y, either case), as the DeskJet
# drivers write them after an ESC *b sequence that has ended.
_BARE = lazy(rb"[0-9]{1,9}[vwmyVWMY]|[vwmy]")
_BARE_PARAM = lazy(rb"([0-9]{0,9})([vwmyVWMY])")
_PCT = lazy(rb"\x1b%([+-]?[0-9]{0,6})([A-Z])")
_TEXT_ONLY = lazy(rb"[\t\n\r\x20-\x7e\x80-\xff]*")


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
    esc = h.find(b"\x1bE")
    if esc > 0 and _TEXT_ONLY.fullmatch(h, 0, esc) and detect(h[esc:]) >= 0.6:
        return 0.5  # text, then PCL: a PCL printer reads the text as PCL text
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
