"""Vectorised skipping of PCL raster rows (`ESC *b#W` + data) in big jobs.

Drivers write a page as tens of thousands of short raster rows; walking them one
regex match at a time costs about a microsecond each, 30 MB/s on compressed (mode 2/3)
rows. Here NumPy finds every `ESC *b<digits><W|V|M|Y>` header of a window at once,
parses the numbers and works out where each row's data ends. A candidate found
inside another row's data is harmless: a chain is followed only from a header the
scanner reached, and only through steps where a row ends exactly at the next
candidate header, so every step is one the byte-by-byte walk would have taken.

Used only for jobs above `MIN_SIZE` (importing NumPy costs more than small jobs).
"""

from __future__ import annotations

from typing import Any

MIN_SIZE = 1 << 20
_WINDOW = 8 << 20
_LOOKAHEAD = 16  # header bytes after a candidate: ESC * b + 9 digits + letter


class RowIndex:
    """Windowed index of raster-row headers in `data`; `jump` skips whole runs."""

    def __init__(self, data: Any) -> None:
        import numpy as np

        self._np = np
        self._all = np.frombuffer(data, dtype=np.uint8)
        self._size = len(self._all)
        self._lo = 0
        self._hi = -1  # window [lo, hi): candidates starting there are indexed
        self._pos = np.zeros(0, dtype=np.int64)
        self._nxt = np.zeros(0, dtype=np.int64)
        self._runend = np.zeros(0, dtype=np.int64)
        self._drawn = np.zeros(1, dtype=np.int64)

    def _build(self, start: int) -> None:
        np = self._np
        size = self._size
        hi = min(size, start + _WINDOW)
        view_end = min(size, hi + _LOOKAHEAD)
        w = self._all[start:view_end]
        # Index candidates whose whole header can be read; the last few bytes of the
        # job are left to the caller's byte-exact path.
        limit = min(hi - start, len(w) - _LOOKAHEAD)
        esc = np.flatnonzero(w[: max(limit, 0)] == 0x1B)
        if len(esc):
            esc = esc[(w[esc + 1] == 0x2A) & (w[esc + 2] == 0x62)]
        value = np.zeros(len(esc), dtype=np.int64)
        ndig = np.zeros(len(esc), dtype=np.int64)
        alive = np.ones(len(esc), dtype=bool)
        for k in range(9):
            d = w[esc + 3 + k].astype(np.int64) - 48
            isd = alive & (d >= 0) & (d <= 9)
            value = np.where(isd, value * 10 + d, value)
            ndig += isd
            alive = isd
        term = w[esc + 3 + ndig]
        isdata = (term == 0x57) | (term == 0x56)  # W, V
        valid = isdata | (term == 0x4D) | (term == 0x59)  # M, Y
        # more than 9 digits is not a row header we take on trust
        valid &= ~alive
        esc, value, ndig, isdata = esc[valid], value[valid], ndig[valid], isdata[valid]
        pos = esc + start
        nxt = pos + 4 + ndig + np.where(isdata, value, 0)
        n = len(pos)
        ok = np.zeros(n, dtype=bool)
        if n > 1:
            ok[:-1] = nxt[:-1] == pos[1:]
        breaks = np.flatnonzero(~ok)  # the last index is always a break
        self._runend = breaks[np.searchsorted(breaks, np.arange(n))] if n else np.zeros(0, np.int64)
        self._drawn = np.concatenate(([0], np.cumsum(isdata & (value > 0))))
        self._pos, self._nxt = pos, nxt
        self._lo, self._hi = start, hi

    def jump(self, at: int) -> tuple[int, bool] | None:
        """If a row header starts at `at`: (end of its run of rows, any ink), else None."""
        if not self._lo <= at < self._hi:
            if at >= self._size:
                return None
            self._build(at)
            if not self._lo <= at < self._hi:
                return None
        k = int(self._pos.searchsorted(at))
        if k >= len(self._pos) or int(self._pos[k]) != at:
            return None
        j = int(self._runend[k])
        drew = int(self._drawn[j + 1]) - int(self._drawn[k]) > 0
        return int(self._nxt[j]), drew
