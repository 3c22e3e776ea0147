"""Rate limits: a pause after too many failed logins for one user from one
address, and at most so many quotes per caller in a window.

Counting logins by (address, user) stops guessing one user's password from one
place without letting a stranger lock a user out from everywhere; a success
clears the count. The recent attempts are kept in the store (`StoreTimes`,
table `webthrottle`) so that every web process of it counts the same ones
(`pagetally web --workers N`, several servers); in memory (`MemoryTimes`) for a
store that cannot keep them (open read-only), where each process counts its own.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Protocol, TypeVar

T = TypeVar("T")
#: A limit's rule over a key's recent attempt times: (times to keep, answer).
Rule = Callable[[list[float]], tuple[list[float], T]]


class Times(Protocol):
    """Where a limit keeps each key's recent attempt times."""

    def apply(self, key: str, rule: Rule[T]) -> T:
        """Run `rule` on `key`'s times and keep what it returns, atomically."""


class MemoryTimes:
    """This process's memory (a restart forgets, which only ever helps the user)."""

    def __init__(self, window: int = 3600, clock: Callable[[], float] = time.time) -> None:
        self._window = window
        self._clock = clock
        self._times: dict[str, list[float]] = {}
        self._lock = threading.Lock()

    def apply(self, key: str, rule: Rule[T]) -> T:
        with self._lock:
            kept, answer = rule(self._times.get(key, []))
            if kept:
                self._times[key] = kept
            else:
                self._times.pop(key, None)
            if len(self._times) > 10_000:  # forget keys with nothing recent
                now = self._clock()
                self._times = {k: v for k, v in self._times.items() if now - v[-1] < self._window}
            return answer


class ThrottleStore(Protocol):
    def throttle(self, kind: str, key: str, rule: Rule[T], now: datetime, window: int) -> T: ...


class StoreTimes:
    """The store's table `webthrottle`, shared by every web process of the store."""

    def __init__(self, store: ThrottleStore, kind: str, window: int) -> None:
        self._store = store
        self._kind = kind
        self._window = window

    def apply(self, key: str, rule: Rule[T]) -> T:
        return self._store.throttle(self._kind, key, rule, datetime.now(UTC), self._window)


class LoginLimiter:
    def __init__(
        self,
        attempts: int,
        window_seconds: int,
        clock: Callable[[], float] = time.time,
        times: Times | None = None,
    ) -> None:
        self.attempts = attempts
        self.window = window_seconds
        self._clock = clock
        self._times = times if times is not None else MemoryTimes(window_seconds, clock)

    def _recent(self, times: list[float]) -> list[float]:
        now = self._clock()
        return [t for t in times if now - t < self.window]

    def wait_seconds(self, address: str, user: str) -> int:
        """0 when a login may be tried now, else how long until it may."""

        def rule(times: list[float]) -> tuple[list[float], int]:
            recent = self._recent(times)
            if len(recent) < self.attempts:
                return recent, 0
            return recent, max(1, int(self.window - (self._clock() - recent[0])) + 1)

        return self._times.apply(f"{address}|{user.lower()}", rule)

    def failed(self, address: str, user: str) -> None:
        def rule(times: list[float]) -> tuple[list[float], None]:
            return [*self._recent(times), self._clock()], None

        self._times.apply(f"{address}|{user.lower()}", rule)

    def succeeded(self, address: str, user: str) -> None:
        self._times.apply(f"{address}|{user.lower()}", lambda _times: ([], None))


class UploadLimiter:
    """At most `count` uploads (quotes) per caller in a sliding window of `window`
    seconds: counting a file costs the server CPU time, so one caller cannot take
    it all. Keyed by the caller ("user:NAME", or "address:IP" for a route that
    allows anonymous callers)."""

    def __init__(
        self,
        count: int,
        window_seconds: int,
        clock: Callable[[], float] = time.time,
        times: Times | None = None,
    ) -> None:
        self.count = count
        self.window = window_seconds
        self._clock = clock
        self._times = times if times is not None else MemoryTimes(window_seconds, clock)

    def take(self, key: str) -> int:
        """0 and the upload counted when one more is allowed now, else the seconds
        until it will be (nothing counted)."""

        def rule(times: list[float]) -> tuple[list[float], int]:
            now = self._clock()
            kept = [t for t in times if now - t < self.window]
            if len(kept) >= self.count:
                return kept, max(1, int(self.window - (now - kept[0])) + 1)
            return [*kept, now], 0

        return self._times.apply(key, rule)


def limiters(
    store: object, logins: int, login_window: int, quotes: int, quote_window: int
) -> tuple[LoginLimiter, UploadLimiter]:
    """The login and quote limiters of a web process over `store`: kept in the
    store when it keeps them and may be written, else in this process's memory."""
    if hasattr(store, "throttle") and not getattr(store, "readonly", True):
        return (
            LoginLimiter(logins, login_window, times=StoreTimes(store, "login", login_window)),
            UploadLimiter(quotes, quote_window, times=StoreTimes(store, "quote", quote_window)),
        )
    return LoginLimiter(logins, login_window), UploadLimiter(quotes, quote_window)
