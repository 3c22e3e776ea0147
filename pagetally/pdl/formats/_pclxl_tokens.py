"""PCL XL token walk: the plain loop, written to be compiled by mypyc.

Interpreted, this loop does one Python step per token (~20 MB/s on Ghostscript's
text-heavy output), so `pclxl.py` uses it only when `scripts/build-mypyc.sh` has
compiled this module in place; otherwise it runs its regular-expression walker,
which gives the same answers. Keep this file free of anything mypyc cannot compile
(no regex, no closures) and of imports from the rest of PageTally.
"""

from __future__ import annotations

from typing import Final

# Bumped on every change: pclxl.py refuses a compiled module built from another one.
VERSION: Final = "7"

WIDE: Final = 1 << 40  # flags a uint32 value in `walk`'s last-scalar state

# Status codes returned with the position where the walk stopped.
NEED_MORE: Final = 0  # the next token runs past the end of `buf` (or data ended)
AT_ESC: Final = 1  # an ESC: the PCL XL stream ends (UEL) here
INVALID: Final = 2  # a byte that is no PCL XL token


def _table() -> list[int]:
    """Bytes after the tag for every fixed-size token; -1 special, -2 invalid."""
    t = [-2] * 256
    for b in (0x00, 0x09, 0x0A, 0x0B, 0x0C, 0x0D, 0x20):
        t[b] = 0  # white space
    for b in range(0x41, 0xC0):
        t[b] = 0  # operators (0x43 BeginPage, 0x44 EndPage handled apart)
    sizes = {
        0xC0: 1, 0xC1: 2, 0xC2: 4, 0xC3: 2, 0xC4: 4, 0xC5: 4,  # scalars
        0xD0: 2, 0xD1: 4, 0xD2: 8, 0xD3: 4, 0xD4: 8, 0xD5: 8,  # xy pairs
        0xE0: 4, 0xE1: 8, 0xE2: 16, 0xE3: 8, 0xE4: 16, 0xE5: 16,  # boxes
        0xF8: 1, 0xF9: 2,  # attribute ids
    }  # fmt: skip
    for b, n in sizes.items():
        t[b] = n
    for b in (0x43, 0x44, 0xC8, 0xC9, 0xCA, 0xCB, 0xCC, 0xCD, 0xFA, 0xFB, 0x1B):
        t[b] = -1
    return t


SIZES: Final = _table()
# The same as bytes (native indexing when compiled): 254 special, 255 invalid.
_CODES: Final = bytes(254 if n == -1 else 255 if n == -2 else n for n in SIZES)
# Element size of each array type.
ELEMENT: Final = {0xC8: 1, 0xC9: 2, 0xCA: 4, 0xCB: 2, 0xCC: 4, 0xCD: 4}
_ELEMENT_SIZE: Final = bytes(ELEMENT.get(b, 0) for b in range(256))


def _u16(buf: bytes, i: int, big: bool) -> int:
    if big:
        return (buf[i] << 8) | buf[i + 1]
    return buf[i] | (buf[i + 1] << 8)


def _u32(buf: bytes, i: int, big: bool) -> int:
    if big:
        return (buf[i] << 24) | (buf[i + 1] << 16) | (buf[i + 2] << 8) | buf[i + 3]
    return buf[i] | (buf[i + 1] << 8) | (buf[i + 2] << 16) | (buf[i + 3] << 24)


def walk(buf: bytes, pos: int, big: bool, counts: list[int], final: bool = True) -> tuple[int, int]:
    """Walk tokens of `buf` from `pos`; return (stop position, status).

    `counts` accumulates [pages begun, pages ended, copies summed over ended pages,
    largest copies, smallest copies, pending PageCopies value (0: none), value of
    the last token when it was an unsigned scalar (-1: it was not; uint32 ones
    flagged with WIDE), vendor data length set right before (-1: none)] and
    carries the last three from one window to the next. White space between
    tokens changes none of them (GhostPCL reads `3 PageCopies EndPage` through
    white space). The VendorUnique operator (0x46) right after a VUDataLength
    attribute (0x92) is followed by that many bytes of raw data (hpcups'
    JetReady and FastRaster, pxljr): skipped. A token
    that does not fit in `buf` stops the walk with NEED_MORE at its start, except
    embedded data and arrays, whose end is returned (possibly past `len(buf)`):
    the caller skips to it.
    """
    codes = _CODES
    end = len(buf)
    pending = counts[5]
    last = counts[6]  # the value of the last token if it was a ubyte/uint16/uint32, else -1
    vulen = counts[7]  # VUDataLength just set (-1: none)
    while pos < end:
        b = buf[pos]
        n = codes[b]
        if n < 254:
            if pos + 1 + n > end:
                break
            if b <= 0x20:  # white space
                pos += 1
                continue
            if b == 0xF8 or b == 0xF9:
                attr = buf[pos + 1] if b == 0xF8 else _u16(buf, pos + 1, big)
                # PageCopies attribute: its value is the token just before it
                pending = (last if 0 <= last < WIDE else 1) if attr == 0x31 else 0
                vulen = last & (WIDE - 1) if attr == 0x92 and last >= 0 else -1
                last = -1
                pos += 1 + n
                continue
            pending = 0
            if b == 0x46 and vulen >= 0:  # VendorUnique and its raw data
                pos += 1 + vulen
                vulen = -1
                last = -1
                continue
            vulen = -1
            last = _scalar(buf, pos, big)
            pos += 1 + n
            continue
        if n == 255:
            counts[5] = pending
            counts[6] = last
            counts[7] = vulen
            return pos, INVALID
        last = -1
        vulen = -1
        if b == 0x44:
            c = pending if pending > 0 else 1
            counts[1] += 1
            counts[2] += c
            if c > counts[3]:
                counts[3] = c
            if c < counts[4]:
                counts[4] = c
            pending = 0
            pos += 1
            continue
        pending = 0
        if b == 0x43:
            counts[0] += 1
            pos += 1
        elif b == 0x1B:
            counts[5] = pending
            counts[6] = last
            counts[7] = vulen
            return pos, AT_ESC
        elif b == 0xFB:
            if pos + 2 > end:
                break
            pos += 2 + buf[pos + 1]
        elif b == 0xFA:
            if pos + 5 > end:
                break
            pos += 5 + _u32(buf, pos + 1, big)
        else:  # array: element type, length type, length, elements
            if pos + 2 > end:
                break
            lt = buf[pos + 1]
            if lt == 0xC0:
                if pos + 3 > end:
                    break
                count = buf[pos + 2]
                pos += 3
            elif lt == 0xC1:
                if pos + 4 > end:
                    break
                count = _u16(buf, pos + 2, big)
                pos += 4
            elif lt == 0xC2:
                if pos + 6 > end:
                    break
                count = _u32(buf, pos + 2, big)
                pos += 6
            else:
                counts[5] = pending
                counts[6] = last
                counts[7] = vulen
                return pos, INVALID
            pos += count * _ELEMENT_SIZE[b]
    counts[5] = pending
    counts[6] = last
    counts[7] = vulen
    return pos, NEED_MORE


def _scalar(buf: bytes, tok: int, big: bool) -> int:
    """The value of the ubyte/uint16 token at `tok` (a uint32 one: plus WIDE); else -1."""
    if buf[tok] == 0xC0:
        return buf[tok + 1]
    if buf[tok] == 0xC1:
        return _u16(buf, tok + 1, big)
    if buf[tok] == 0xC2:
        return _u32(buf, tok + 1, big) | WIDE
    return -1
