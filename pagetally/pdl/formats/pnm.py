"""Netpbm images (PBM, PGM, PPM plain and raw, PAM): one page per image.

A Netpbm file may hold several images one after the other (pkpgcounter read
only the first of a raw file: a known trap). Raw images are skipped by their
computed size; plain (ASCII) ones by skipping digits, white space and comments.
"""

from __future__ import annotations

import re

from pagetally.errors import CorruptData, LimitReached, TruncatedData
from pagetally.pdl import pjl
from pagetally.pdl._lazyre import lazy
from pagetally.pdl.base import DEFAULT_LIMITS, Analysis, Buffer, Limits, Parser

_WS = rb"(?:[ \t\r\n]|#[^\r\n]*[\r\n])"
_HEADER = lazy(
    rb"P([1-6])" + _WS + rb"+(\d{1,9})" + _WS + rb"+(\d{1,9})"
    rb"(?:" + _WS + rb"+(\d{1,6}))?" + rb"[ \t\r\n]"
)
_HEADER_PBM = lazy(rb"P[14]" + _WS + rb"+\d{1,9}" + _WS + rb"+\d{1,9}[ \t\r\n]")
_PAM_END = lazy(rb"ENDHDR\r?\n")
_PAM_FIELD = lazy(rb"^(WIDTH|HEIGHT|DEPTH|MAXVAL)[ \t]+(\d{1,9})", re.MULTILINE)
_PLAIN_BODY = lazy(rb"(?:[ \t\r\n0-9]+|#[^\r\n]*)*")
_MAGIC = lazy(rb"P[1-7][ \t\r\n#]")
_SEPARATIONS = lazy(rb"P[14]\s*#[^\n]{0,80}\(device=pksm(?:raw)?\)")


def _raw_size(kind: int, width: int, height: int, maxval: int, depth: int = 1) -> int:
    sample = 2 if maxval > 255 else 1
    if kind == 4:
        return (width + 7) // 8 * height
    if kind == 5:
        return width * height * sample
    if kind == 6:
        return width * height * 3 * sample
    return width * height * depth * sample  # PAM


def _next_image(data: Buffer, pos: int) -> int:
    """Where the image at pos ends."""
    if data[pos : pos + 2] == b"P7":
        end = _PAM_END.search(data, pos, min(len(data), pos + 4096))
        if end is None:
            raise TruncatedData("PAM: header without ENDHDR")
        fields = {k.decode(): int(v) for k, v in _PAM_FIELD.findall(bytes(data[pos : end.start()]))}
        if not {"WIDTH", "HEIGHT", "DEPTH", "MAXVAL"} <= fields.keys():
            raise CorruptData("PAM: incomplete header")
        size = _raw_size(7, fields["WIDTH"], fields["HEIGHT"], fields["MAXVAL"], fields["DEPTH"])
        stop = end.end() + size
    else:
        m = _HEADER.match(data, pos)
        if m is None:
            raise CorruptData("Netpbm: malformed header")
        kind = int(m.group(1))
        width, height = int(m.group(2)), int(m.group(3))
        if kind in (1, 4):
            # PBM has no maxval: the regex may have eaten a first pixel row as one.
            m2 = _HEADER_PBM.match(data, pos)
            if m2 is None:
                raise CorruptData("Netpbm: malformed PBM header")
            body, maxval = m2.end(), 1
        else:
            if m.group(4) is None:
                raise CorruptData("Netpbm: no maxval")
            body, maxval = m.end(), int(m.group(4))
        if kind <= 3:
            skipped = _PLAIN_BODY.match(data, body)
            return skipped.end() if skipped else body
        stop = body + _raw_size(kind, width, height, maxval)
    if stop > len(data):
        raise TruncatedData("Netpbm: the last image is cut short")
    return stop


class PnmParser:
    name = "pnm"
    format = "Netpbm image"

    def detect(self, head: bytes) -> float:
        if _MAGIC.match(head) is None:
            return 0.0
        if head[:2] == b"P7":
            return 0.9 if b"ENDHDR" in head[:4096] else 0.2
        return 0.9 if _HEADER.match(head) else 0.2

    def count(self, data: Buffer, limits: Limits = DEFAULT_LIMITS) -> Analysis:
        pos = pjl.read_header(data).offset
        if _SEPARATIONS.match(data, pos):
            # Ghostscript's pksm/pksmraw write each page as four PBM separations
            # (C, M, Y, K): an image is not a page, and nothing in the file says
            # which images belong together. Refused rather than guessed.
            raise CorruptData("Netpbm: colour separations (Ghostscript pksm), not pages")
        images = 0
        while pos < len(data):
            if _MAGIC.match(data, pos) is None:
                rest = bytes(data[pos : pos + 64]).strip(b" \t\r\n\x00")
                if images and not rest:
                    break
                if images:  # trailing junk after the last image: what was read stands
                    break
                raise CorruptData("Netpbm: no image header")
            end = _next_image(data, pos)
            if end <= pos:
                raise CorruptData("Netpbm: empty image")
            images += 1
            if images > limits.max_pages:
                raise LimitReached(f"Netpbm: more than {limits.max_pages} images")
            pos = end
            while pos < len(data) and data[pos : pos + 1] in (b"\n", b"\r", b" ", b"\t"):
                pos += 1
        return Analysis(self.format, images)


PARSERS: list[Parser] = [PnmParser()]
