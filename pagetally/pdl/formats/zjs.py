"""Zenographics ZjStream and its relatives: SLX (Lexmark) and XQX (HP/Xerox).

Facts (foo2zjs' zjs.h, slx.h, xqx.h, and their decoders run on foo2zjs output):
- ZjStream: magic "JZJZ", then chunks of a 16-byte big-endian header: total size
  (header included), type, item count, 2 reserved bytes, signature "ZZ".
  Type 2 starts a page, 3 ends it; a START_PAGE chunk's items (size 4, id 2,
  type 1, param 1, value 4) carry ZJI_DMCOPIES (id 4). foo2zjs' models 1..3 wrap
  the stream in PJL.
- SLX: magic 0xA5 "SLX", the same chunk layout with signature 0xA5A5; copies
  are item 0x101.
- XQX: after a UEL, magic ",XQX", then records of big-endian type and count;
  type 7 (JBIG) is followed by `count` bytes of data, every other type by
  `count` items of (id, size, value[size]). Type 3 starts a page; copies are item
  0x20000005.
"""

from __future__ import annotations

import struct

from pagetally.pdl.base import DEFAULT_LIMITS, Analysis, Buffer, Limits
from pagetally.pdl.formats._host import (
    UEL,
    Budget,
    Pages,
    corrupt,
    need,
    only_trailer,
    skip_pjl,
    split_head,
)

_HDR = struct.Struct(">IIIHH")
_ITEM = struct.Struct(">IHBB")
_U32 = struct.Struct(">I")
_PAIR = struct.Struct(">II")


def _zj_like(
    data: Buffer,
    limits: Limits,
    fmt: str,
    magic: bytes,
    signature: int,
    copies_item: int,
) -> Analysis:
    """Walk a ZjStream-shaped job (ZjS, SLX) chunk by chunk."""
    start = skip_pjl(data)
    pos = data.find(magic, start, start + 256)
    if pos < 0:
        raise corrupt(f"{fmt}: no {magic!r} magic", start)
    pos += len(magic)
    n = len(data)
    pages = Pages(limits)
    budget = Budget(n, limits)
    ended = False
    while pos + _HDR.size <= n:
        budget.tick()
        size, kind, _items, _reserved, sig = _HDR.unpack_from(data, pos)
        if sig != signature or size < _HDR.size:
            # Another job may follow (PJL, UEL and a new magic).
            nxt = skip_pjl(data, pos)
            if data[nxt : nxt + len(magic)] == magic:
                pos = nxt + len(magic)
                ended = False
                continue
            if ended or only_trailer(data, pos):
                break
            raise corrupt(fmt, pos)
        need(data, pos, size, fmt)
        if kind == 2:
            pages.add(_item_value(data, pos + _HDR.size, pos + size, copies_item, 1))
        elif kind == 1:
            ended = True
        pos += size
    if pos < n and not ended and not only_trailer(data, pos):
        need(data, pos, _HDR.size, fmt)
    return pages.analysis(fmt)


def _item_value(data: Buffer, pos: int, end: int, wanted: int, default: int) -> int:
    """The uint32 value of item `wanted` among a chunk's items, or `default`."""
    for _ in range(256):
        if pos + _ITEM.size + 4 > end:
            break
        size, item, _type, _param = _ITEM.unpack_from(data, pos)
        if size < _ITEM.size:
            break
        if item == wanted and size >= _ITEM.size + 4:
            return int(_U32.unpack_from(data, pos + _ITEM.size)[0])
        pos += size
    return default


class ZjsParser:
    """Zenographics ZjStream (foo2zjs: HP LaserJet 1000/1005/1018/1020, Minolta)."""

    name = "zjs"
    format = "Zenographics ZjStream"

    def detect(self, head: bytes) -> float:
        lang, body = split_head(head)
        if body.startswith(b"JZJZ") and body[4 + 14 : 4 + 16] == b"ZZ":
            return 1.0
        if body.startswith(b"JZJZ"):
            return 0.9
        return 0.9 if lang == "ZJS" else 0.0

    def count(self, data: Buffer, limits: Limits = DEFAULT_LIMITS) -> Analysis:
        return _zj_like(data, limits, self.format, b"JZJZ", 0x5A5A, 4)


class SlxParser:
    """Software Imaging SLX (foo2slx: Lexmark C500 and relatives)."""

    name = "slx"
    format = "SLX (Lexmark)"

    def detect(self, head: bytes) -> float:
        _lang, body = split_head(head)
        if body.startswith(b"\xa5SLX"):
            return 1.0 if body[4 + 14 : 4 + 16] == b"\xa5\xa5" else 0.9
        return 0.0

    def count(self, data: Buffer, limits: Limits = DEFAULT_LIMITS) -> Analysis:
        return _zj_like(data, limits, self.format, b"\xa5SLX", 0xA5A5, 0x101)


class XqxParser:
    """XQX (foo2xqx: HP LaserJet P1005/P1505/M1120, Xerox Phaser 3124)."""

    name = "xqx"
    format = "XQX"

    def detect(self, head: bytes) -> float:
        _lang, body = split_head(head)
        for lead in (b",XQX", UEL + b",XQX"):
            if body.startswith(lead):
                return 1.0
        return 0.0

    def count(self, data: Buffer, limits: Limits = DEFAULT_LIMITS) -> Analysis:
        start = skip_pjl(data)
        pos = data.find(b",XQX", max(0, start - 9), start + 256)
        if pos < 0:
            raise corrupt("XQX: no ,XQX magic", start)
        pos += 4
        n = len(data)
        pages = Pages(limits)
        budget = Budget(n, limits)
        while pos + 8 <= n:
            budget.tick()
            kind, count = _PAIR.unpack_from(data, pos)
            if not 1 <= kind <= 7:
                nxt = skip_pjl(data, pos)
                if data[nxt : nxt + 4] == b",XQX":  # another job follows
                    pos = nxt + 4
                    continue
                if only_trailer(data, pos):
                    break
                raise corrupt(self.format, pos)
            pos += 8
            if kind == 7:
                need(data, pos, count, self.format)
                pos += count
                continue
            copies = 1
            if count > 4096:
                raise corrupt(self.format, pos)
            for _ in range(count):
                need(data, pos, 8, self.format)
                item, size = _PAIR.unpack_from(data, pos)
                need(data, pos + 8, size, self.format)
                if item == 0x20000005 and size >= 4:
                    copies = int(_U32.unpack_from(data, pos + 8)[0])
                pos += 8 + size
            if kind == 3:
                pages.add(copies)
        return pages.analysis(self.format)


PARSERS = [ZjsParser(), SlxParser(), XqxParser()]
