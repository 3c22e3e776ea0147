"""PostScript: counted by running it, the way a printer would.

PostScript is a program: how many pages it prints, and how many copies of each,
is decided when it runs (`1 1 10 {showpage} for`, `/#copies 2 10 mul def`,
`<< 25 /NumCopies exch >> setpagedevice`, a `showpage` hidden in a procedure
defined in the prolog, `%%Page:` comments that say anything). Its comments
(DSC) are claims, not facts, so the count comes from Ghostscript interpreting
the job, and a job Ghostscript cannot run to its end is refused, never guessed.

What the job runs on is chosen so that it cannot tell counting from printing:
the `cups` device at 300 dpi black and white, which is what CUPS itself runs
(gstoraster) for every raster printer, not `bbox` or `nullpage` that a job can
test with `currentpagedevice /OutputDevice get`. Its pages are read from the
CUPS raster it writes to stdout, where nothing of the job's own goes
(`-sstdout=/dev/null` discards what the job writes to %stdout, so a flood there
costs nothing; stderr is read up to a bound and the rest dropped): one header
per page, copies in its NumCopies.
Ghostscript runs under pagetally.proc: its own process group, killed whole,
an address-space limit, a time budget per MB that each page printed extends.
The device's `.LockSafetyParams` is set before the job runs, so a job can neither
send its pages to another file (`/OutputFile`, silently ignored then) nor switch
to another device (`/OutputDevice /nullpage`: an error, and the job is refused).

There is no fast path through DSC comments: no reading of the text can prove
that a program prints what its comments say (a `showpage` can be built from
strings and `cvx exec`, and a job that stops with an error on page 3 prints
2 pages whatever its comments say: no whitelist of tokens excludes a runtime
error), so none is taken. Cheaper settings were measured and left: `pbmraw`
renders copies as repeated images, so which pages PJL's COPIES applies to could
not be told; a lower resolution is a device a job can tell from a printer; the
vector `pxlmono` (a real printer's driver, 2.5 times less Ghostscript CPU on text)
writes PageCopies as 16 bits, so a job asking for 65,537 copies would read as 1;
BufferSpace, MaxBitmap (banding) and the colour model changed nothing measurable
(a 1-bit 300 dpi page is 1 MB, drawn unbanded). What a page costs: Ghostscript's
start (about 50 ms CPU: its init files and allocations), rendering, and one
write(2) per raster line into the pipe (about a third of its CPU; /dev/null costs
half as much, a file as much). This side only reads headers: each page's pixels
are spliced to /dev/null in the kernel. DOS EPS binary files (C5 D0 D3 C6)
are run from their PostScript section. Without Ghostscript PostScript is refused.
"""

from __future__ import annotations

import contextlib
import os
import time
from typing import TYPE_CHECKING

from pagetally.errors import AnalysisUnavailable, CorruptData, LimitReached
from pagetally.pdl import pjl
from pagetally.pdl._lazyre import lazy
from pagetally.pdl.base import DEFAULT_LIMITS, Analysis, Buffer, Limits, Parser
from pagetally.pdl.formats._bufio import spooled

if TYPE_CHECKING:
    from pagetally.proc import Running

_EPS_BINARY = b"\xc5\xd0\xd3\xc6"
_DSC_PAGE = lazy(rb"(?:^|[\r\n])%%Page:")
RESOLUTION = 300  # dpi: a real printer's, so a job testing HWResolution sees one
_DEVICE = [
    "-sDEVICE=cups",
    f"-r{RESOLUTION}",
    "-dcupsColorSpace=3",  # black
    "-dcupsBitsPerColor=1",
]
_LOCK = ["-c", "<< /.LockSafetyParams true >> setpagedevice", "-f"]
_HEADER = 1796  # cups_page_header2_t
# Uncompressed CUPS raster (v1, v3) in either byte order; v2 is compressed: refused.
_SYNC = {b"RaSt": "big", b"RaS3": "big", b"tSaR": "little", b"3SaR": "little"}
_MEMORY = 1 << 30  # address space for Ghostscript
_ERROR = lazy(rb"Error: /([a-z]{1,24})\b")


def _section(data: Buffer) -> tuple[int, int]:
    """(start, end) of the PostScript: a DOS EPS binary file's PS part, or the job's
    data after any PJL up to the next UEL (a stream may go on in another language)."""
    if data[:4] == _EPS_BINARY and len(data) >= 30:
        start = int.from_bytes(data[4:8], "little")
        length = int.from_bytes(data[8:12], "little")
        if 30 <= start <= len(data) and start + length <= len(data):
            return start, start + length
        raise CorruptData("PostScript: bad DOS EPS binary header")
    start = pjl.read_header(data).offset
    end = pjl.next_uel(data, start)
    while start < end and data[start] == 4:  # ^D: some drivers send one first
        start += 1
    while end > start and data[end - 1 : end] in (b"\x04", b"\x00"):
        end -= 1
    return start, end


