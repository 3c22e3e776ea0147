"""Rate-limited login: a pause after too many failures for one user from one address.

Counting by (address, user) stops guessing one user's password from one place
without letting a stranger lock a user out from everywhere; a success clears the
count. Kept in memory: a restart forgets, which only ever helps the user.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable


class LoginLimiter:
    def __init__(
        self, attempts: int, window_seconds: int, clock: Callable[[], float] = time.monotonic
    ) -> None:
        self.attempts = attempts
        self.window = window_seconds
        self._clock = clock
        self._fails: dict[tuple[str, str], list[float]] = {}
        self._lock = threading.Lock()

    def _recent(self, key: tuple[str, str]) -> list[float]:
        now = self._clock()
        kept = [t for t in self._fails.get(key, []) if now - t < self.window]
        if kept:
            self._fails[key] = kept
        else:
            self._fails.pop(key, None)
        return kept

    def wait_seconds(self, address: str, user: str) -> int:
        """0 when a login may be tried now, else how long until it may."""
        key = (address, user.lower())
        with self._lock:
            recent = self._recent(key)
            if len(recent) < self.attempts:
                return 0
            return max(1, int(self.window - (self._clock() - recent[0])) + 1)

    def failed(self, address: str, user: str) -> None:
        with self._lock:
            key = (address, user.lower())
            self._fails[key] = [*self._recent(key), self._clock()]

    def succeeded(self, address: str, user: str) -> None:
        with self._lock:
            self._fails.pop((address, user.lower()), None)


class UploadLimiter:
    """At most `count` uploads (quotes) per caller in a sliding window of `window`
    seconds: counting a file costs the server CPU time, so one caller cannot take
    it all. Keyed by the caller ("user:NAME", or "address:IP" for a route that
    allows anonymous callers). In memory, like the login limiter."""

    def __init__(
        self, count: int, window_seconds: int, clock: Callable[[], float] = time.monotonic
    ) -> None:
        self.count = count
        self.window = window_seconds
        self._clock = clock
        self._seen: dict[str, list[float]] = {}
        self._lock = threading.Lock()

    def take(self, key: str) -> int:
        """0 and the upload counted when one more is allowed now, else the seconds
        until it will be (nothing counted)."""
        with self._lock:
            now = self._clock()
            kept = [t for t in self._seen.get(key, []) if now - t < self.window]
            if len(kept) >= self.count:
                self._seen[key] = kept
                return max(1, int(self.window - (now - kept[0])) + 1)
            self._seen[key] = [*kept, now]
            if len(self._seen) > 10_000:  # forget callers whose window is over
                self._seen = {k: v for k, v in self._seen.items() if now - v[-1] < self.window}
            return 0
