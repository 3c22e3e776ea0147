"""Helpers shared by format modules: a file object over a Buffer, job spooling."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from typing import TYPE_CHECKING

from pagetally.pdl.base import Buffer

if TYPE_CHECKING:
    from pathlib import Path

CHUNK = 1 << 20


class BufferStream:
    """A read-only, seekable binary file over a Buffer (bytes or mmap), without a copy.

    For libraries that want a file (pikepdf, zipfile, olefile, Pillow).
    """

    def __init__(self, buf: Buffer, start: int = 0) -> None:
        self._buf = buf
        self._start = start
        self._pos = 0
        self._len = len(buf) - start

    def read(self, n: int | None = -1) -> bytes:
        end = self._len if n is None or n < 0 else min(self._len, self._pos + n)
        if end <= self._pos:
            return b""
        out = bytes(self._buf[self._start + self._pos : self._start + end])
        self._pos = end
        return out

    def readline(self, limit: int | None = -1) -> bytes:
        end = self._len if limit is None or limit < 0 else min(self._len, self._pos + limit)
        nl = self._buf.find(b"\n", self._start + self._pos, self._start + end)
        stop = end if nl < 0 else nl + 1 - self._start
        return self.read(stop - self._pos)

    def readinto(self, b: bytearray | memoryview) -> int:
        data = self.read(len(b))
        b[: len(data)] = data
        return len(data)

    def seek(self, offset: int, whence: int = 0) -> int:
        base = (0, self._pos, self._len)[whence]
        self._pos = max(0, base + offset)
        return self._pos

    def tell(self) -> int:
        return self._pos

    def seekable(self) -> bool:
        return True

    def readable(self) -> bool:
        return True

    def writable(self) -> bool:
        return False

    def flush(self) -> None:
        pass

    def close(self) -> None:
        pass

    @property
    def closed(self) -> bool:
        return False

    def __enter__(self) -> BufferStream:
        return self

    def __exit__(self, *exc: object) -> None:
        pass


@contextlib.contextmanager
def spooled(
    buf: Buffer, suffix: str = "", start: int = 0, end: int | None = None
) -> Iterator[Path]:
    """buf[start:end] written to a private temporary file (for external programs)."""
    import tempfile  # lazy: most jobs never need a temporary file
    from pathlib import Path

    stop = len(buf) if end is None else min(end, len(buf))
    with tempfile.TemporaryDirectory(prefix="pagetally-pdl-") as tmp:
        path = Path(tmp) / f"job{suffix}"
        with path.open("wb") as fh:
            for i in range(start, stop, CHUNK):
                fh.write(buf[i : min(stop, i + CHUNK)])
        yield path
