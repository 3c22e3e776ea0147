"""Colour pages of DeskJet PCL 3 jobs, from the colour planes each page prints.

A DeskJet job names its planes with `ESC *r#U`: -4 for black, cyan, magenta,
yellow (KCMY), -3 for cyan, magenta, yellow (CMY), 1 for black alone. Verdicts
are given for KCMY jobs only: in CMY jobs Ghostscript's cdjcolor and pjxl300
put dots where the three planes differ on pages that are black text (dithered
black), so telling colour from them would need a tolerance; they give none. Each
raster row is sent plane by plane: `ESC *b#V` and its bytes for every plane but
the last, `ESC *b#W` for the last, compressed as `ESC *b#M` says (0 none,
1 run-length, 2 TIFF PackBits, 3 delta row, 9 compressed replacement delta row,
the last two against the plane's previous row, its seed). A page is colour when
a row, once decompressed, puts a dot where its cyan, magenta and yellow planes
differ: planes of zero bytes put no ink on paper, and a dot in all three is
composite black (how CMY printers print black; the rule the raster analysis
follows too: equal C=M=Y is grey, not colour).

Only what is followed gives a verdict: a job with a configure-raster-data
record (`ESC *g#W`, PCL3GUI), RGB planes, another compression, or rows that
decompress to more than their width gives none (AnalysisUnavailable), and the
pages found must be the pages the PCL parser counts. Jobs that never name KCMY
planes (one plane, PCL 5's RGB/CMY palettes with ESC *r3U) are not read here:
`page_colours` returns None and the caller renders them (GhostPCL) as before.
"""

from __future__ import annotations

from pagetally.errors import AnalysisUnavailable
from pagetally.pdl._lazyre import lazy
from pagetally.pdl.base import Buffer

_PARAM = lazy(rb"([+-]?[0-9]*(?:\.[0-9]*)?)([\x60-\x7e\x40-\x5e])")
# Raster parameters standing alone after an ESC *b sequence has ended, as the
# DeskJet drivers write them (pcl.py follows the same rule).
_BARE = lazy(rb"[0-9]{1,9}[vwmyVWMY]|[vwmy]")
_BARE_PARAM = lazy(rb"([0-9]{0,9})([vwmyVWMY])")
_MAX_ROW = 1 << 16  # bytes a decompressed plane row may hold


def _unavailable(why: str) -> AnalysisUnavailable:
    return AnalysisUnavailable(f"colour pages of this DeskJet PCL job are not known: {why}")


def _extended(src: bytes, pos: int, value: int) -> tuple[int, int]:
    """A mode 3/9 offset or count continued by bytes (255: another follows)."""
    while pos < len(src):
        value += src[pos]
        pos += 1
        if src[pos - 1] != 255:
            break
    return value, pos


def _mode9(src: bytes, seed: bytearray) -> None:
    """Apply a mode 9 row (compressed replacement delta row) to `seed` in place."""
    pos, at, n = 0, 0, len(src)
    while pos < n:
        cmd = src[pos]
        pos += 1
        rle = cmd & 0x80
        offset = (cmd >> 5) & 0x03 if rle else (cmd >> 3) & 0x0F
        count = cmd & 0x1F if rle else cmd & 0x07
        more_offset, more_count = (3, 31) if rle else (15, 7)
        if offset == more_offset:
            offset, pos = _extended(src, pos, offset)
        if count == more_count:
            count, pos = _extended(src, pos, count)
        count += 2 if rle else 1
        at += offset
        if rle:
            if pos >= n:
                raise _unavailable("a mode 9 run ends early")
            _put(seed, at, bytes([src[pos]]) * count)
            pos += 1
        else:
            _put(seed, at, src[pos : pos + count])
            pos += count
        at += count


def _mode3(src: bytes, seed: bytearray) -> None:
    """Apply a mode 3 row (delta row) to `seed` in place."""
    pos, at, n = 0, 0, len(src)
    while pos < n:
        cmd = src[pos]
        pos += 1
        count = (cmd >> 5) + 1
        offset = cmd & 0x1F
        if offset == 31:
            offset, pos = _extended(src, pos, offset)
        at += offset
        _put(seed, at, src[pos : pos + count])
        pos += count
        at += count


def _put(seed: bytearray, at: int, data: bytes) -> None:
    end = at + len(data)
    if end > _MAX_ROW:
        raise _unavailable("a row wider than any page")
    if end > len(seed):
        seed.extend(bytes(end - len(seed)))
    seed[at:end] = data


def _unpack(src: bytes, mode: int) -> bytes:
    """Modes 0, 1 and 2: the row itself."""
    if mode == 0:
        return src
    out = bytearray()
    pos, n = 0, len(src)
    while pos < n:
        c = src[pos]
        if mode == 1:  # count, byte
            out += src[pos + 1 : pos + 2] * (c + 1)
            pos += 2
        elif c < 128:
            out += src[pos + 1 : pos + 2 + c]
            pos += c + 2
        elif c > 128:
            out += src[pos + 1 : pos + 2] * (257 - c)
            pos += 2
        else:
            pos += 1
        if len(out) > _MAX_ROW:
            raise _unavailable("a row wider than any page")
    return bytes(out)


