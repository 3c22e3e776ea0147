"""What a CUPS backend tells cupsd about pages on its stderr.

CUPS backends and filters write `PAGE: page-number copies` after each page
and `PAGE: total N` for a whole count (CUPS' own ipp backend reports the
printer's `job-impressions-completed` so). cupsd adds the copies of page lines
and takes a total line as the count so far; `pages_from_stderr` does the same,
so the wrapper learns what the real backend reported without asking the
printer itself.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass

_PAGE = re.compile(r"^PAGE:\s*(?:(total)\s+(\d+)|(\d+)\s+(\d+))\s*$", re.IGNORECASE)


@dataclass(frozen=True, slots=True)
class PageLine:
    """One PAGE: line: a total (`total=True`, `count` pages) or one page's copies."""

    total: bool
    count: int
    page: int | None = None


def parse_page_line(line: str | bytes) -> PageLine | None:
    """The PAGE: line's meaning, or None if the line is not a well-formed PAGE: line."""
    if isinstance(line, bytes):
        line = line.decode("utf-8", "replace")
    m = _PAGE.match(line.strip())
    if m is None:
        return None
    if m.group(1):
        return PageLine(True, int(m.group(2)))
    return PageLine(False, int(m.group(4)), int(m.group(3)))


def pages_from_stderr(lines: Iterable[str | bytes]) -> int | None:
    """Pages reported by PAGE: lines (None if there were none), as cupsd counts them."""
    count: int | None = None
    for line in lines:
        parsed = parse_page_line(line)
        if parsed is None:
            continue
        count = parsed.count if parsed.total else (count or 0) + parsed.count
    return count
