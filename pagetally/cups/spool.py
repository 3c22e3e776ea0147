"""Step 1: the job's data in a private file, with its size and SHA-256.

On standard input (filtered queues) the data must be read whole before it can be
counted, so it goes to a private temporary file (mode 0600) in CUPS' TMPDIR. With
a file in argv (raw queues) the file is read in place: no copy.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import tempfile
from dataclasses import dataclass
from typing import BinaryIO

CHUNK = 1 << 20


@dataclass(frozen=True, slots=True)
class Spooled:
    path: str
    size: int
    sha256: str
    temporary: bool  # ours to delete

    def remove(self) -> None:
        if self.temporary:
            with contextlib.suppress(FileNotFoundError):
                os.unlink(self.path)


def spool_stream(stream: BinaryIO, tmpdir: str = "") -> Spooled:
    """Copy `stream` to a private temp file, hashing as it goes."""
    digest = hashlib.sha256()
    size = 0
    fd, path = tempfile.mkstemp(prefix="pagetally-", suffix=".job", dir=tmpdir or None)
    try:
        with os.fdopen(fd, "wb") as out:
            while chunk := stream.read(CHUNK):
                digest.update(chunk)
                out.write(chunk)
                size += len(chunk)
    except BaseException:
        os.unlink(path)
        raise
    return Spooled(path, size, digest.hexdigest(), temporary=True)


def spool_file(path: str) -> Spooled:
    """Hash a file cupsd already spooled (raw queues) without copying it."""
    digest = hashlib.sha256()
    size = 0
    with open(path, "rb") as f:
        while chunk := f.read(CHUNK):
            digest.update(chunk)
            size += len(chunk)
    return Spooled(path, size, digest.hexdigest(), temporary=False)