class _Raster:
    """Plane rows of the page being walked."""

    def __init__(self) -> None:
        self.planes = 1
        self.mode = 0
        self.plane = 0
        self.seeds: dict[int, bytearray] = {}
        self.colour = False
        self.several = False  # the job named several planes (a DeskJet colour job)

    def set_planes(self, n: int) -> None:
        if n == -3:
            raise _unavailable(
                "CMY planes (ESC *r-3U): black and grey are dithered from the three, "
                "so a few dots where they differ cannot be told from colour"
            )
        if n != -4 and self.several:
            raise _unavailable(f"ESC *r{n}U planes after KCMY ones")
        self.planes = n
        self.several = n == -4  # other plane sets: not followed here, rendered instead
        self.reset()

    def reset(self) -> None:
        self.seeds.clear()
        self.plane = 0

    def row(self, data: bytes, last: bool) -> None:
        if not self.several:  # not a DeskJet colour job (yet): nothing to follow
            return
        plane = self.plane
        seed = self.seeds.setdefault(plane, bytearray())
        if self.mode in (0, 1, 2):
            seed[:] = _unpack(data, self.mode)
        elif self.mode == 3:
            _mode3(data, seed)
        elif self.mode == 9:
            _mode9(data, seed)
        else:
            raise _unavailable(f"compression mode {self.mode}")
        self.plane = 0 if last else plane + 1
        if last and not self.colour and self.planes < 0:
            self.colour = self._chromatic()

    def _chromatic(self) -> bool:
        """Does the row just completed put a dot where cyan, magenta and yellow
        differ? Where all three are set the dot is composite black."""
        rows = [self.seeds.get(k, bytearray()) for k in (1, 2, 3)]
        width = max(map(len, rows))
        c, m, y = (int.from_bytes(bytes(r).ljust(width, b"\0"), "big") for r in rows)
        return bool((c ^ m) | (m ^ y))


def page_colours(data: Buffer, start: int = 0) -> list[bool] | None:
    """Per page, whether a colour plane holds a dot; None when the job never names
    several planes. Raises AnalysisUnavailable for what is not followed."""
    ras = _Raster()
    pages: list[bool] = []
    marked = False
    pos, n = start, len(data)
    while pos < n:
        esc = data.find(b"\x1b", pos)
        ff = data.find(b"\x0c", pos, esc if esc >= 0 else n)
        if ff >= 0:
            pages.append(ras.colour)
            ras.colour, marked = False, False
            pos = ff + 1
            continue
        if esc < 0:
            break
        pos, drew = _escape(data, esc, ras)
        marked = marked or drew
        if pos < 0:  # ESC E: a reset ejects a marked page
            pos = -pos
            if marked:
                pages.append(ras.colour)
            ras.colour, marked = False, False
    if marked:
        pages.append(ras.colour)
    return pages if ras.several else None


def _escape(data: Buffer, i: int, ras: _Raster) -> tuple[int, bool]:
    """Handle the escape sequence at `i`: (where to go on, whether it drew raster);
    a negative position for ESC E (reset)."""
    if i + 1 >= len(data):
        return len(data), False
    c = data[i + 1]
    if c == 0x45:  # ESC E
        ras.reset()
        ras.mode = 0
        return -(i + 2), False
    if not 0x21 <= c <= 0x2F:  # a two-byte escape (ESC 9, ESC =, ...)
        return i + 2, False
    if i + 2 >= len(data):
        return len(data), False
    group = bytes(data[i + 1 : i + 3])
    pos, drew, bare = i + 3, False, False
    while True:
        m = (_BARE_PARAM if bare else _PARAM).match(data, pos)
        if m is None:
            return _stop(data, pos, bare), drew
        value, char = m.group(1), m.group(2)[0] | 0x20
        pos = m.end()
        num = float(value) if value not in (b"", b"+", b"-", b".") else 0.0
        key = group + bytes([char])
        if char in (0x77, 0x76) or key == b"&px":  # W, V (data follows), &p#X
            size = int(num)
            if size < 0:  # no data: what a printer makes of it is not followed here
                if ras.several:
                    raise _unavailable(f"a negative data length at offset {i}")
                size = 0
            chunk = bytes(data[pos : pos + size])
            if key == b"*gw":
                raise _unavailable("a configure-raster-data record (ESC *g#W)")
            if group == b"*b":
                ras.row(chunk, last=char == 0x77)
                drew = drew or any(chunk)
            pos += size
        elif key == b"*ru":
            ras.set_planes(int(num))
        elif key == b"*bm":
            ras.mode = int(num)
        elif key in (b"*by", b"*rc", b"*rb", b"*ra"):
            ras.reset()
        if m.group(2)[0] < 0x60:  # an upper-case letter ends the sequence
            if group == b"*b" and ras.several and _BARE.match(data, pos):
                bare = True  # the DeskJet drivers' bare planes go on
                continue
            return _stop(data, pos, bare), drew


def _stop(data: Buffer, pos: int, bare: bool) -> int:
    """After bare raster parameters only an escape, a form feed or the end may come."""
    if bare and pos < len(data) and data[pos] not in (0x1B, 0x0C):
        raise _unavailable(f"raster parameters run into other data at offset {pos}")
    return pos
