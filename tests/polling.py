"""Waiting for a condition in tests: poll it until a deadline, never sleep a fixed time.

A fixed sleep is too short on a loaded machine (a test that fails by accident)
and too long on an idle one (a slow suite); polling ends as soon as the thing
waited for has happened, and says what did not happen when it never does.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import TypeVar

T = TypeVar("T")


def wait_until(
    condition: Callable[[], T], what: str, *, timeout: float = 30.0, interval: float = 0.05
) -> T:
    """`condition()`'s first truthy value; AssertionError naming `what` after `timeout` s."""
    deadline = time.monotonic() + timeout
    while True:
        value = condition()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"gave up after {timeout:g} s waiting until {what}")
        time.sleep(interval)
