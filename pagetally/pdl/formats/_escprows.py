"""Vectorised skipping of ESC/P(2) command runs (raster rows) in big jobs.

Ghostscript's stcolor writes every raster row as two commands and a carriage
return (`ESC ( V` position, `ESC . 1` run-length compressed row, CR): half a
million commands in 13 MB, a few microseconds each when handled one by one. Here
NumPy reads, for every ESC byte of a window, the command it would start and where
that command ends — run-length rows are walked for all candidates at once, one run
per step — and links each command to the one that starts where it ends (past
carriage returns, line feeds, NULs and spaces, which put no ink on paper). An ESC
byte inside graphics data gives a harmless candidate: chains are followed only
from a command the exact scanner reached, through commands that start exactly
where the previous one ended, which is the walk `escp._escape` would take.

Commands this index does not model (remote mode, EJL, tab stops, user-defined
characters, long compressed rows, unknown commands) and those that change the
scanner's mode (ESC @, ESC ( G) end a chain; the exact scanner takes over.
Used only for jobs above `MIN_SIZE` (importing NumPy costs more than small jobs).
"""

from __future__ import annotations

from typing import Any

MIN_SIZE = 8 << 20  # below this, importing NumPy costs more than it saves
_WINDOW = 8 << 20
_MAX_RUNS = 1024  # run-length runs walked per row before leaving it to the exact path
_GAP = 4  # CR/LF/NUL/space bytes allowed between two chained commands


