"""DEC sixel graphics printers (LN03, LA50, LA75: Ghostscript's ln03, la50, la70,
la75, la75plus devices; netpbm's pbmtoln03).

Facts (the bytes those programs write): ANSI control sequences (ESC [ … final
byte) set the printer up; each page's picture is one DCS string, ESC P (or 0x90)
parameters "q", then sixel data — characters 0x3F-0x7E (six dots each, "?" is
blank), "!" repeats, "#" colours, '"' raster attributes, "$" and "-" carriage
return and new line — ended by ST (ESC \\ or 0x9C); a form feed after it ejects
the page. Ghostscript writes one DCS and one form feed per page; pbmtoln03's
single page has no form feed, and the printer prints it at the end of the job.

Pages are the form feeds outside DCS strings, and one more at the end when sixel
dots were sent after the last one (the dots' height is not measured: a picture
taller than the paper is not split here). Text outside the graphics, or bytes a
sixel string cannot hold, are refused with their offset: where text lines would
break pages is the printer's setting, not the job's.
"""

from __future__ import annotations

from pagetally.errors import CorruptData, TruncatedData
from pagetally.pdl._lazyre import lazy
from pagetally.pdl.base import DEFAULT_LIMITS, Analysis, Buffer, Limits
from pagetally.pdl.formats._host import Budget, Pages

_CSI = lazy(rb"(?:\x1b\[|\x9b)[\x30-\x3f]{0,64}[\x20-\x2f]{0,4}[\x40-\x7e]")
_ESC = lazy(rb"\x1b[\x20-\x2f]{0,4}[\x30-\x7e]")
_DCS = lazy(rb"(?:\x1bP|\x90)[0-9;]{0,32}q")
_NOT_SIXEL = lazy(rb"[^\x20-\x7e\r\n]")
# bytes.translate deletes at C speed: what is left of a picture after deleting
# the bytes a sixel string may hold are the bad ones; after deleting all but the
# dot characters, whether any dot is drawn.
_SIXEL_BYTES = bytes(range(0x20, 0x7F)) + b"\r\n"
_NOT_DOTS = bytes(b for b in range(256) if not 0x40 <= b <= 0x7E)
_QUIET = b"\r\n \x00"


class SixelParser:
    """DEC sixel graphics (LN03 laser, LA50/LA75 dot matrix)."""

    name = "sixel"
    format = "DEC sixel graphics"

    def detect(self, head: bytes) -> float:
        pos = 0
        for _ in range(32):  # set-up sequences, then the first picture
            if _DCS.match(head, pos):
                return 0.9
            m = _CSI.match(head, pos) or _ESC.match(head, pos)
            if m is None:
                break
            pos = m.end()
        return 0.0

    def count(self, data: Buffer, limits: Limits = DEFAULT_LIMITS) -> Analysis:
        n = len(data)
        pages = Pages(limits)
        budget = Budget(n, limits)
        drawn = False
        pos = 0
        while pos < n:
            budget.tick()
            c = data[pos]
            if c == 0x0C:
                pages.add()
                drawn = False
                pos += 1
            elif c in _QUIET:
                pos += 1
            elif dcs := _DCS.match(data, pos):
                ends = [e for e in (data.find(b"\x1b\\", dcs.end()), data.find(b"\x9c", dcs.end()))
                        if e >= 0]  # fmt: skip
                if not ends:
                    raise TruncatedData(f"{self.format}: picture at offset {pos} has no end")
                st = min(ends)
                picture = bytes(data[dcs.end() : st])
                if picture.translate(None, _SIXEL_BYTES):
                    bad = _NOT_SIXEL.search(data, dcs.end(), st)
                    at = bad.start() if bad else st
                    raise CorruptData(
                        f"{self.format}: byte 0x{data[at]:02x} at offset {at} inside a picture"
                    )
                drawn = drawn or bool(picture.translate(None, _NOT_DOTS))
                pos = st + (1 if data[st] == 0x9C else 2)
            elif m := (_CSI.match(data, pos) or _ESC.match(data, pos)):
                pos = m.end()
            else:
                raise CorruptData(
                    f"{self.format}: unexpected data (text beside the graphics?) at offset {pos}"
                )
        if drawn:
            pages.add()
            return pages.analysis(self.format, ("last picture has no form feed: counted",))
        return pages.analysis(self.format)


PARSERS = [SixelParser()]
