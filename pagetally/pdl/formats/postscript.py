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
CUPS raster it writes to a pipe of our own (not stdout or stderr, which the job
can write to and flood): one header per page, copies in the header's NumCopies.
The device's `.LockSafetyParams` is set before the job runs, so a job can neither
send its pages to another file (`/OutputFile`, silently ignored then) nor switch
to another device (`/OutputDevice /nullpage`: an error, and the job is refused).

There is no fast path through DSC comments: no reading of the text can prove
that a program prints what its comments say (a `showpage` can be built from
strings and `cvx exec`), so none is taken. DOS EPS binary files (C5 D0 D3 C6)
are run from their PostScript section. Without Ghostscript PostScript is refused.
"""

from __future__ import annotations

import contextlib
import fcntl
import os
import re
import shutil
import subprocess
import threading
import time
from collections.abc import Sequence
from dataclasses import dataclass

from pagetally.errors import AnalysisUnavailable, CorruptData, LimitReached
from pagetally.pdl import pjl
from pagetally.pdl.base import DEFAULT_LIMITS, Analysis, Buffer, Limits, Parser
from pagetally.pdl.formats._bufio import CHUNK

_EPS_BINARY = b"\xc5\xd0\xd3\xc6"
_DSC_PAGE = re.compile(rb"(?:^|[\r\n])%%Page:")
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
_ERROR = re.compile(rb"Error: /([a-z]{1,24})\b")


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


def _start(argv: Sequence[str], out_fd: int) -> subprocess.Popen[bytes]:
    """Start Ghostscript bounded: its own process group (killed whole), a memory
    limit, stdin a pipe, its pages on `out_fd`. The one place a process starts here
    (pagetally.proc takes it over when it lands)."""

    def limit() -> None:  # pragma: no cover - runs in the child
        import resource

        resource.setrlimit(resource.RLIMIT_AS, (_MEMORY, _MEMORY))

    return subprocess.Popen(
        list(argv),
        stdin=subprocess.PIPE,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        pass_fds=(out_fd,),
        start_new_session=True,
        preexec_fn=limit,
        env={"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "LC_ALL": "C"},
    )


def _kill(proc: subprocess.Popen[bytes]) -> None:
    import signal

    with contextlib.suppress(OSError):
        os.killpg(proc.pid, signal.SIGKILL)
    proc.wait()


@dataclass
class _Raster:
    """Reads the CUPS raster stream page by page, keeping only each page's copies."""

    pages: list[int]
    max_pages: int
    order: str = ""
    pending: int = 0  # bytes of raster data still to skip
    buf: bytes = b""

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


def _drain(stream: object, kept: bytearray) -> None:
    """Read stderr to its end, keeping its first 4 KiB: a job may write gigabytes."""
    read = getattr(stream, "read", None)
    if read is None:
        return
    while chunk := read(CHUNK):
        if len(kept) < 4096:
            kept.extend(chunk[: 4096 - len(kept)])


def _feed(proc: subprocess.Popen[bytes], data: Buffer, start: int, end: int) -> None:
    stdin = proc.stdin
    assert stdin is not None
    try:
        for i in range(start, end, CHUNK):
            stdin.write(data[i : min(end, i + CHUNK)])
        stdin.close()
    except (BrokenPipeError, ValueError, OSError):
        pass


def interpret(data: Buffer, start: int, end: int, limits: Limits) -> list[int]:
    """Run data[start:end] through Ghostscript; the copies of each page it printed."""
    gs = shutil.which("gs")
    if gs is None:
        raise AnalysisUnavailable(
            "PostScript: Ghostscript (gs) is needed to count PostScript, and is not installed"
        )
    budget = 10.0 + limits.max_seconds_per_mb * (end - start) / (1 << 20)
    read_fd, write_fd = os.pipe()
    with contextlib.suppress(OSError):  # fewer wake-ups: a page is about 1 MB
        fcntl.fcntl(read_fd, fcntl.F_SETPIPE_SZ, 1 << 20)
    argv = [gs, "-q", "-dSAFER", "-dBATCH", "-dNOPAUSE", "-dNOINTERPOLATE", *_DEVICE]
    argv += [f"-sOutputFile=/dev/fd/{write_fd}", *_LOCK, "-"]
    try:
        proc = _start(argv, write_fd)
    except OSError as exc:
        os.close(read_fd)
        raise AnalysisUnavailable(f"PostScript: cannot run Ghostscript: {exc}") from None
    finally:
        os.close(write_fd)
    tail = bytearray()
    threads = [
        threading.Thread(target=_feed, args=(proc, data, start, end), daemon=True),
        threading.Thread(target=_drain, args=(proc.stderr, tail), daemon=True),
    ]
    for t in threads:
        t.start()
    pages: list[int] = []
    raster = _Raster(pages, limits.max_pages)
    deadline = time.monotonic() + budget
    block = bytearray(1 << 20)
    view = memoryview(block)
    try:
        with os.fdopen(read_fd, "rb", buffering=0) as out:
            import selectors

            with selectors.DefaultSelector() as sel:
                sel.register(out, selectors.EVENT_READ)
                while True:
                    # Time is earned per page too: a long job is not a slow one.
                    left = deadline + 0.05 * len(pages) - time.monotonic()
                    if left <= 0:
                        raise LimitReached("PostScript: Ghostscript took too long to count pages")
                    if not sel.select(min(left, 1.0)):
                        continue
                    n = out.readinto(block)
                    if not n:
                        break
                    raster.feed(view[:n])
        proc.wait(timeout=max(0.1, deadline + 0.05 * len(pages) - time.monotonic()))
    except subprocess.TimeoutExpired:
        _kill(proc)
        raise LimitReached("PostScript: Ghostscript took too long to count pages") from None
    except BaseException:
        _kill(proc)
        raise
    finally:
        for t in threads:
            t.join(timeout=5)
    if proc.returncode != 0:
        m = _ERROR.search(bytes(tail))
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
