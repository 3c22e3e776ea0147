"""PCL XL (PCL6): pages from BeginPage/EndPage operators, copies from PageCopies.

A PCL XL stream is a header line `) HP-PCL XL;2;0;...` (the first byte names the
binding: `)` binary little-endian, `(` binary big-endian, `'` ASCII) and then
tokens: operators (one byte, 0x41-0xBF), typed values, attribute ids, arrays and
embedded data blocks (0xFA + uint32 length, 0xFB + ubyte length). A page is one
EndPage; its PageCopies attribute (0x31) multiplies it. Arrays and embedded data
(images, raster patterns, fonts) are skipped by their lengths: BeginPage/EndPage
bytes inside them mean nothing.

Two walkers give the same answers. `_pclxl_tokens.walk` is a plain loop, fast only
when compiled by mypyc (`scripts/build-mypyc.sh`). Interpreted, this module's
regular expression walks whole runs of fixed-size tokens (and the short arrays of
text operators) in one C call, stopping only at page operators, long arrays,
embedded data, the end of the stream or a byte that is no token.
"""

from __future__ import annotations

import functools
import importlib
import re
import struct
import time
from types import ModuleType

from pagetally.errors import CorruptData, LimitReached
from pagetally.pdl._lazyre import lazy
from pagetally.pdl.base import DEFAULT_LIMITS, Analysis, Buffer, Limits


def _source_tokens() -> ModuleType:
    """The walker's interpreted source, loaded beside a compiled module we refuse."""
    import importlib.util
    from pathlib import Path

    source = Path(__file__).with_name("_pclxl_tokens.py")
    spec = importlib.util.spec_from_file_location("_pclxl_tokens_source", source)
    if spec is None or spec.loader is None:  # pragma: no cover
        raise ImportError(f"cannot load {source}")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _fresh_tokens() -> tuple[ModuleType, bool]:
    """The token walker, and whether it is compiled.

    A compiled module that does not load (another Python, a missing runtime) or was
    built from an older source (not rebuilt after a change) is refused: the
    interpreted source is loaded instead.
    """
    try:
        built = importlib.import_module("pagetally.pdl.formats._pclxl_tokens")
    except ImportError:
        return _source_tokens(), False
    if built.__file__ is None or built.__file__.endswith(".py"):
        return built, False
    from pathlib import Path

    source = Path(built.__file__).with_name("_pclxl_tokens.py")
    try:
        found = re.search(r'VERSION: Final = "([^"]*)"', source.read_text(encoding="utf-8"))
    except OSError:
        return built, True  # installed without sources: trust the build
    if found is not None and found.group(1) == getattr(built, "VERSION", None):
        return built, True
    return _source_tokens(), False


tokens, COMPILED = _fresh_tokens()  # tokens: the walker module in use
_WINDOW = 16 << 20  # bytes handed to the compiled walker at a time (mmap → bytes)

_HEADER = lazy(rb"([()'])\s?HP-PCL XL;[^\n]{0,512}\n")


def _array(tag: int, elsize: int, longest: int) -> bytes:
    """Regex for an array of `tag` with a ubyte length up to `longest` elements."""
    alts = b"|".join(
        re.escape(bytes([k])) + (b".{%d}" % (k * elsize) if k else b"") for k in range(longest + 1)
    )
    return re.escape(bytes([tag])) + rb"\xc0(?:" + alts + b")"


_OP = rb"[\x41\x42\x45\x47-\xbf]"  # an operator other than BeginPage/EndPage/VendorUnique
# White space, then the PageCopies attribute id (ubyte, or uint16 in either byte
# order), or VUDataLength right before VendorUnique: a value before them stops a run.
_COPIES = (
    rb"[\x00\x09-\x0d\x20]*+(?:\xf8(?:\x31|\x92[\x00\x09-\x0d\x20]*+\x46)"
    rb"|\xf9(?:\x31\x00|\x00\x31|(?:\x92\x00|\x00\x92)[\x00\x09-\x0d\x20]*+\x46))"
)
_SPACE = lazy(rb"[\x00\x09-\x0d\x20]*+")

