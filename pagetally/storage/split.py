"""Reads from a read store (a streaming replica, or a store of another kind),
writes to the primary: PyKota's read-only/read-write split.

The reads of the store's role interfaces (JobReads, ReportStore: listings,
quotas, history, reports) go to the read store; everything else (every write,
and the snapshot a decision is taken on) to the primary. A job's decision and
charge, and the "was this job charged?" check (history by `charge_of`), happen
on the primary, in its transactions: a replica that lags or stops can never let
a job through that the primary would refuse, nor lose or double a charge.
The backend and the accounting service open the primary alone (open_store);
read-only commands open a SplitStore (storage.open_reads).

A read store that is down (StoreUnavailable) is skipped for `retry_s` seconds:
the same read goes to the primary at once, and later reads too, without waiting
for a connection timeout each time.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from typing import Any

from pagetally.errors import StoreUnavailable
from pagetally.storage.base import HistoryFilter, JobReads, ReportStore, Store

RETRY_S = 30.0
_ALL_JOBS = HistoryFilter()
#: what the read store answers: the role interfaces' reads, but the decision's
_READS = frozenset(
    name
    for role in (JobReads, ReportStore)
    for name in vars(role)
    if not name.startswith("_") and callable(getattr(role, name))
) - {"snapshot"}


class SplitStore:
    """A Store: each read from `read`, or from `primary` (opened on first need
    by `open_primary`) while `read` is unreachable; everything else from `primary`."""

    def __init__(
        self, read: Store, open_primary: Callable[[], Store], *, retry_s: float = RETRY_S
    ) -> None:
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
        if name not in _READS:
            return getattr(self.primary(), name)
        method = getattr(self._read_store, name)

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
        if self._read_ok() and flt.charge_of is None:
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
