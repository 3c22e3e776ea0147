"""Vectorised skipping of PCL raster data (`ESC *b` rows and planes) in big jobs.

Drivers write a page as tens of thousands of short raster rows, either one escape
sequence each (`ESC *b38W` + 38 bytes) or one long combined sequence of planes
(`ESC *b2m281y18v` + 18 bytes + `6v` + 6 bytes + … + `6W` + 6 bytes, PCL3/PCL3GUI).
Walking them one regex match at a time costs about a microsecond each. Here NumPy
finds, in a window of the job, every byte that could end such a parameter
(v w V W m y M Y after a digit or `ESC *b`), reads the digits before it, and
works out where each one's data ends. Such a "step" found inside another's data is
harmless: a chain is followed only from a position the exact scanner reached, and
only through steps where one ends exactly where the next begins, with the right
kind of start (a new `ESC *b` after an upper-case parameter char, a bare parameter
after a lower-case one) — every step one the byte-exact walk would take too.

The index starts with sequence heads only (`ESC *b`: rare in raster data, cheap to
find) and indexes every possible bare parameter from the first time a job
continues a combined sequence (PCL3 drivers). Used only for jobs above
`MIN_SIZE` (importing NumPy costs more than small jobs).
"""

from __future__ import annotations

from typing import Any

MIN_SIZE = 8 << 20  # below this, importing NumPy costs more than it saves
_WINDOW = 8 << 20
_MAX_DIGITS = 9
_MAX_GAP = 12
_PAIR_TABLE = bytes(1 if b in b"vwmyVWMY" else 2 if b in b"0123456789b" else 0 for b in range(256))


