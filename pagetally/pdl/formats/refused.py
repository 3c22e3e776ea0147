"""Formats recognised only to be refused, with a reason a person can act on.

Some outputs look enough like text (or like nothing) that a lenient parser would
claim them and invent a number: Ghostscript renders a 5-page job as a CIF chip
layout of 13,000 text lines ("201 pages" as text), as DEC sixel graphics whose
lines are not paper lines, as MGR or Plan 9 bitmaps. None of these can be
followed to a page count a printer would agree with, so each is named and
refused: the site's policy decides, never a guess (DESIGN.md, "Counting you can
bill by"). Facts: the magic numbers of Ghostscript's cif, ln03/la50/la70/la75/
la75plus/dl2100 (sixel), mgr*, plan9bm, inferno, imagen, oki4w, bj10v, dj505j
jetp3852 and npdl devices (each of the last five was claimed by a lenient PCL or ESC/P
detector and counted 2 to 250 times its pages).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from pagetally.errors import UnknownFormat
from pagetally.pdl.base import DEFAULT_LIMITS, Analysis, Buffer, Limits, Parser

# DEC sixel graphics: a DCS introducer "ESC P", numeric parameters, then "q".
_SIXEL = re.compile(rb"\x1bP[0-9;]{0,40}q")
_CIF = re.compile(rb"DS\s*\d+[\s\d]*;\s*(?:9 [^;\n]{0,4096};\s*)?(?:L\w+;|B\s*\d|DF;|C\s*\d)")


@dataclass
class Refused:
    """A format recognised by `pattern` at the job's start, refused with `why`."""

    name: str
    format: str
    pattern: re.Pattern[bytes]
    why: str
    anywhere: int = 0  # search this many head bytes instead of matching at offset 0
    confidence: float = 0.6

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
        "sixel",
        "DEC sixel graphics",
        _SIXEL,
        "sixel graphics whose page length depends on the printer's setup",
        anywhere=512,
    ),
    Refused(
        "mgr",
        "MGR bitmap",
        re.compile(rb"yz[\x20-\x5f]{4}[!\"$(0] "),  # magic, 4 size digits, depth, space
        "a bitmap for the MGR window system, not a print job",
    ),
    Refused(
        "plan9bm",
        "Plan 9 bitmap",
        re.compile(rb"(?:compressed\n)?[ 0-9a-z]{11} [ 0-9-]{11} [ 0-9-]{11} [ 0-9-]{11} "),
        "a Plan 9 or Inferno image, not a print job",
    ),
    Refused(
        "oki4w",
        "Okidata OKIPAGE 4w",
        re.compile(rb"\x1b%-98765X"),
        "Okidata's host-based language (no parser follows it; PCL would misread it)",
        confidence=0.7,
    ),
    Refused(
        "bj10v",
        "Canon BJ-10v",
        re.compile(rb"\x1b@(?:\x1bJ[\x00-\xff]|\x1b\\[\x00-\xff]{2}){0,8}\x1b\|\*"),
        "Canon's BJ-10v raster (ESC | *), which ESC/P would misread",
        confidence=0.92,
    ),
    Refused(
        "dj505j",
        "HP DeskJet 505J",
        re.compile(rb"\x1b@\x1b_[A-Z]"),
        "the DeskJet 505J's ESC _ commands (no parser follows them yet)",
        confidence=0.65,
    ),
    Refused(
        "jetp3852",
        "IBM Jetprinter 3852",
        re.compile(rb"\x1b@\x1be[\x00-\xff]\x1b\[O"),
        "the Jetprinter 3852's raster (ESC/P would misread its line feeds)",
        confidence=0.65,
    ),
    Refused(
        "npdl",
        "NEC NPDL",
        re.compile(rb"\x1bc1"),
        "NEC's page description language (no parser follows it)",
        confidence=0.5,
    ),
    Refused(
        "imagen",
        "Imagen impress",
        re.compile(rb"@document\("),
        "Imagen impress (no parser follows it)",
        confidence=0.9,
    ),
]