class CommandIndex:
    """Windowed index of ESC/P commands in `data`; `jump` skips whole chains."""

    def __init__(self, data: Any, fixed: dict[int, int], star: dict[int, int]) -> None:
        import numpy as np

        self._np = np
        self._all = np.frombuffer(data, dtype=np.uint8)
        self._size = len(self._all)
        self._lo = 0
        self._hi = -1
        empty = np.zeros(0, dtype=np.int64)
        self._esc = empty
        self._next = empty
        self._runend = empty
        self._succ = empty
        self._drawn = np.zeros(1, dtype=np.int64)
        self._fixed = np.full(256, -1, dtype=np.int64)
        for cmd, n in fixed.items():
            self._fixed[cmd] = n
        self._star = np.zeros(256, dtype=np.int64)
        for mode, per in star.items():
            self._star[mode] = per
        quiet = np.zeros(256, dtype=bool)
        quiet[[0x00, 0x0A, 0x0D, 0x20]] = True
        self._quiet = quiet
        modelled = np.zeros(256, dtype=bool)  # commands with their own rule below
        modelled[list(b"*KLYZ^(.i|\x01BDbC&")] = True
        self._modelled = modelled

    def _build(self, lo: int) -> None:
        np = self._np
        size = self._size
        hi = min(size, lo + _WINDOW)
        e = np.flatnonzero(self._all[lo:hi] == 0x1B) + lo
        e = e[e + 9 <= size]  # every command header read here fits in the data
        n = len(e)
        h = [e] + [self._all[e + k].astype(np.int64) for k in range(1, 9)]  # h[k]: byte e + k
        c = h[1]
        nxt = np.full(n, -1, dtype=np.int64)
        mark = np.zeros(n, dtype=bool)
        # fixed parameter counts
        fixed = self._fixed[c]
        sel = fixed >= 0
        nxt[sel] = e[sel] + 2 + fixed[sel]
        # unknown commands and ESC @ are left to the exact path (which refuses
        # or notes the first, and leaves graphics mode on the second)
        nxt[c == 0x40] = -1
        nxt[(c == 0x65) & (h[3] == 0x1B)] = -1  # ESC e n ESC: the Jetprinter's, exact path
        # ESC [ x nL nH data (IBM Jetprinter rows)
        sel = c == 0x5B
        rowlen = h[3] | (h[4] << 8)
        nxt[sel] = e[sel] + 5 + rowlen[sel]
        mark |= sel & (rowlen > 0)
        # ESC * m nL nH: bit image, or a stray ESC * (skipped alone)
        sel = c == 0x2A
        per = self._star[h[2]]
        cols = h[3] | (h[4] << 8)
        nxt[sel] = np.where(per[sel] > 0, e[sel] + 5 + cols[sel] * per[sel], e[sel] + 2)
        mark |= sel & (per > 0) & (cols > 0)
        # ESC K/L/Y/Z nL nH
        sel = (c == 0x4B) | (c == 0x4C) | (c == 0x59) | (c == 0x5A)
        cols = h[2] | (h[3] << 8)
        nxt[sel] = e[sel] + 4 + cols[sel]
        mark |= sel & (cols > 0)
        # ESC ^ m nL nH: two bytes a column
        sel = c == 0x5E
        cols = h[3] | (h[4] << 8)
        nxt[sel] = e[sel] + 5 + 2 * cols[sel]
        mark |= sel & (cols > 0)
        # ESC ( X nL nH data (not remote mode)
        kind = h[2]
        length = h[3] | (h[4] << 8)
        sel = (c == 0x28) & (kind != 0x52) & (kind != 0x47)
        nxt[sel] = e[sel] + 5 + length[sel]
        mark |= sel & (kind == 0x5E) & (length > 0)
        # ESC | B mode nL nH data; ESC | J n n; other ESC | x
        sub = h[2]
        sel = c == 0x7C
        rowlen = h[4] | (h[5] << 8)
        bjlen = h[3] | (h[4] << 8)  # ESC | * nL nH data (Canon BJ-10v)
        nxt[sel] = np.where(
            sub[sel] == 0x42,
            e[sel] + 6 + rowlen[sel],
            np.where(
                sub[sel] == 0x2A,
                e[sel] + 5 + bjlen[sel],
                np.where(sub[sel] == 0x4A, e[sel] + 5, e[sel] + 3),
            ),
        )
        mark |= sel & (((sub == 0x42) & (rowlen > 0)) | ((sub == 0x2A) & (bjlen > 0)))
        # ESC . c v h m nL nH: raster; ESC i r c b nL nH mL mH (ESC i n: exact path)
        dot = c == 0x2E
        comp_dot = h[2]
        need_dot = h[5] * (((h[6] | (h[7] << 8)) + 7) // 8)
        ras = (c == 0x69) & (h[3] <= 1) & ((h[4] == 1) | (h[4] == 2))
        comp_i = h[3]
        need_i = (h[5] | (h[6] << 8)) * (h[7] | (h[8] << 8))
        comp = np.where(dot, comp_dot, np.where(ras, comp_i, -1))
        need = np.where(dot, need_dot, np.where(ras, need_i, 0))
        data_at = e + np.where(ras, 9, 8)
        sel = (dot | ras) & (comp == 0)
        nxt[sel] = data_at[sel] + need[sel]
        mark |= (dot | ras) & (comp <= 1) & (need > 0)
        rle = np.flatnonzero((dot | ras) & (comp == 1))
        if len(rle):
            nxt[rle] = self._packbits(data_at[rle], need[rle])
        # links: the command starting where this one ends, past quiet bytes
        after = nxt.copy()
        more = nxt >= 0
        for _ in range(_GAP):
            more &= after < size
            more &= self._quiet[self._all[np.minimum(after, size - 1)]]
            if not more.any():
                break
            after += more
        # usually the next one in the array; binary search only for the others
        idx = np.arange(1, n + 1)
        miss = e[np.minimum(idx, max(n - 1, 0))] != after if n else idx < 0
        miss |= idx >= n
        idx[miss] = np.searchsorted(e, after[miss])
        idx_c = np.minimum(idx, max(n - 1, 0))
        found = (nxt >= 0) & (idx < n) & (e[idx_c] == after) & (nxt[idx_c] >= 0) if n else nxt < 0
        succ = np.where(found, idx_c, -1)
        link = succ == np.arange(1, n + 1)
        ends = np.where(link, n, np.arange(n))
        self._runend = np.minimum.accumulate(ends[::-1])[::-1]
        self._succ = succ
        self._drawn = np.concatenate(([0], np.cumsum(mark)))
        self._esc, self._next = e, nxt
        self._lo, self._hi = lo, hi

    def _packbits(self, start: Any, need: Any) -> Any:
        """Where run-length data ends for every row at once (-1: left to the exact path).

        One run per step for all unfinished rows, on arrays compacted as rows finish.
        """
        np = self._np
        size = self._size
        end = np.full(len(start), -1, dtype=np.int64)
        ids = np.arange(len(start))
        pos = start.copy()
        made = np.zeros(len(start), dtype=np.int64)
        want = need.copy()
        for _ in range(_MAX_RUNS + 1):
            fin = made >= want
            out = pos >= size  # truncated: stays -1
            if fin.any() or out.any():
                end[ids[fin]] = pos[fin]
                keep = ~(fin | out)
                ids, pos, made, want = ids[keep], pos[keep], made[keep], want[keep]
            if len(ids) == 0:
                break
            c = self._all[pos].astype(np.int64)
            literal = c < 128
            made += np.where(literal, c + 1, 257 - c)
            pos += np.where(literal, c + 2, 2)
        return end

    def jump(self, at: int) -> tuple[int, bool] | None:
        """Skip the chain of commands starting at the ESC at `at`: (end, any ink) or None."""
        if not self._lo <= at < self._hi - 16:
            if at >= self._size or (self._lo <= at and self._hi >= self._size):
                return None
            self._build(at)
        k = int(self._esc.searchsorted(at))
        if k >= len(self._esc) or int(self._esc[k]) != at or int(self._next[k]) < 0:
            return None
        first = k
        runend, succ = self._runend, self._succ
        while True:
            j = int(runend[k])
            k = int(succ[j])
            if k < 0:
                break
        drew = int(self._drawn[j + 1]) - int(self._drawn[first]) > 0
        return int(self._next[j]), drew