class RowIndex:
    """Windowed index of raster steps in `data`; `jump` skips whole chains of them."""

    def __init__(self, data: Any) -> None:
        import numpy as np

        self._np = np
        self._data = data
        self._all = np.frombuffer(data, dtype=np.uint8)
        self._size = len(self._all)
        self._lo = 0
        self._hi = -1  # window: steps starting in [lo, hi) are indexed
        self._planes = False  # index bare plane parameters too (from the first one on)
        empty = np.zeros(0, dtype=np.int64)
        self._start = empty
        self._next = empty
        self._runend = empty
        self._succ = empty
        self._drawn = np.zeros(1, dtype=np.int64)
        self._upper = np.zeros(0, dtype=bool)
        self._esc = np.zeros(0, dtype=bool)
        # byte class bits: 1 parameter char of a raster step, 4 lower case one (may
        # stand alone with an empty value), 2 digit, 8 the `b` of ESC *b
        cls = np.zeros(256, dtype=np.uint8)
        cls[list(b"VWMY")] = 1
        cls[list(b"vwmy")] = 5
        cls[list(b"0123456789")] = 2
        cls[ord("b")] = 8
        self._class = cls
        digit = np.full(256, 255, dtype=np.uint8)
        digit[48:58] = np.arange(10, dtype=np.uint8)
        self._digit = digit

    def _steps_after_esc(self, w: Any) -> tuple[Any, Any, Any, Any]:
        """Steps that open a sequence: `ESC *b <digits> <char>` (rows, PCL5 drivers).

        ESC bytes are rare in raster data, so this finds few false candidates.
        """
        np = self._np
        e = np.flatnonzero(w == 0x1B)
        e = e[e + 4 + _MAX_DIGITS < len(w)]
        e = e[(w[e + 1] == 0x2A) & (w[e + 2] == 0x62)]
        n = len(e)
        value = np.zeros(n, dtype=np.int64)
        ndig = np.zeros(n, dtype=np.int64)
        live = np.arange(n)
        for k in range(_MAX_DIGITS + 1):
            dv = self._digit[w[e[live] + 3 + k]]
            isd = dv < 10
            live = live[isd]
            if len(live) == 0:
                break
            value[live] = value[live] * 10 + dv[isd]
            ndig[live] += 1
        q = e + 3 + ndig
        keep = ((self._class[w[q]] & 1) != 0) & (ndig <= _MAX_DIGITS)
        q, value, e = q[keep], value[keep], e[keep]
        return q, value, e, np.ones(len(q), dtype=bool)

    def _steps_everywhere(self, w: Any) -> tuple[Any, Any, Any, Any]:
        """Every possible step, bare plane parameters too (combined PCL3 sequences)."""
        np = self._np
        # Candidate parameter chars (v w m y, either case) right after a digit or the
        # `b` of ESC *b; bytes.translate finds them at C speed.
        # `marks` has 2 for a digit or b, 1 for v w m y: a 2 then a 1 is a candidate.
        marks = np.frombuffer(bytes(w).translate(_PAIR_TABLE), dtype=np.uint8)
        q = np.flatnonzero((marks[1:] == 1) & (marks[:-1] == 2)) + 1
        q = q[q >= _MAX_DIGITS + 4]  # the first few: left to the exact path
        # Digits before each (greedy, at most _MAX_DIGITS), on a shrinking set.
        n = len(q)
        value = np.zeros(n, dtype=np.int64)
        ndig = np.zeros(n, dtype=np.int64)
        live = np.arange(n)
        scale = 1
        for k in range(1, _MAX_DIGITS + 1):
            dv = self._digit[w[q[live] - k]]
            isd = dv < 10
            live = live[isd]
            if len(live) == 0:
                break
            value[live] += dv[isd].astype(np.int64) * scale
            ndig[live] += 1
            scale *= 10
        alive = np.zeros(n, dtype=bool)
        alive[live] = True
        keep = ~alive  # more digits than _MAX_DIGITS: leave to the exact path
        q, value, ndig = q[keep], value[keep], ndig[keep]
        start = q - ndig
        # An `ESC * b` right before the digits makes it the head of a sequence.
        b3 = start - 3
        okb = b3 >= 0
        b3c = np.maximum(b3, 0)
        esc = okb & (w[b3c] == 0x1B) & (w[b3c + 1] == 0x2A) & (w[b3c + 2] == 0x62)
        keep = esc | (ndig > 0)
        q, value, start, esc = q[keep], value[keep], start[keep], esc[keep]
        start = np.where(esc, start - 3, start)
        return q, value, start, esc

    def _build(self, lo: int) -> None:
        np = self._np
        hi = min(self._size, lo + _WINDOW)
        w = self._all[lo:hi]
        if self._planes:
            q, value, start, esc = self._steps_everywhere(w)
        else:
            q, value, start, esc = self._steps_after_esc(w)
        term = w[q]
        has_data = (term == 0x76) | (term == 0x77) | (term == 0x56) | (term == 0x57)
        upper = term < 0x60
        nxt = q + 1 + np.where(has_data, value, 0)
        # The step after k starts where k's data ends, past any empty lower-case
        # parameters there (`3v` data `w` `w` `4v`: bytes v w m y standing alone),
        # and must be of the kind the grammar wants: ESC *b after an upper-case
        # parameter char, a bare parameter after a lower-case one.
        n = len(q)
        after = nxt.copy()
        more = ~upper
        for _ in range(_MAX_GAP):
            at_end = after >= len(w)
            more &= ~at_end
            more &= self._class[w[np.minimum(after, len(w) - 1)]] == 5
            if not more.any():
                break
            after += more
        # usually the next one in the array; binary search only for the others
        idx = np.arange(1, n + 1)
        miss = start[np.minimum(idx, max(n - 1, 0))] != after if n else idx < 0
        miss |= idx >= n
        idx[miss] = np.searchsorted(start, after[miss])
        idx_c = np.minimum(idx, max(n - 1, 0))
        found = (idx < n) & (start[idx_c] == after) & (esc[idx_c] == upper) if n else idx < 0
        succ = np.where(found, idx_c, -1)
        # Runs of steps each followed by the next one in the array: skipped at once.
        link = succ == np.arange(1, n + 1)
        # runend[k]: the first index >= k that is not linked to the next one
        ends = np.where(link, n, np.arange(n))
        self._runend = np.minimum.accumulate(ends[::-1])[::-1]
        self._succ = succ
        self._drawn = np.concatenate(([0], np.cumsum(has_data & (value > 0))))
        self._start = start + lo
        self._next = nxt + lo
        self._upper = upper
        self._esc = esc
        self._lo, self._hi = lo, hi

    def jump(self, at: int, head: bool) -> tuple[int, bool, bool] | None:
        """Skip the chain of steps starting at `at`.

        `head`: `at` is an ESC (a new sequence) rather than a bare parameter inside
        one. Returns (where the chain ends, whether that is still inside a combined
        sequence, whether any step carried raster data), or None when no indexed
        step starts exactly at `at`.
        """
        if not head and not self._planes:
            self._planes = True  # the job uses combined plane sequences: index them
            self._build(at)
        elif not self._lo <= at < self._hi - 16:
            if at >= self._size or (self._lo <= at and self._hi >= self._size):
                return None
            self._build(at)
        k = int(self._start.searchsorted(at))
        if k >= len(self._start) or int(self._start[k]) != at or bool(self._esc[k]) != head:
            return None
        first = k
        runend, succ = self._runend, self._succ
        while True:
            j = int(runend[k])
            k = int(succ[j])
            if k < 0:
                break
        drew = int(self._drawn[j + 1]) - int(self._drawn[first]) > 0
        return int(self._next[j]), not bool(self._upper[j]), drew
