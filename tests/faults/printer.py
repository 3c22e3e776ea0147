"""A raw socket printer (AppSocket/JetDirect, as CUPS' `socket` backend speaks
to) on 127.0.0.1 that logs every connection and the bytes it got, and can be
told to reset the next connection mid-job.

A copy is *printed* when one connection delivered the whole job, byte for
byte, and ended normally (the sender closed its side): that is what a real
socket printer prints. A connection reset, or cut before the job's end, is not
a copy. Reading is paced (`chunk` bytes every `pause` seconds) so that a job
spends a while in transfer, where kills land.
"""

from __future__ import annotations

import contextlib
import socket
import struct
import threading
import time
from dataclasses import dataclass, field


@dataclass
class Connection:
    data: bytearray = field(default_factory=bytearray)
    ended: str = ""  # "eof" (the sender closed), "reset" (by us), "error"
    started: float = field(default_factory=time.monotonic)
    first_byte: threading.Event = field(default_factory=threading.Event)


class SocketPrinter:
    def __init__(
        self,
        chunk: int = 16384,
        pause: float = 0.01,
        close_delay: float = 0.2,
        host: str = "127.0.0.1",
    ) -> None:
        self.host = host
        self._server = socket.create_server((host, 0))
        self.port: int = self._server.getsockname()[1]
        self.chunk = chunk
        self.pause = pause
        self.close_delay = close_delay  # "still printing" after the job's end
        self.connections: list[Connection] = []
        self._lock = threading.Lock()
        self._reset_after: int | None = None
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._serve, daemon=True)
        self._thread.start()

    @property
    def uri(self) -> str:
        return f"socket://{self.host}:{self.port}"

    def reset_next(self, after_bytes: int) -> None:
        """Reset (RST) the next connection once it has sent `after_bytes`."""
        with self._lock:
            self._reset_after = after_bytes

    def copies(self, job: bytes) -> int:
        """Whole copies of `job` printed (see the module's docstring)."""
        with self._lock:
            return sum(1 for c in self.connections if c.ended == "eof" and bytes(c.data) == job)

    def partial(self, job: bytes) -> int:
        """Connections that got a beginning of `job` but not a whole copy."""
        with self._lock:
            return sum(
                1
                for c in self.connections
                if c.data
                and job.startswith(bytes(c.data[:64]))
                and not (c.ended == "eof" and bytes(c.data) == job)
            )

    def receiving(self) -> bool:
        """A connection is still open (its data may still be on its way)."""
        with self._lock:
            return any(not c.ended for c in self.connections)

    def story(self, job: bytes) -> list[tuple[int, str]]:
        """(bytes received, how it ended) of each connection carrying `job`."""
        with self._lock:
            return [
                (len(c.data), c.ended)
                for c in self.connections
                if c.data and job.startswith(bytes(c.data[:64]))
            ]

    def wait_connection(self, job: bytes, timeout: float = 60) -> Connection | None:
        """The first connection carrying `job`, once its first bytes are in."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            with self._lock:
                for c in self.connections:
                    if c.data and job.startswith(bytes(c.data[:64])):
                        return c
            time.sleep(0.005)
        return None

    def stop(self) -> None:
        self._stop.set()
        with contextlib.suppress(OSError):
            self._server.close()

    def _serve(self) -> None:
        self._server.settimeout(0.2)
        while not self._stop.is_set():
            try:
                conn, _addr = self._server.accept()
            except TimeoutError:
                continue
            except OSError:
                return
            record = Connection()
            with self._lock:
                self.connections.append(record)
                reset_after, self._reset_after = self._reset_after, None
            threading.Thread(
                target=self._receive, args=(conn, record, reset_after), daemon=True
            ).start()

    def _receive(self, conn: socket.socket, record: Connection, reset_after: int | None) -> None:
        conn.settimeout(120)
        try:
            while True:
                data = conn.recv(self.chunk)
                if not data:
                    record.ended = "eof"
                    time.sleep(self.close_delay)
                    break
                with self._lock:
                    record.data += data
                record.first_byte.set()
                if reset_after is not None and len(record.data) >= reset_after:
                    # SO_LINGER 0: close sends RST, as a printer that drops the job
                    conn.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
                    record.ended = "reset"
                    break
                time.sleep(self.pause)
        except OSError:
            record.ended = "error"
        finally:
            conn.close()
