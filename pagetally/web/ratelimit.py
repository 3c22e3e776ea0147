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
    def __init__(self, attempts: int, window_seconds: int,
                 clock: Callable[[], float] = time.monotonic) -> None:
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
