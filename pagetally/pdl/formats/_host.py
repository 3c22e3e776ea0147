"""Shared pieces of the host-based (GDI) printer-language parsers.

Host-based languages (ZjStream, QPDL, HBPL, ESC/Page, LIDIL, ...) carry the page
raster in length-prefixed chunks. Their parsers walk the chunk headers and jump
over the payloads by their declared lengths, never byte by byte. Many of them
live inside a PJL (or Epson EJL) wrapper; the detector strips PJL before calling
`detect(head)`, but `count` may get the whole job, so every parser here accepts
both and skips a leading wrapper itself with `skip_pjl`.
"""

from __future__ import annotations

import time

from pagetally.errors import CorruptData, LimitReached, TruncatedData
from pagetally.pdl._lazyre import lazy
from pagetally.pdl.base import Analysis, Buffer, Limits

UEL = b"\x1b%-12345X"
_EJL = b"\x1b\x01@EJL"
_PJL_LINE = lazy(rb"[ \t]*@(?:PJL|EJL)[^\n\x00\x1b]*\n?")
_LANGUAGE = lazy(rb"(?:ENTER|EN|SELECT|SE)\s+(?:LANGUAGE|LA)\s*=\s*([A-Za-z0-9/_.\-]+)")


def skip_pjl(data: Buffer, pos: int = 0, limit: int = 1 << 20) -> int:
    """Offset of the first byte after a leading PJL/EJL wrapper (UEL, @PJL lines).

    Stops at the first byte that belongs to neither, or after `limit` bytes of
    wrapper (a hostile job of only PJL lines cannot make this loop forever).
    """
    end = min(len(data), pos + limit)
    while pos < end:
        if data[pos : pos + 9] == UEL:
            pos += 9
        elif data[pos : pos + 6] == _EJL:
            pos += 2
        elif data[pos : pos + 1] in (b"\r", b"\n"):
            pos += 1
        elif data[pos : pos + 1] == b"\x00":
            # NUL padding is part of the wrapper only when a UEL follows it.
            nul = pos
            while nul < end and nul - pos < 64 and data[nul] == 0:
                nul += 1
            if data[nul : nul + 9] != UEL:
                break
            pos = nul
        else:
            m = _PJL_LINE.match(data, pos)
            if not m or m.end() == pos:
                break
            pos = m.end()
    return pos


def pjl_language(head: bytes) -> str:
    """The language a PJL/EJL header asks for ("QPDL", "HBPL", ...), or ""."""
    m = _LANGUAGE.search(head[:8192])
    return m.group(1).decode("ascii", "replace").upper() if m else ""


def split_head(head: bytes) -> tuple[str, bytes]:
    """(language named by a leading PJL/EJL header, the bytes after the header)."""
    start = skip_pjl(head, 0, len(head))
    return pjl_language(head[:start]) if start else "", head[start:]


class Budget:
    """Bounded time per MB and bounded page counts, checked while walking a job."""

    __slots__ = ("limits", "size", "started", "ticks")

    def __init__(self, size: int, limits: Limits) -> None:
        self.size = size
        self.limits = limits
        self.started = time.monotonic()
        self.ticks = 0

    def tick(self) -> None:
        """Call once per record; checks the clock every 4096 records."""
        self.ticks += 1
        if self.ticks & 0xFFF:
            return
        allowed = self.limits.max_seconds_per_mb * max(1.0, self.size / 1_048_576)
        if time.monotonic() - self.started > allowed:
            raise LimitReached("page counting took longer than allowed for this job size")
        if self.ticks > self.limits.max_objects:
            raise LimitReached("too many records in this job")


class Pages:
    """Pages found so far, with the copies each asks for."""

    __slots__ = ("copies", "limits")

    def __init__(self, limits: Limits) -> None:
        self.limits = limits
        self.copies: list[int] = []

    def add(self, copies: int = 1) -> None:
        """One more page, printed `copies` times (at least once)."""
        self.copies.append(max(1, min(copies, 9999)))
        if len(self.copies) > self.limits.max_pages:
            raise LimitReached(f"more than {self.limits.max_pages} pages")

    def set_last_copies(self, copies: int) -> None:
        """A copies value met after the page started (e.g. in its header items)."""
        if self.copies:
            self.copies[-1] = max(1, min(copies, 9999))

    def __len__(self) -> int:
        return len(self.copies)

    def analysis(self, fmt: str, notes: tuple[str, ...] = ()) -> Analysis:
        """The Analysis: pages counted with their copies; `copies` is the largest asked."""
        total = sum(self.copies)
        copies = max(self.copies, default=1)
        if len(set(self.copies)) > 1:
            notes = (*notes, "pages ask for different numbers of copies")
        return Analysis(format=fmt, pages=total, copies=copies, notes=notes)


def need(data: Buffer, pos: int, size: int, what: str) -> None:
    """Raise TruncatedData when `size` bytes at `pos` run past the end."""
    if pos + size > len(data):
        raise TruncatedData(f"{what} ends in the middle of a record at offset {pos}")


def corrupt(what: str, pos: int) -> CorruptData:
    """A CorruptData naming the language and offset."""
    return CorruptData(f"{what}: unexpected data at offset {pos}")


def only_trailer(data: Buffer, pos: int) -> bool:
    """True when everything from `pos` on is a closing PJL/EJL wrapper or padding."""
    end = skip_pjl(data, pos)
    rest = data[end : end + 64]
    return len(rest.strip(b"\x00\r\n\x0c ")) == 0


def after_foreign(data: Buffer, pos: int, what: str) -> int | None:
    """Where a record walk goes on when `pos` holds no record of its language:
    after another job's PJL header (a stream of several jobs), or None when only a
    closing wrapper or padding is left; anything else is corrupt data at `pos`."""
    nxt = skip_pjl(data, pos)
    if pos < nxt < len(data):
        return nxt
    if only_trailer(data, pos):
        return None
    raise corrupt(what, pos)