class _Raster:
    """Reads the CUPS raster stream page by page, keeping only each page's copies."""

    __slots__ = ("buf", "max_pages", "order", "pages", "pending")

    def __init__(self, pages: list[int], max_pages: int) -> None:
        self.pages = pages
        self.max_pages = max_pages
        self.order = ""
        self.pending = 0  # bytes of raster data still to skip
        self.buf = b""

    def feed(self, chunk: bytes | memoryview) -> None:
        """Take the next bytes Ghostscript wrote. Raster data is skipped where it lies;
        only a sync word or header cut by the pipe is kept until the rest comes."""
        pos, size = 0, len(chunk)
        while pos < size:
            if self.pending:
                step = min(self.pending, size - pos)
                pos += step
                self.pending -= step
                continue
            want = 4 if len(self.buf) < 4 else _HEADER
            part = bytes(chunk[pos : pos + want - len(self.buf)])
            self.buf += part
            pos += len(part)
            if len(self.buf) < want:
                break
            if want == 4:
                if self.buf in _SYNC:  # a (re)opened output file starts with one
                    self.order = _SYNC[self.buf]
                    self.buf = b""
                elif not self.order:
                    raise CorruptData("PostScript: Ghostscript wrote no CUPS raster")
                continue
            head, self.buf = self.buf, b""
            self.page(head)

    def wanted(self) -> int:
        """Bytes still missing from the sync word or page header being read."""
        return (4 if len(self.buf) < 4 else _HEADER) - len(self.buf)

    def _int(self, head: bytes, at: int) -> int:
        return int.from_bytes(head[at : at + 4], self.order)  # type: ignore[arg-type]

    def page(self, head: bytes) -> None:
        copies = self._int(head, 340)  # NumCopies
        height, bpl = self._int(head, 376), self._int(head, 392)  # cupsHeight, BytesPerLine
        if copies > pjl.MAX_COPIES:
            raise LimitReached(f"PostScript: a page asks for {copies} copies")
        self.pending = bpl * height
        self.pages.append(max(1, copies))
        if sum(self.pages) > self.max_pages:
            raise LimitReached(f"PostScript: more than {self.max_pages} pages")

    def finish(self) -> None:
        if self.pending or self.buf:
            raise CorruptData("PostScript: Ghostscript's raster ends in the middle of a page")


_SHORT_READ = 256 << 10  # a read this short: let Ghostscript fill the pipe a moment
_FILL_PAUSE = 0.002  # seconds


class _Splice:
    """Moves raster data from the pipe `fd` to /dev/null inside the kernel
    (splice(2)): a page's pixels, about 1 MB, are never copied into this process.
    `usable` is False where splice is missing (then the data is read and dropped)."""

    def __init__(self, fd: int) -> None:
        self.fd = fd
        self.null = -1
        if hasattr(os, "splice"):
            with contextlib.suppress(OSError):
                self.null = os.open(os.devnull, os.O_WRONLY | os.O_CLOEXEC)
        self.usable = self.null >= 0

    def skip(self, n: int) -> int:
        """Move up to n bytes; 0 at the end of the stream. Raises BlockingIOError
        when the pipe is empty for now."""
        return os.splice(self.fd, self.null, n, flags=os.SPLICE_F_MOVE | os.SPLICE_F_NONBLOCK)

    def close(self) -> None:
        if self.null >= 0:
            os.close(self.null)
            self.null = -1


def _read_pages(running: Running, raster: _Raster, budget: float) -> None:
    """Feed the raster from Ghostscript's stdout until it ends or time is up.

    Only the sync words and page headers are read into this process; each
    page's pixels are spliced from the pipe to /dev/null (`_Splice`), or read
    and dropped where splice is missing. The cups device writes each raster line
    with its own write(2); a reader that wakes for every one spends more than
    Ghostscript does, so after a short transfer it waits a moment for the pipe
    (1 MiB) to fill: a few wake-ups per page instead of thousands.
    """
    import fcntl
    import selectors

    fd = running.stdout.fileno()
    with contextlib.suppress(OSError):  # fewer wake-ups: a page is about 1 MB
        fcntl.fcntl(fd, fcntl.F_SETPIPE_SZ, 1 << 20)
    deadline = time.monotonic() + budget
    block = bytearray(1 << 20)
    view = memoryview(block)
    splice = _Splice(fd)
    try:
        with selectors.DefaultSelector() as sel:
            sel.register(fd, selectors.EVENT_READ)
            while True:
                # Time is earned per page too: a long job is not a slow one.
                left = deadline + 0.05 * len(raster.pages) - time.monotonic()
                if left <= 0:
                    raise LimitReached("PostScript: Ghostscript took too long to count pages")
                if not sel.select(min(left, 1.0)):
                    continue
                if splice.usable and raster.pending:
                    try:
                        n = splice.skip(raster.pending)
                    except BlockingIOError:
                        continue
                    except OSError:  # splice refused here (EINVAL): read instead
                        splice.close()
                        splice.usable = False
                        continue
                    raster.pending -= n
                elif splice.usable:  # a sync word or header: read just that
                    n = os.readv(fd, [view[: raster.wanted()]])
                    _feed(running, raster, view[:n])
                else:
                    n = os.readv(fd, [block])
                    _feed(running, raster, view[:n])
                if not n:
                    return
                if n < _SHORT_READ and raster.pending:
                    time.sleep(_FILL_PAUSE)
    finally:
        splice.close()