# Token alternatives, most frequent first. Phrases (several tokens in a row) are
# tried before single tokens: a regex repeat step costs more than a failed branch.
_TOKENS = [
    rb"\xd3.{4}\xf8\x4c\x6b\xc8\xc0\x01.\xf8\xab\xa8",  # SetCursor(xy) Text(1 byte)
    rb"\xc8\xc0\x01.\xf8\xab\xa8",  # Text(1 glyph)
    # one value, one attribute, an operator (not a page one): the common statement
    rb"\xd3.{4}\xf8." + _OP,  # SetCursor(Point), ...
    rb"\xe1.{8}\xf8." + _OP,  # Rectangle(BoundingBox), ...
    rb"\xc8\xc0\x03...\xf8." + _OP,  # SetColor(RGBColor), ...
    rb"\xc0.\xf8." + _OP,
    rb"\xc1..\xf8." + _OP,
    rb"\xc1..\xf8\x6d\xc1..\xf8\x63\xc0.\xf8\x65\xb1",  # ReadImage(StartLine, BlockHeight, ...)
    # embedded data with a ubyte length (image rows): one branch per length
    rb"\xfb(?:" + b"|".join(re.escape(bytes([k])) + b".{%d}" % k for k in range(256)) + b")",
    rb"\xf8.",
    rb"[\xd1\xd3].{4}",
    _array(0xC8, 1, 24),
    _OP,
    _array(0xC9, 2, 12),
    rb"\xc0.(?!" + _COPIES + b")",  # a value before PageCopies stops the run (_walk_regex)
    rb"[\x00\x09-\x0d\x20]",
    rb"\xc1..(?!" + _COPIES + b")",
    rb"\xc3..",
    rb"\xc2.{4}(?!" + _COPIES + b")",
    rb"[\xc4\xc5].{4}",
    rb"\xd0.{2}",
    rb"[\xd2\xd4\xd5].{8}",
    rb"\xe0.{4}",
    rb"[\xe1\xe3].{8}",
    rb"[\xe2\xe4\xe5].{16}",
    rb"\xf9.{2}",
]


@functools.cache
def _run_pattern() -> re.Pattern[bytes]:
    """Every token the interpreted walker skips, as one pattern: compiled on first use
    (about 9 ms; every `pagetally count` process imports this module to detect)."""
    return re.compile(b"(?:" + b"|".join(_TOKENS) + b")*+", re.DOTALL)


_ELEMENT = {0xC8: 1, 0xC9: 2, 0xCA: 4, 0xCB: 2, 0xCC: 4, 0xCD: 4}
_UEL = b"\x1b%-12345X"


class _Counts:
    """Pages as walked: begun, ended, copies summed over ended pages, extremes."""

    def __init__(self) -> None:
        self.v = [0, 0, 0, 0, 1 << 30, 0, -1, -1]  # same layout as _pclxl_tokens.walk's counts


def _ended(counts: list[int], copies: int) -> None:
    """One EndPage with its copies, in `_pclxl_tokens.walk`'s counts layout."""
    counts[1] += 1
    counts[2] += copies
    counts[3] = max(counts[3], copies)
    counts[4] = min(counts[4], copies)


def _after_space(data: Buffer, pos: int) -> int:
    """`pos` past any PCL XL white space."""
    m = _SPACE.match(data, pos)
    return pos if m is None else m.end()


def _walk_regex(
    data: Buffer, pos: int, big: bool, counts: list[int], deadline: float
) -> tuple[int, int]:
    """The interpreted walker: same contract as `_pclxl_tokens.walk` on all of `data`."""
    end = len(data)
    run = _run_pattern().match
    u16 = struct.Struct(">H" if big else "<H").unpack_from
    u32 = struct.Struct(">I" if big else "<I").unpack_from
    stops = 0
    while True:
        stops += 1
        if stops & 0xFFF == 0 and time.monotonic() > deadline:
            raise LimitReached("PCL XL job took too long to scan")
        m = run(data, pos)
        assert m is not None  # a *+ repeat always matches
        e = m.end()
        if e >= end:
            return e, tokens.NEED_MORE
        b = data[e]
        if b == 0x43:
            counts[0] += 1
            pos = e + 1
        elif b == 0x44:
            _ended(counts, 1)
            pos = e + 1
        elif b in (0xC0, 0xC1, 0xC2) and e + b - 0xBD <= end:  # (value: 2, 3 or 5 bytes)
            # a value, then (white space around) PageCopies, copies if EndPage
            # follows; or VUDataLength and VendorUnique, its raw data follows
            size = 1 if b == 0xC0 else 2 if b == 0xC1 else 4
            value = data[e + 1] if b == 0xC0 else (u16 if b == 0xC1 else u32)(data, e + 1)[0]
            pos = _after_space(data, e + 1 + size)
            attr = data[pos + 1] if data[pos] == 0xF8 else data[pos + 1] | data[pos + 2]
            pos = _after_space(data, pos + (2 if data[pos] == 0xF8 else 3))
            if attr == 0x92:
                pos += 1 + value  # VendorUnique (the lookahead saw it) and its data
            elif b != 0xC2 and pos < end and data[pos] == 0x44:
                _ended(counts, value if value > 0 else 1)
                pos += 1
        elif b == 0x46:  # VendorUnique without a data length right before it
            pos = e + 1
        elif b == 0x1B:
            return e, tokens.AT_ESC
        elif b == 0xFB:
            if e + 2 > end:
                return e, tokens.NEED_MORE
            pos = e + 2 + data[e + 1]
        elif b == 0xFA:
            if e + 5 > end:
                return e, tokens.NEED_MORE
            pos = e + 5 + u32(data, e + 1)[0]
        elif b in _ELEMENT:
            lt = data[e + 1] if e + 1 < end else -1
            if lt == 0xC0 and e + 3 <= end:
                pos = e + 3 + data[e + 2] * _ELEMENT[b]
            elif lt == 0xC1 and e + 4 <= end:
                pos = e + 4 + u16(data, e + 2)[0] * _ELEMENT[b]
            elif lt == 0xC2 and e + 6 <= end:
                pos = e + 6 + u32(data, e + 2)[0] * _ELEMENT[b]
            elif lt in (0xC0, 0xC1, 0xC2, -1):
                return e, tokens.NEED_MORE
            else:
                return e, tokens.INVALID
        elif tokens.SIZES[b] >= 0:  # a fixed-size token cut off by the end of data
            return e, tokens.NEED_MORE
        else:
            return e, tokens.INVALID
        if pos >= end:
            return pos, tokens.NEED_MORE


