"""Reads from a read store (a streaming replica, or a store of another kind),
with the primary behind it: PyKota's read-only/read-write split.

Only what reads and may be a little behind is sent here: reports, listings,
history, the web pages (`pagetally` commands run without the admin credentials).
Every print job (the backend, the accounting service) and every command that
writes opens the primary alone (storage.open_store), so a lagging or stopped
replica can never let a job through that the primary would refuse, nor lose or
double a charge: decisions, charges, and the "was this job charged?" check all
happen on the primary, in its transactions.

A read store that is down (StoreUnavailable) is skipped for `retry_s` seconds:
the same read goes to the primary at once, and later reads too, without waiting
for a connection timeout each time.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from typing import Any

from pagetally.errors import StoreUnavailable
from pagetally.storage.base import HistoryFilter, Store

RETRY_S = 30.0
_ALL_JOBS = HistoryFilter()


class SplitStore:
    """A read-only Store: each read from `read`, or from `primary` (opened on
    first need by `open_primary`) while `read` is unreachable."""

    def __init__(self, read: Store, open_primary: Callable[[], Store], *,
                 retry_s: float = RETRY_S) -> None:
        self._read_store = read
        self._open_primary = open_primary
        self._primary: Store | None = None
        self._retry_s = retry_s
        self._down_until = 0.0
        self.failovers = 0  # reads the primary answered because the read store was down

    def primary(self) -> Store:
        if self._primary is None:
            self._primary = self._open_primary()
        return self._primary

    def _read_ok(self) -> bool:
        return time.monotonic() >= self._down_until

    def _mark_down(self) -> None:
        self._down_until = time.monotonic() + self._retry_s
        self.failovers += 1

    def __getattr__(self, name: str) -> Any:
        if name.startswith("_"):
            raise AttributeError(name)
        method = getattr(self._read_store, name)
        if not callable(method):
            return method

        def call(*args: Any, **kwargs: Any) -> Any:
            if self._read_ok():
                try:
                    return method(*args, **kwargs)
                except StoreUnavailable:
                    self._mark_down()
            return getattr(self.primary(), name)(*args, **kwargs)

        return call

    def history(self, flt: HistoryFilter = _ALL_JOBS) -> Iterator[Any]:
        """history() is a generator: the read store fails at its first row, and
        only then can the primary take over (not in the middle of the rows)."""
        if self._read_ok():
            rows = self._read_store.history(flt)
            try:
                first = next(rows)
            except StopIteration:
                return
            except StoreUnavailable:
                self._mark_down()
            else:
                yield first
                yield from rows
                return
        yield from self.primary().history(flt)

    def close(self) -> None:
        self._read_store.close()
        if self._primary is not None:
            self._primary.close()

    def __enter__(self) -> SplitStore:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
