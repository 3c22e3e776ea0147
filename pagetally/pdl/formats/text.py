"""Plain text: pages from lines per page and form feeds.

A page ends after `lines_per_page` lines (66 by default: 11 inches at 6 lines per
inch, the classic line printer page) or at a form feed. A final form feed does
not start an empty page. Long lines are not wrapped (as pkpgcounter). Chosen only
when no other language claims the job: text is what is left.
"""

from __future__ import annotations

from pagetally.errors import CorruptData, LimitReached
from pagetally.pdl import pjl
from pagetally.pdl.base import DEFAULT_LIMITS, Analysis, Buffer, Limits, Parser
from pagetally.pdl.formats._bufio import CHUNK

DEFAULT_LINES_PER_PAGE = 66
_CONTROL_OK = frozenset(b"\t\n\r\x0c\x08\x1b")


def looks_like_text(head: bytes) -> bool:
    """Mostly printable (ASCII or UTF-8/Latin-1), no NULs, few control characters."""
    sample = head[:8192]
    if not sample or b"\x00" in sample:
        return False
    controls = sum(1 for b in sample if b < 32 and b not in _CONTROL_OK)
    return controls * 100 <= len(sample)


def _first_binary(chunk: bytes) -> int:
    """Offset of the first byte plain text would not hold (NUL or a stray control)."""
    for i, b in enumerate(chunk):
        if b == 0 or (b < 32 and b not in _CONTROL_OK):
            return i
    return 0


class TextParser:
    name = "text"
    format = "plain text"

    def __init__(self, lines_per_page: int = DEFAULT_LINES_PER_PAGE) -> None:
        if lines_per_page < 1:
            raise ValueError("lines_per_page must be at least 1")
        self.lines_per_page = lines_per_page

    def detect(self, head: bytes) -> float:
        return 0.1 if looks_like_text(head) else 0.0

    def count(self, data: Buffer, limits: Limits = DEFAULT_LIMITS) -> Analysis:
        # Like enscript: a form feed always ends the page (a blank one too), a page
        # also ends after its last line, and nothing after the last page adds one.
        lpp = self.lines_per_page
        start = pjl.read_header(data).offset
        probe = bytes(data[start : start + (1 << 16)])
        newline = b"\r" if b"\n" not in probe and b"\r" in probe else b"\n"
        pages = 0
        lines = 0  # finished lines on the current page
        partial = False  # the current line has characters
        for offset in range(start, len(data), CHUNK):
            chunk = bytes(data[offset : offset + CHUNK])
            if not looks_like_text(chunk[:8192]) or b"\x00" in chunk:
                # The head looked like text, this does not: binary data a printer
                # would not print as lines (a raster, an image). Refused, not counted.
                raise CorruptData(f"text: binary data at offset {offset + _first_binary(chunk)}")
            for i, part in enumerate(chunk.split(b"\x0c")):
                if i:
                    pages += 1
                    lines = 0
                    partial = False
                n = part.count(newline)
                if n:
                    lines += n
                    pages += lines // lpp
                    lines %= lpp
                    partial = not part.endswith(newline)
                elif part:
                    partial = True
            if pages > limits.max_pages:
                raise LimitReached(f"text: more than {limits.max_pages} pages")
        if lines or partial:
            pages += 1
        return Analysis(self.format, pages)


PARSERS: list[Parser] = [TextParser()]