def _walk_compiled(
    data: Buffer, pos: int, big: bool, counts: list[int], deadline: float
) -> tuple[int, int]:
    """Feed the compiled walker windows of `data` (it takes bytes, not mmaps)."""
    end = len(data)
    while pos < end:
        if time.monotonic() > deadline:
            raise LimitReached("PCL XL job took too long to scan")
        stop = min(end, pos + _WINDOW)
        window = bytes(data[pos:stop])
        p, status = tokens.walk(window, 0, big, counts, stop >= end)
        if status != tokens.NEED_MORE:
            return pos + p, status
        if stop >= end or p == 0:
            return pos + p, status  # data ends (inside a token when pos + p < end)
        pos += p
    return pos, tokens.NEED_MORE


def _ascii_stream(data: Buffer, pos: int, counts: list[int]) -> int:
    """ASCII binding (rare): operator names as words; returns where the stream ends."""
    esc = data.find(b"\x1b", pos)
    stop = len(data) if esc < 0 else esc
    text = bytes(data[pos:stop])
    counts[0] += len(re.findall(rb"\bBeginPage\b", text))
    for m in re.finditer(rb"(?:\b(\d+)\s+PageCopies\s+)?\bEndPage\b", text):
        c = int(m.group(1)) if m.group(1) else 1
        counts[1] += 1
        counts[2] += c
        counts[3] = max(counts[3], c)
        counts[4] = min(counts[4], c)
    return stop


_BLANK = lazy(rb"[\x00\x09-\x0d\x20]+")
_PJL_ENTER = lazy(rb"@PJL[ \t]+ENTER[ \t]+LANGUAGE[ \t]*=[ \t]*\"?([A-Za-z0-9_.\- ]*)", re.I)
_XL_NAMES = (b"PCLXL", b"PCL XL", b"PCL6", b"PCLXL2")


def _next_stream(
    data: Buffer, pos: int, end: int, counts: list[int], notes: list[str]
) -> int | None:
    """Where the next PCL XL stream starts after the one that ended at `pos` (an ESC).

    Between streams only UELs, resets (ESC E), PJL lines of any length and white
    space may stand; `None` when the job ends there. PJL entering another language,
    or any other data, is refused with its offset: what follows would print, and
    it is not PCL XL. White space right after a UEL is not PJL: the printer reads
    it as PCL (GhostPCL: 36,000 blank lines there print 600 blank pages), so its
    pages are counted as PCL counts them.
    """
    after_uel = False
    while pos < end:
        if data[pos : pos + 9] == _UEL:
            pos += 9
            after_uel = True
        elif data[pos : pos + 2] == b"\x1bE":
            pos += 2
        elif (blank := _BLANK.match(data, pos)) is not None:
            if after_uel:
                from pagetally.pdl.formats import pcl  # rarely needed: imported here

                run = bytes(data[pos : blank.end()])
                ejected = pcl.scan(run).pages
                if run.count(b"\n") % 60 == 59:
                    ejected += 1  # GhostPCL: the PJL line after it, read as text, ends a page
                if ejected:
                    notes.append(f"blank lines after a UEL at offset {pos}: {ejected} PCL page(s)")
                    for _ in range(ejected):
                        _ended(counts, 1)
            pos = blank.end()
        elif data[pos : pos + 4].upper() == b"@PJL":
            nl = data.find(b"\n", pos)
            stop = end if nl < 0 else nl + 1
            esc = data.find(b"\x1b", pos, stop)
            stop = stop if esc < 0 else esc
            m = _PJL_ENTER.match(data[pos:stop])
            if m is not None and m.group(1).strip().upper() not in _XL_NAMES:
                lang = m.group(1).strip().decode("ascii", "replace")
                raise CorruptData(
                    f"PJL at offset {pos} enters LANGUAGE={lang} after a PCL XL stream: "
                    "another language in the job is not counted as PCL XL"
                )
            pos = stop
            after_uel = False
        elif _HEADER.match(data, pos) is not None:
            return pos
        else:
            raise CorruptData(
                f"unexpected byte 0x{data[pos]:02x} after a PCL XL stream at offset {pos}"
            )
    return None


