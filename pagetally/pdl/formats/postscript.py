"""PostScript: DSC page comments, copies, and Ghostscript for the rest.

A DSC-conforming job (groff, enscript, Ghostscript's ps2write, every driver)
marks each page with `%%Page:`; pages inside embedded documents
(`%%BeginDocument` … `%%EndDocument`) are not the job's own and are skipped.
Copies asked inside the data — `/#copies N def` or `/NumCopies N` in a
setpagedevice — multiply the pages they apply to. A job without page comments
is counted by Ghostscript's bbox device when Ghostscript is installed (a loop
calling showpage cannot be counted by reading), else by counting `showpage`.
DOS EPS binary files (C5 D0 D3 C6) are read in their PostScript section.
"""

from __future__ import annotations

import heapq
import re
from collections.abc import Iterator

from pagetally.errors import CorruptData, LimitReached
from pagetally.pdl.base import DEFAULT_LIMITS, Analysis, Buffer, Limits, Parser

_EPS_BINARY = b"\xc5\xd0\xd3\xc6"
_DSC = re.compile(rb"%%(Page:|BeginDocument\b|EndDocument\b)")
_COPIES_AT = re.compile(rb"/(?:#copies|NumCopies)[\x00\t\n\x0c\r ]+(\d{1,6})")
_DSC_PAGES = re.compile(rb"^%%Pages:[ \t]*(\d+)", re.MULTILINE)
_SHOWPAGE = re.compile(rb"(?<![A-Za-z0-9_/])(?:showpage|copypage)(?![A-Za-z0-9_])")
_MAX_COPIES = 9999


Event = tuple[int, bytes, int]  # (position, kind, copies)


def _dsc_events(data: Buffer, start: int, end: int) -> Iterator[Event]:
    for m in _DSC.finditer(data, start, end):
        at = m.start()
        if at == start or data[at - 1 : at] in (b"\n", b"\r"):
            yield (at, m.group(1), 0)


def _copies_events(data: Buffer, start: int, end: int, word: bytes) -> Iterator[Event]:
    at = data.find(word, start, end)
    while at >= 0:
        cm = _COPIES_AT.match(data, at, min(end, at + 40))
        if cm is not None:
            yield (at, b"copies", int(cm.group(1)))
        at = data.find(word, at + 1, end)


def _events(data: Buffer, start: int, end: int) -> Iterator[Event]:
    """DSC page/document comments at line starts and copies settings, in file order.

    Found with literal searches (gigabytes per second), not one regex with
    alternatives (tens of MB/s): raster data between them is skipped, not read.
    Streamed (merged in order), so a job of millions of pages never sits in memory.
    """
    return heapq.merge(
        _dsc_events(data, start, end),
        _copies_events(data, start, end, b"/#copies"),
        _copies_events(data, start, end, b"/NumCopies"),
    )


def _section(data: Buffer) -> tuple[int, int]:
    """(start, end) of the PostScript: all of it, or a DOS EPS binary file's PS part."""
    if data[:4] == _EPS_BINARY and len(data) >= 30:
        start = int.from_bytes(data[4:8], "little")
        length = int.from_bytes(data[8:12], "little")
        if 30 <= start <= len(data) and start + length <= len(data):
            return start, start + length
        raise CorruptData("PostScript: bad DOS EPS binary header")
    return 0, len(data)


def _ghostscript_pages(data: Buffer, start: int, end: int, limits: Limits) -> int | None:
    """Pages as Ghostscript's bbox device sees them (one %%BoundingBox per page)."""
    import shutil

    from pagetally import proc

    gs = shutil.which("gs")
    if gs is None:
        return None
    timeout = 10.0 + limits.max_seconds_per_mb * (end - start) / (1 << 20)
    cmd = [gs, "-q", "-dSAFER", "-dBATCH", "-dNOPAUSE", "-sDEVICE=bbox", "-"]
    bounds = proc.Bounds(seconds=timeout, output=64 << 20)
    try:
        with memoryview(data) as view:
            done = proc.run(cmd, stdin=view[start:end], bounds=bounds)
    except OSError:
        return None
    if done.timed_out:
        raise LimitReached("PostScript: Ghostscript took too long to count pages")
    if done.overflowed:
        raise LimitReached(f"PostScript: Ghostscript {done.stopped}: cannot count its pages")
    text = done.stderr
    pages = text.count(b"%%BoundingBox:")
    return pages if done.returncode == 0 or pages else None


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
        first = data.find(b"%!", start, min(end, start + 4096))
        if first >= 0:
            start = first
        depth = 0
        copies = 1
        sheets = 0  # DSC pages seen
        pages = 0  # printed: each page times the copies in force at its end
        copies_seen: set[int] = set()
        in_page = False

        def close_page() -> None:
            nonlocal sheets, pages
            sheets += 1
            pages += copies
            copies_seen.add(copies)

        for _pos, kind, value in _events(data, start, end):
            if kind == b"BeginDocument":
                depth += 1
            elif kind == b"EndDocument":
                depth = max(0, depth - 1)
            elif depth > 0:
                continue
            elif kind == b"Page:":
                if in_page:
                    close_page()
                in_page = True
                if sheets >= limits.max_pages:
                    raise LimitReached(f"PostScript: more than {limits.max_pages} pages")
            else:
                copies = min(max(value, 1), _MAX_COPIES)
        if in_page:
            close_page()
        notes: list[str] = []
        method = "parsed"
        if sheets:
            uniform = len(copies_seen) == 1
            job_copies = copies_seen.pop() if uniform else 1
            if not uniform:
                notes.append("copies differ from page to page")
            return Analysis(
                self.format, pages, copies=job_copies, method=method, notes=tuple(notes)
            )
        counted = _ghostscript_pages(data, start, end, limits)
        if counted is not None:
            method = "ghostscript"
            notes.append("no DSC page comments: counted by Ghostscript")
        else:
            counted = sum(1 for _ in _SHOWPAGE.finditer(data, start, end))
            if counted == 0:
                m = _DSC_PAGES.search(data, start, end)
                counted = int(m.group(1)) if m else 0
            notes.append("no DSC page comments: showpage operators counted")
        if counted > limits.max_pages:
            raise LimitReached(f"PostScript: more than {limits.max_pages} pages")
        return Analysis(
            self.format, counted * copies, copies=copies, method=method, notes=tuple(notes)
        )


PARSERS: list[Parser] = [PostScriptParser()]