def _feed(running: Running, raster: _Raster, chunk: memoryview) -> None:
    before = len(raster.pages)
    raster.feed(chunk)
    if len(raster.pages) != before:
        running.progress()


def interpret(data: Buffer, start: int, end: int, limits: Limits) -> list[int]:
    """Run data[start:end] through Ghostscript; the copies of each page it printed.

    Ghostscript runs under pagetally.proc (its own process group, killed whole;
    an address-space limit; stderr read up to a bound and the rest dropped, so a
    job flooding it changes nothing). Its device writes the raster to stdout, and
    `-sstdout=/dev/null` discards whatever the job itself writes to %stdout (it
    would cost reading time; Ghostscript's own error lines go there too, so a
    failing job's error is not named): the pages are read from the raster alone.
    """
    import shutil

    from pagetally import proc

    gs = shutil.which("gs")
    if gs is None:
        raise AnalysisUnavailable(
            "PostScript: Ghostscript (gs) is needed to count PostScript, and is not installed"
        )
    budget = 10.0 + limits.max_seconds_per_mb * (end - start) / (1 << 20)
    argv = [gs, "-q", "-dSAFER", "-dBATCH", "-dNOPAUSE", "-dNOINTERPOLATE", *_DEVICE,
            "-sstdout=/dev/null", "-sOutputFile=-", *_LOCK]  # fmt: skip
    # The hard ceiling: the budget plus the time the pages earn, bounded.
    ceiling = budget + 0.05 * min(limits.max_pages, 72_000)
    bounds = proc.Bounds(seconds=ceiling, output=4096, memory=_MEMORY, overflow="drop")
    env = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "LC_ALL": "C"}
    pages: list[int] = []
    raster = _Raster(pages, limits.max_pages)
    with spooled(data, ".ps", start, end) as job:
        try:
            with proc.stream([*argv, str(job)], env=env, bounds=bounds, stall=budget) as run:
                _read_pages(run, raster, budget)
        except OSError as exc:
            raise AnalysisUnavailable(f"PostScript: cannot run Ghostscript: {exc}") from None
    if run.timed_out or run.stalled:
        raise LimitReached("PostScript: Ghostscript took too long to count pages")
    if run.stopped is not None or run.returncode != 0:
        m = _ERROR.search(run.stderr)
        why = f" ({m.group(1).decode()})" if m else ""
        raise CorruptData(
            f"PostScript: the program stops with an error{why} after {len(pages)} pages; "
            "a printer's count of it cannot be known"
        )
    raster.finish()
    return pages


class PostScriptParser:
    name = "postscript"
    format = "PostScript"

    def detect(self, head: bytes) -> float:
        h = head.lstrip(b"\x04")  # some drivers send ^D first
        if h.startswith(b"%!PS"):
            return 1.0
        if h.startswith(_EPS_BINARY):
            return 1.0
        if h.startswith(b"%!"):
            return 0.9
        if h.startswith(b"\x1b%-12345X") or b"%!PS-Adobe" not in h[:1024]:
            return 0.0
        return 0.5  # a few bytes of junk before the header

    def count(self, data: Buffer, limits: Limits = DEFAULT_LIMITS) -> Analysis:
        start, end = _section(data)
        copies = interpret(data, start, end, limits)
        pages = sum(copies)
        notes: list[str] = []
        claimed = sum(1 for _ in _DSC_PAGE.finditer(data, start, end))
        if claimed and claimed != len(copies):
            notes.append(f"DSC comments claim {claimed} pages, the program prints {len(copies)}")
        values = set(copies)
        if len(values) > 1:
            notes.append("copies differ from page to page")
        return Analysis(
            self.format,
            pages,
            copies=values.pop() if len(values) == 1 else max(values, default=1),
            method="ghostscript",
            notes=tuple(notes),
            default_copies_pages=copies.count(1),
        )


PARSERS: list[Parser] = [PostScriptParser()]
