"""One lock per physical printer, so that queues sharing it do not mix their counts.

Hardware accounting reads the printer's life counter before and after a job;
a second queue printing to the same printer in between would be charged to
the first. Every backend process holds `printer_lock(host)` from the reading
before the job to the reading after it. The lock is an flock(2) on a file in
`lock_dir` (released by the kernel if the process dies). When the printer is
busy with another queue's job, `on_wait` is told once (the backend shows it as
the job's state in CUPS), then the lock is waited for.
"""

from __future__ import annotations

import fcntl
import hashlib
import os
import re
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

from pagetally.errors import DeviceError


def lock_path(lock_dir: Path, key: str) -> Path:
    """The lock file for a printer key (a host name): readable, collision-free."""
    safe = re.sub(r"[^A-Za-z0-9._-]", "_", key.lower())[:64]
    digest = hashlib.sha256(key.lower().encode()).hexdigest()[:12]
    return lock_dir / f"{safe}-{digest}.lock"


@contextmanager
def printer_lock(
    key: str,
    lock_dir: Path,
    *,
    timeout: float | None = None,
    poll: float = 0.1,
    on_wait: Callable[[str], None] | None = None,
) -> Iterator[None]:
    """Hold the printer's lock; wait at most `timeout` seconds (None: for ever)."""
    lock_dir.mkdir(parents=True, exist_ok=True, mode=0o700)
    fd = os.open(lock_path(lock_dir, key), os.O_RDWR | os.O_CREAT, 0o600)
    try:
        if not _try_lock(fd):
            if on_wait is not None:
                on_wait(f"printer {key} is busy with another queue's job; waiting for it")
            _wait_lock(fd, key, timeout, poll)
        yield
    finally:
        os.close(fd)  # closing releases the lock


def _try_lock(fd: int) -> bool:
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        return False
    return True


def _wait_lock(fd: int, key: str, timeout: float | None, poll: float) -> None:
    if timeout is None:
        fcntl.flock(fd, fcntl.LOCK_EX)
        return
    deadline = time.monotonic() + timeout
    while not _try_lock(fd):
        if time.monotonic() >= deadline:
            raise DeviceError(
                f"printer {key} is busy with another queue's job for more than {timeout:.0f} s"
            )
        time.sleep(poll)
