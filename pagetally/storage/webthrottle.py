"""The web's rate limits kept in the store (table `webthrottle`), so that every
web process of a store (`pagetally web --workers N`, several servers) counts
the same failed logins and quotes.

A limited key has one row: the times (seconds since the epoch) of its recent
attempts. `throttle` reads that row locked (FOR UPDATE; SQLite: the write
transaction), hands the times to the caller's rule, and writes back what the
rule keeps, in one transaction: two processes at once never both take the last
attempt. Rows not changed for longer than the rule's window are deleted then.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import TypeVar

from sqlalchemy import Connection, delete, insert, select, update

from pagetally.storage.schema import webthrottle
from pagetally.storage.sql_base import SqlBase

T = TypeVar("T")

#: A limit's rule: the recent times in, (the times to keep, the answer) out.
Rule = Callable[[list[float]], tuple[list[float], T]]


def _times(text: str) -> list[float]:
    return [float(t) for t in text.split()]


class ThrottleMethods(SqlBase):
    """The store's part that keeps the web's rate limits."""

    def throttle(self, kind: str, key: str, rule: Rule[T], now: datetime, window: int) -> T:
        """Apply `rule` to `key`'s recent attempt times (of limit `kind`) and keep
        what it returns, atomically; forget `kind`'s keys idle over `window` s."""
        digest = hashlib.sha256(f"{kind}\x1f{key}".encode("utf-8", "surrogatepass")).hexdigest()
        t = webthrottle.c

        def work(conn: Connection) -> T:
            conn.execute(
                delete(webthrottle).where(
                    t.kind == kind, t.updated < now - timedelta(seconds=window)
                )
            )
            row = conn.execute(select(t.times).where(t.key == digest).with_for_update()).first()
            kept, answer = rule(_times(row[0]) if row is not None else [])
            text = " ".join(f"{x:.3f}" for x in kept)
            if row is None and kept:
                conn.execute(
                    insert(webthrottle).values(key=digest, kind=kind, times=text, updated=now)
                )
            elif row is not None and kept:
                conn.execute(
                    update(webthrottle).where(t.key == digest).values(times=text, updated=now)
                )
            elif row is not None:
                conn.execute(delete(webthrottle).where(t.key == digest))
            return answer

        return self._write(self._upsert(work))
