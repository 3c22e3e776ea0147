"""HP LIDIL (hplip's hpcups for DeskJet 3600/3650/3900/D1360 ... inkjets).

Facts (hplip's ldlencap.h/ldl.py as cited by pkpgcounter, and hpcups output
through cupsfilter): packets of a 10-byte big-endian header: frame sync '$',
command length (2, header and trailing '$' included), unit count (1), packet
type (1), command (1), reference number (2), data length (2); the data follows
the command part. A job opens with Sync, Sync Complete and Reset packets.
Command packets (type 0) with command 1 load a page, 2 eject it.
"""

from __future__ import annotations

import struct

from pagetally.pdl.base import DEFAULT_LIMITS, Analysis, Buffer, Limits
from pagetally.pdl.formats._host import Budget, Pages, corrupt, need, only_trailer, split_head

_HDR = struct.Struct(">BHBBBHH")


class LidilParser:
    """HP LIDIL inkjets."""

    name = "lidil"
    format = "HP LIDIL"

    def detect(self, head: bytes) -> float:
        _lang, body = split_head(head)
        if len(body) < _HDR.size or body[0] != 0x24:
            return 0.0
        _fs, size, _unit, kind, _cmd, _ref, _dlen = _HDR.unpack_from(body, 0)
        closed = _HDR.size <= size <= len(body) and body[size - 1] == 0x24
        if body.startswith(b"$\x01\x00\x00\x07") and closed:
            return 0.95  # the Sync packet every hpcups LIDIL job starts with
        return 0.7 if closed and kind <= 8 else 0.0

    def count(self, data: Buffer, limits: Limits = DEFAULT_LIMITS) -> Analysis:
        n = len(data)
        pages = Pages(limits)
        budget = Budget(n, limits)
        loads = ejects = 0
        pos = 0
        while pos < n:
            budget.tick()
            if data[pos] != 0x24:
                if only_trailer(data, pos):
                    break
                raise corrupt(self.format, pos)
            need(data, pos, _HDR.size, self.format)
            _fs, size, _unit, kind, cmd, _ref, dlen = _HDR.unpack_from(data, pos)
            if size < _HDR.size:
                raise corrupt(self.format, pos)
            need(data, pos, size + dlen, self.format)
            if kind == 0:
                if cmd == 1:
                    loads += 1
                elif cmd == 2:
                    ejects += 1
            pos += size + dlen
        # A page loaded but never ejected still went through the printer.
        for _ in range(max(loads, ejects)):
            pages.add()
        return pages.analysis(self.format)


PARSERS = [LidilParser()]
