"""PWG Raster (PWG 5102.4): what IPP Everywhere printers take.

A PWG Raster stream is CUPS Raster version 2, big-endian ("RaS2"), whose every
page header names "PwgRaster" in its MediaClass field; its pages are followed
line by line to their ends by the CUPS Raster walker (see cupsraster.py).
"""

from __future__ import annotations

from pagetally.pdl.base import DEFAULT_LIMITS, Analysis, Buffer, Limits
from pagetally.pdl.formats.cupsraster import count_raster

_MAGIC = b"RaS2PwgRaster\x00"


class PwgRasterParser:
    name = "pwg"
    format = "PWG Raster"

    def detect(self, head: bytes) -> float:
        return 0.99 if head.startswith(_MAGIC) else 0.0

    def count(self, data: Buffer, limits: Limits = DEFAULT_LIMITS) -> Analysis:
        return count_raster(data, limits, self.format, pwg=True)


PARSERS = [PwgRasterParser()]
