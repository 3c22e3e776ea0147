"""Apple Raster (URF, "UNIRAST"): what AirPrint printers take.

Facts (cups-filters' urftopdf and unirast.h, CUPS' raster-stream.c, files from
Ghostscript's `urf` and `appleraster` devices): "UNIRAST\\0", a big-endian page
count (0 when the writer streamed and did not know it), then pages: a 32-byte
header (bits per pixel, colour space, duplex, quality, 8 reserved bytes, width,
height, resolution, 8 reserved bytes; numbers big-endian) and compressed lines.
A line is a repeat byte (the line occurs n + 1 times), then runs until the line's
width is made: 0-127 repeats the next pixel n + 1 times, 128 fills the rest of
the line with white, 129-255 copies 257 - n literal pixels. A pixel is
bits-per-pixel / 8 bytes (one byte below 8 bits).

Every page is followed to its end; a non-zero page count in the file header
must agree with the pages found, or the job is refused (a printer trusting the
header and one trusting the data would print different numbers).
Colour: colour spaces 1 (sRGB), 3 (AdobeRGB), 5 (DeviceRGB), 6 (CMYK) and
bits per pixel above 16 are colour pages; sGray and DeviceGray are not.
"""

from __future__ import annotations

import struct

from pagetally.errors import CorruptData, TruncatedData
from pagetally.pdl.base import DEFAULT_LIMITS, Analysis, Buffer, Limits, PageInk
from pagetally.pdl.formats._host import Budget, Pages
from pagetally.pdl.formats.cupsraster import walk_lines

_MAGIC = b"UNIRAST\x00"
_FILE_HEADER = 12
_PAGE = struct.Struct(">BBBBIIIII8x")
_GRAY_SPACES = (0, 4)  # sGray, DeviceGray
MAX_SIDE = 1 << 20


class UrfParser:
    name = "urf"
    format = "Apple Raster (URF)"

    def detect(self, head: bytes) -> float:
        if head.startswith(_MAGIC):
            return 0.99
        # A job cut inside its magic (a failed filter chain leaves "UNIR"): ours, to refuse.
        return 0.9 if len(head) >= 4 and _MAGIC.startswith(head[:8]) else 0.0

    def count(self, data: Buffer, limits: Limits = DEFAULT_LIMITS) -> Analysis:
        with memoryview(data) as view:  # indexing a view of an mmap is faster
            return self._count(view, limits)

    def _count(self, data: memoryview, limits: Limits) -> Analysis:
        n = len(data)
        if bytes(data[:8]) != _MAGIC:
            raise CorruptData("Apple Raster: no UNIRAST header at offset 0")
        if n < _FILE_HEADER:
            raise TruncatedData("Apple Raster: the file header is cut short")
        declared = struct.unpack_from(">I", data, 8)[0]
        pages = Pages(limits)
        budget = Budget(n, limits)
        inks: list[PageInk] = []
        pos = _FILE_HEADER
        while pos < n:
            if pos + _PAGE.size > n:
                raise TruncatedData(f"Apple Raster: the page header at offset {pos} is cut short")
            bpp, space, _duplex, _quality, _r0, _r1, width, height, _dpi = _PAGE.unpack_from(
                data, pos
            )
            if bpp not in (1, 8, 16, 24, 32, 48, 64) or not (
                0 < width <= MAX_SIDE and 0 < height <= MAX_SIDE
            ):
                raise CorruptData(f"Apple Raster: impossible page header at offset {pos}")
            if bpp == 1:  # Ghostscript's `urf` writes 1-bit lines: width / 8 bytes
                unit, cells = 1, (width + 7) // 8
            else:
                unit, cells = bpp // 8, width
            pos = walk_lines(
                data,
                pos + _PAGE.size,
                unit,
                cells * unit,
                height,
                self.format,
                budget,
                fill_128=True,
            )
            pages.add()
            inks.append(PageInk(color=space not in _GRAY_SPACES and bpp > 16))
        if not pages:
            raise CorruptData("Apple Raster: the job holds no page")
        if declared and declared != len(pages):
            raise CorruptData(
                f"Apple Raster: the header announces {declared} pages, the data holds {len(pages)}"
            )
        return Analysis(format=self.format, pages=len(pages), page_inks=tuple(inks))


PARSERS = [UrfParser()]
