"""Ricoh DDST (foo2ddst: Ricoh Aficio SP 100/112/204 ...), a PJL-structured job.

Facts (ddstdecode on foo2ddst output): the whole job is PJL. Each page is
"@PJL SET PAGESTATUS=START", page settings, "@PJL SET IMAGELEN=N", then N bytes
of JBIG data, then "@PJL SET DOTCOUNT=..." and "@PJL SET PAGESTATUS=END".
There is no ENTER LANGUAGE line. COPIES lines are PJL's, read by the PJL layer.
When a leading PJL wrapper was already cut off, the first image's length is
unknown; the walk then resumes at the next "@PJL" and counts page ends.
"""

from __future__ import annotations

import re

from pagetally.pdl._lazyre import lazy
from pagetally.pdl.base import DEFAULT_LIMITS, Analysis, Buffer, Limits
from pagetally.pdl.formats._host import UEL, Budget, Pages, corrupt, need

_LINE = lazy(rb"@PJL[^\n\x00]{0,4096}\n?")
_IMAGELEN = lazy(rb"IMAGELEN\s*=\s*(\d{1,12})")
# A JBIG bi-level image header: DL=0, D=0, P=1, reserved 0, XD, YD, L0 (each below
# 65536 here), MX < 128, MY = 0, order < 16, options < 128. (A PJL reader that
# skips NUL padding after the header eats the leading DL and D.)
_BIH = lazy(
    rb"(?:\x00\x00)?\x01\x00\x00\x00..\x00\x00..\x00\x00..[\x00-\x7f]\x00[\x00-\x0f][\x00-\x7f]",
    re.DOTALL,
)


class DdstParser:
    """Ricoh DDST host-based laser printers."""

    name = "ddst"
    format = "Ricoh DDST"

    def detect(self, head: bytes) -> float:
        if b"@PJL SET IMAGELEN=" in head and b"PAGESTATUS=START" in head:
            return 0.95
        if _BIH.match(head) and b"@PJL SET PAGESTATUS=END" in head:
            return 0.9
        return 0.6 if _BIH.match(head) else 0.0

    def count(self, data: Buffer, limits: Limits = DEFAULT_LIMITS) -> Analysis:
        n = len(data)
        pages = Pages(limits)
        budget = Budget(n, limits)
        starts = ends = 0
        pending = -1
        pos = 0
        while pos < n:
            budget.tick()
            if data[pos : pos + 9] == UEL:
                pos += 9
                continue
            if data[pos] in b"\r\n\x00 ":
                pos += 1
                continue
            m = _LINE.match(data, pos)
            if m:
                line = m.group(0)
                pos = m.end()
                if b"PAGESTATUS=START" in line:
                    starts += 1
                elif b"PAGESTATUS=END" in line:
                    ends += 1
                else:
                    size = _IMAGELEN.search(line)
                    if size:
                        pending = int(size.group(1))
                        need(data, pos, pending, self.format)
                        pos += pending
                        pending = -1
                continue
            # Raw data whose length we never saw: resume at the next PJL line.
            nxt = data.find(b"@PJL", pos)
            if nxt < 0:
                raise corrupt(self.format, pos)
            pos = nxt
        if not (starts or ends):
            raise corrupt(f"{self.format}: no page in this job", 0)
        for _ in range(max(starts, ends)):
            pages.add()
        return pages.analysis(self.format)


PARSERS = [DdstParser()]
