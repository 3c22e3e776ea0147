"""Formats recognised only to be refused, with a reason a person can act on.

Some outputs look enough like text (or like nothing) that a lenient parser would
claim them and invent a number: Ghostscript renders a 5-page job as a CIF chip
layout of 13,000 text lines ("201 pages" as text), as MGR or Plan 9 bitmaps. None of these can be
followed to a page count a printer would agree with, so each is named and
refused: the site's policy decides, never a guess (DESIGN.md, "Counting you can
bill by"). Facts: the magic numbers of Ghostscript's cif, mgr*, plan9bm, inferno,
imagen, oki4w and npdl devices (the last two were claimed by a lenient PCL or
ESC/P detector and counted many times their pages). DEC sixel (sixel.py), BJ-10v
and Jetprinter 3852 (escp.py) and the DeskJet 505J (dj505j.py) are followed.
"""

from __future__ import annotations

import re

from pagetally.errors import UnknownFormat
from pagetally.pdl._lazyre import lazy
from pagetally.pdl.base import DEFAULT_LIMITS, Analysis, Buffer, Limits, Parser

_CIF = lazy(rb"DS\s*\d+[\s\d]*;\s*(?:9 [^;\n]{0,4096};\s*)?(?:L\w+;|B\s*\d|DF;|C\s*\d)")


class Refused:
    """A format recognised by `pattern` at the job's start, refused with `why`."""

    def __init__(
        self,
        name: str,
        format: str,
        pattern: re.Pattern[bytes],
        why: str,
        anywhere: int = 0,  # search this many head bytes instead of matching at offset 0
        confidence: float = 0.6,
    ) -> None:
        self.name = name
        self.format = format
        self.pattern = pattern
        self.why = why
        self.anywhere = anywhere
        self.confidence = confidence

    def __repr__(self) -> str:
        return f"Refused({self.name!r})"

    def detect(self, head: bytes) -> float:
        if self.anywhere:
            return self.confidence if self.pattern.search(head, 0, self.anywhere) else 0.0
        return self.confidence if self.pattern.match(head) else 0.0

    def count(self, data: Buffer, limits: Limits = DEFAULT_LIMITS) -> Analysis:
        raise UnknownFormat(f"{self.format}: {self.why}; not counted")


PARSERS: list[Parser] = [
    Refused(
        "cif",
        "CIF chip layout",
        _CIF,
        "a Caltech Intermediate Form layout, not a print job; its pages cannot be known",
    ),
    Refused(
        "mgr",
        "MGR bitmap",
        lazy(rb"yz[\x20-\x5f]{4}[!\"$(0] "),  # magic, 4 size digits, depth, space
        "a bitmap for the MGR window system, not a print job",
    ),
    Refused(
        "plan9bm",
        "Plan 9 bitmap",
        lazy(rb"(?:compressed\n)?[ 0-9a-z]{11} [ 0-9-]{11} [ 0-9-]{11} [ 0-9-]{11} "),
        "a Plan 9 or Inferno image, not a print job",
    ),
    Refused(
        "oki4w",
        "Okidata OKIPAGE 4w",
        lazy(rb"\x1b%-98765X"),
        "Okidata's host-based language (no parser follows it; PCL would misread it)",
        confidence=0.7,
    ),
    Refused(
        "npdl",
        "NEC NPDL",
        lazy(rb"\x1bc1"),
        "NEC's page description language (no parser follows it)",
        confidence=0.5,
    ),
    Refused(
        "imagen",
        "Imagen impress",
        lazy(rb"@document\("),
        "Imagen impress (no parser follows it)",
        confidence=0.9,
    ),
]
