"""PJL (HP Printer Job Language) wrappers around a job.

Many drivers wrap their output as::

    ESC%-12345X@PJL JOB NAME="x"\\r\\n@PJL SET COPIES=2\\r\\n@PJL ENTER LANGUAGE=PCLXL\\r\\n
    <the job in its own language> ESC%-12345X@PJL EOJ\\r\\nESC%-12345X

`read_header` reads that leading header: where the payload starts, the language
it names, and the copies it asks for. Copies from PJL are applied once, by
`pagetally.pdl.analyse`; parsers count the payload and report only copies asked
inside their own language (PostScript #copies, PCL ESC&l#X), never PJL's.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from pagetally.pdl.base import Buffer

UEL = b"\x1b%-12345X"
_MAX_HEADER = 1 << 20  # a PJL header longer than 1 MiB is not a header
_MAX_COPIES = 9999
_MAX_LINE = 4096
_SET = re.compile(rb"@PJL\s+(?:DEFAULT|SET)\s+(COPIES|QTY)\s*=\s*(\d{1,9})", re.IGNORECASE)
_ENTER = re.compile(rb"@PJL\s+ENTER\s+LANGUAGE\s*=\s*([A-Za-z0-9_.\-]{1,32})", re.IGNORECASE)


@dataclass(frozen=True, slots=True)
class PjlHeader:
    """What a job's leading PJL said. `offset` is where the payload starts."""

    offset: int = 0
    language: str | None = None
    copies: int | None = None  # @PJL SET COPIES (uncollated copies of each page)
    qty: int | None = None  # @PJL SET QTY (collated copies of the whole job)
    present: bool = False

    @property
    def job_copies(self) -> int:
        """Copies the wrapper asks for: QTY when set (it is the job-level one), else COPIES."""
        for value in (self.qty, self.copies):
            if value is not None and value > 0:
                return min(value, _MAX_COPIES)
        return 1


def read_header(data: Buffer) -> PjlHeader:
    """Read the PJL header at the start of `data` (none → offset 0). Never raises."""
    pos = 0
    end = min(len(data), _MAX_HEADER)
    present = False
    language: str | None = None
    copies: int | None = None
    qty: int | None = None
    while pos < end:
        if data[pos : pos + len(UEL)] == UEL:
            present = True
            pos += len(UEL)
            continue
        if present and data[pos : pos + 1] in (b"\r", b"\n", b"\x00", b" ", b"\t", b"\x0c"):
            pos += 1
            continue
        if data[pos : pos + 4].upper() != b"@PJL":
            break
        present = True
        # A line ends at LF; some drivers end the last one with NUL or go straight
        # on with a UEL, and ESC never belongs to a PJL line.
        limit = min(end, pos + _MAX_LINE)
        nl = data.find(b"\n", pos, limit)
        esc = data.find(b"\x1b", pos, limit if nl < 0 else nl)
        if esc >= 0:
            line_end = esc
        elif nl >= 0:
            line_end = nl + 1
        else:
            line_end = limit
        line = bytes(data[pos:line_end])
        pos = line_end
        if m := _SET.match(line):
            value = int(m.group(2))
            if m.group(1).upper() == b"QTY":
                qty = value
            else:
                copies = value
        elif m := _ENTER.match(line):
            language = m.group(1).decode("ascii").upper()
            break  # the payload starts right after ENTER LANGUAGE's line
    if not present:
        return PjlHeader()
    return PjlHeader(offset=pos, language=language, copies=copies, qty=qty, present=True)


def strip(head: bytes) -> bytes:
    """`head` without its leading PJL header (the detector's view of a job)."""
    return head[read_header(head).offset :]
