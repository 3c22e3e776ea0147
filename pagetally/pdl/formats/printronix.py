"""Printronix line-matrix graphics (netpbm's pbmtoptx): recognised, then refused.

Facts (pbmtoptx's output): every dot row is a line of bytes 0x40-0x7F (six dots
each) ended by 0x05 (the graphics line command) and a line feed; nothing else.
The printer feeds continuous-form paper and the data holds no page break, so
how many sheets a job takes depends on the form length set at the printer. A
count cannot be followed from the data: such a job is refused by name (without
this parser the plain-text parser counted its dot rows as text lines, 18 pages
for one picture).
"""

from __future__ import annotations

from pagetally.errors import PdlError
from pagetally.pdl._lazyre import lazy
from pagetally.pdl.base import DEFAULT_LIMITS, Analysis, Buffer, Limits

_ROW = lazy(rb"[\x40-\x7f]*\x05\r?\n")


class PrintronixParser:
    """Printronix graphics rows, which carry no page breaks."""

    name = "printronix"
    format = "Printronix graphics"

    def detect(self, head: bytes) -> float:
        pos = rows = 0
        while rows < 8 and (m := _ROW.match(head, pos)):
            pos, rows = m.end(), rows + 1
        return 0.8 if rows >= 8 or (rows and pos == len(head)) else 0.0

    def count(self, data: Buffer, limits: Limits = DEFAULT_LIMITS) -> Analysis:
        raise PdlError(
            f"{self.format}: continuous-form rows with no page break at any offset "
            f"(0 to {len(data)}); the sheets depend on the printer's form length"
        )


PARSERS = [PrintronixParser()]
