"""PJL (HP Printer Job Language): the jobs of a stream and the copies they ask for.

Drivers wrap their output as::

    ESC%-12345X@PJL JOB NAME="x"\\r\\n@PJL SET COPIES=2\\r\\n@PJL ENTER LANGUAGE=PCLXL\\r\\n
    <the job in its own language> ESC%-12345X@PJL EOJ\\r\\nESC%-12345X

and a stream may hold several such jobs, each in its own language. A job cannot
be steered by how it writes its PJL, so this module reads PJL the way the
printer does (the rules below were checked against GhostPDL's `gpdl`, which
switches language per PJL job like a printer):

- A PJL command line starts with `@PJL` in capitals (the rest of the line is
  read in any case) and ends at LF, or at ESC; it may be of any length, so a
  long COMMENT hides nothing. Between lines only CR and LF are skipped: any
  other byte (a space, a NUL) starts data, which the printer then prints.
- `ENTER LANGUAGE=X` ends PJL: the language job starts right after the line.
  Data that is not PJL starts a job too, in the language the printer detects.
- A UEL ends a language job and returns to PJL. `SET COPIES/QTY` hold until
  the end of the next language job; `DEFAULT COPIES/QTY` hold for the rest of
  the stream, under a later SET.

`Stream.read_pjl` walks the PJL between jobs; where a job ends depends on its
language, which the caller (pagetally.pdl.detect) decides. Copies from PJL are
applied by `pagetally.pdl.analyse`; parsers report only copies asked inside
their own language (see `Analysis.default_copies_pages`).
"""

from __future__ import annotations

import re
from typing import NamedTuple

from pagetally.errors import LimitReached
from pagetally.pdl._lazyre import lazy
from pagetally.pdl.base import Buffer

UEL = b"\x1b%-12345X"
MAX_COPIES = 9999  # above this no printer prints it: the job is refused
_MAX_LINES = 1_000_000  # PJL lines in one stream (a real header has tens)
_CMD = lazy(
    rb"@PJL[ \t]+(?:(SET|DEFAULT)[ \t]+(COPIES|QTY)[ \t]*=[ \t]*([+-]?\d{1,12})"
    rb"|ENTER[ \t]+LANGUAGE[ \t]*=[ \t]*([A-Za-z0-9_.\-]{1,32}))",
    re.IGNORECASE,
)


class PjlHeader(NamedTuple):
    """What the PJL before a job said. `offset` is where the job's data starts."""

    offset: int = 0
    language: str | None = None
    copies: int | None = None  # COPIES: uncollated copies of each page
    qty: int | None = None  # QTY: collated copies of the whole job
    present: bool = False

    @property
    def job_copies(self) -> int:
        """Copies the wrapper asks for: QTY when set (it is the job-level one), else COPIES."""
        for value in (self.qty, self.copies):
            if value is not None and value > 0:
                return min(value, MAX_COPIES)
        return 1


class Stream:
    """Reads the PJL of one stream job after job, keeping what holds between jobs."""

    __slots__ = ("data", "defaults", "lines", "sets")

    def __init__(self, data: Buffer) -> None:
        self.data = data
        self.lines = 0
        self.sets: dict[bytes, int] = {}  # SET: until the job ends
        self.defaults: dict[bytes, int] = {}  # DEFAULT: whole stream

    def _value(self, key: bytes) -> int | None:
        return self.sets.get(key, self.defaults.get(key))

    def read_pjl(self, pos: int) -> PjlHeader:
        """Read PJL from `pos` up to where data starts; `offset` is that data's start
        (len(data) when none follows). Raises LimitReached on absurd values."""
        data = self.data
        end = len(data)
        present = False
        language: str | None = None
        while pos < end:
            byte = data[pos : pos + 1]
            if byte in (b"\r", b"\n"):
                pos += 1
                continue
            if data[pos : pos + 9] == UEL:
                present = True
                pos += 9
                continue
            if data[pos : pos + 4] != b"@PJL":
                break
            present = True
            self.lines += 1
            if self.lines > _MAX_LINES:
                raise LimitReached(f"PJL: more than {_MAX_LINES} command lines (offset {pos})")
            nl = data.find(b"\n", pos)
            stop = end if nl < 0 else nl
            esc = data.find(b"\x1b", pos, stop)
            if esc >= 0:
                line_end = nxt = esc
            else:
                line_end, nxt = stop, (end if nl < 0 else nl + 1)
            m = _CMD.match(data, pos, line_end)
            at, pos = pos, nxt
            if m is None:
                continue
            if m.group(4) is not None:
                language = m.group(4).decode("ascii").upper()
                break  # the job's data starts right after ENTER LANGUAGE's line
            value = int(m.group(3))
            if value > MAX_COPIES:
                raise LimitReached(
                    f"PJL asks for {value} {m.group(2).decode().upper()} at offset {at}: "
                    f"more than {MAX_COPIES}"
                )
            key = m.group(2).upper()
            target = self.sets if m.group(1).upper() == b"SET" else self.defaults
            target[key] = value
        return PjlHeader(
            offset=min(pos, end),
            language=language,
            copies=self._value(b"COPIES"),
            qty=self._value(b"QTY"),
            present=present,
        )

    def job_done(self) -> None:
        """A language job ended (at a UEL): its SET values end with it."""
        self.sets.clear()


def next_uel(data: Buffer, pos: int) -> int:
    """Where the next UEL starts at or after `pos`, or len(data)."""
    at = data.find(UEL, pos)
    return len(data) if at < 0 else at


def read_header(data: Buffer) -> PjlHeader:
    """The PJL before the first job of `data` (none → offset 0). Raises only LimitReached."""
    return Stream(data).read_pjl(0)


def strip(head: bytes) -> bytes:
    """`head` without its leading PJL (the detector's view of a job)."""
    try:
        return head[read_header(head).offset :]
    except LimitReached:
        return head
