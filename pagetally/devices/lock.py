"""One lock per physical printer, so that queues sharing it do not mix their counts.

Hardware accounting reads the printer's life counter before and after a job;
a second queue printing to the same printer in between would be charged to
the first. Every backend process holds `printer_lock(host)` from the reading
before the job to the reading after it. The lock is an flock(2) on a file in
`lock_dir` (released by the kernel if the process dies).
"""

from __future__ import annotations

import fcntl
import hashlib
import os
import re
import time
from collections.abc import Iterator
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
    key: str, lock_dir: Path, *, timeout: float | None = None, poll: float = 0.1
) -> Iterator[None]:
    """Hold the printer's lock; wait at most `timeout` seconds (None: for ever)."""
    lock_dir.mkdir(parents=True, exist_ok=True, mode=0o700)
    fd = os.open(lock_path(lock_dir, key), os.O_RDWR | os.O_CREAT, 0o600)
    try:
        if timeout is None:
            fcntl.flock(fd, fcntl.LOCK_EX)
        else:
            deadline = time.monotonic() + timeout
            while True:
                try:
                    fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                    break
                except BlockingIOError:
                    if time.monotonic() >= deadline:
                        raise DeviceError(
                            f"printer {key} is busy with another queue's job "
                            f"for more than {timeout:.0f} s"
                        ) from None
                    time.sleep(poll)
        yield
    finally:
        os.close(fd)  # closing releases the lock