def scan(data: Buffer, limits: Limits = DEFAULT_LIMITS, compiled: bool | None = None) -> Analysis:
    """Count the pages of every PCL XL stream in `data` (PJL between them allowed)."""
    use_compiled = COMPILED if compiled is None else compiled
    walk = _walk_compiled if use_compiled else _walk_regex
    end = len(data)
    deadline = time.monotonic() + limits.max_seconds_per_mb * (end / 1_000_000 + 1)
    counts = _Counts().v
    notes: list[str] = []
    streams = 0
    pos = 0
    while pos < end:
        if streams == 0:
            h = _HEADER.search(data, pos, min(end, pos + (1 << 16)))
        else:  # after a stream: PJL, then another stream or the end of the job
            nxt = _next_stream(data, pos, end, counts, notes)
            h = None if nxt is None else _HEADER.match(data, nxt)
        if h is None:
            break
        streams += 1
        binding = h.group(1)
        pos = h.end()
        if binding == b"'":
            pos = _ascii_stream(data, pos, counts)
            notes.append("ASCII PCL XL binding: operators counted by name")
        else:
            pos, status = walk(data, pos, binding == b"(", counts, deadline)
            if status == tokens.INVALID:
                if counts[1] == 0 and counts[0] == 0:
                    raise CorruptData(f"invalid PCL XL byte 0x{data[pos]:02x} at offset {pos}")
                notes.append(f"invalid PCL XL byte 0x{data[pos]:02x} at offset {pos}: stopped")
                break
            if status == tokens.NEED_MORE:
                if pos > end or (pos < end and data[pos:end].strip(b"\x00\r\n \t\x0c")):
                    notes.append("data ends inside a PCL XL token (truncated job)")
                break
        if counts[2] > limits.max_pages:
            raise LimitReached(f"PCL XL job has more than {limits.max_pages} pages")
        if time.monotonic() > deadline:
            raise LimitReached("PCL XL job took too long to scan")
        # AT_ESC: a UEL ends this stream; PJL and maybe another stream follow
    if streams == 0:
        raise CorruptData("no PCL XL stream header (') HP-PCL XL;') found")
    begun, ended, pages, most, least = counts[:5]
    if begun > ended:
        notes.append(f"{begun - ended} page(s) begun but not ended: counted once each")
        pages += begun - ended
        least = min(least, 1)
        most = max(most, 1)
    if pages > limits.max_pages:
        raise LimitReached(f"PCL XL job has more than {limits.max_pages} pages")
    copies = most if pages else 1
    if pages and least != most:
        notes.append(f"copies vary between pages ({least} to {most})")
    return Analysis(format="PCL XL", pages=pages, copies=max(copies, 1), notes=tuple(notes))


def detect(head: bytes) -> float:
    """PCL XL when the stream header appears near the start."""
    m = _HEADER.search(head, 0, 4096)
    if m is None:
        return 0.0
    before = head[: m.start()].strip(b"\x00\r\n \t")
    before = before.removeprefix(b"\x1bE")  # hpcups' JetReady/FastRaster open with a reset
    if not before or before.startswith(_UEL) or before.upper().startswith(b"@PJL"):
        return 1.0
    return 0.7


class PclXlParser:
    """PCL XL, also called PCL6 (binary little/big-endian and ASCII bindings)."""

    name = "pclxl"
    format = "PCL XL"

    def detect(self, head: bytes) -> float:
        return detect(head)

    def count(self, data: Buffer, limits: Limits = DEFAULT_LIMITS) -> Analysis:
        return scan(data, limits)


PARSERS = [PclXlParser()]
