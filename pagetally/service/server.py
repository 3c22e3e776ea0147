"""`pagetally serve`: the store, warm, behind a Unix socket.

One thread per connected backend (bounded by `max_clients`; more wait to be
accepted), each answering JSON-line requests (`protocol.py`) with the one shared
store (SQLAlchemy's pool makes it safe to share). Requests are bounded in size,
idle connections time out, and SIGTERM/SIGINT stop the service cleanly: no new
connections, running calls finish, the socket file is removed.

The socket is created mode 0600 in a directory that must not be writable by
others: only root (which runs CUPS backends) may talk to the service, and the
database credentials stay in this process.
"""

from __future__ import annotations

import contextlib
import logging
import os
import signal
import socket
import socketserver
import stat
import threading
import time
from collections.abc import Callable
from pathlib import Path
from types import FrameType
from typing import Any

from pagetally import errors
from pagetally.service import protocol
from pagetally.storage.base import Store

log = logging.getLogger("pagetally.service")

IDLE_TIMEOUT = 60.0  # seconds a connection may stay silent between requests
MAX_CLIENTS = 64  # connections served at once; further ones wait in the backlog


class _Handler(socketserver.StreamRequestHandler):
    """One backend's connection: request lines in, answer lines out."""

    server: _UnixServer

    def setup(self) -> None:
        self.request.settimeout(self.server.idle_timeout)
        with self.server.conns_lock:
            self.server.conns.add(self.request)
        super().setup()

    def finish(self) -> None:
        with self.server.conns_lock:
            self.server.conns.discard(self.request)
        with contextlib.suppress(OSError):
            super().finish()

    def handle(self) -> None:
        while not self.server.stopping.is_set():
            try:
                line = self.rfile.readline(protocol.MAX_LINE + 1)
            except (TimeoutError, OSError):
                return  # idle too long, or the backend went away
            if not line:
                return
            if not line.endswith(b"\n"):
                self._send(
                    protocol.encode_error(
                        errors.InvalidInput(f"request longer than {protocol.MAX_LINE} bytes")
                    )
                )
                return
            if not self._send(self.server.answer(line)):
                return

    def _send(self, data: bytes) -> bool:
        try:
            self.wfile.write(data)
            self.wfile.flush()
        except OSError:
            return False
        return True


class _UnixServer(socketserver.ThreadingMixIn, socketserver.UnixStreamServer):
    daemon_threads = True
    block_on_close = True
    request_queue_size = 128

    def __init__(
        self, path: str, answer: Callable[[bytes], bytes], *, max_clients: int, idle_timeout: float
    ) -> None:
        self.answer = answer
        self.idle_timeout = idle_timeout
        self.stopping = threading.Event()
        self.slots = threading.BoundedSemaphore(max_clients)
        self.conns: set[socket.socket] = set()
        self.conns_lock = threading.Lock()
        old = os.umask(0o177)  # the socket is born 0600: no window where others may connect
        try:
            super().__init__(path, _Handler)
        finally:
            os.umask(old)
        os.chmod(path, 0o600)

    def process_request(self, request: Any, client_address: Any) -> None:
        # bounded: the accept loop waits while every slot is busy (until stopping)
        while not self.slots.acquire(timeout=0.2):
            if self.stopping.is_set():
                self.shutdown_request(request)
                return
        try:
            super().process_request(request, client_address)
        except BaseException:
            self.slots.release()
            raise

    def process_request_thread(self, request: Any, client_address: Any) -> None:
        try:
            super().process_request_thread(request, client_address)
        finally:
            self.slots.release()

    def handle_error(self, request: Any, client_address: Any) -> None:
        log.exception("accounting service: a connection failed")

    def close_idle(self) -> None:
        """End every connection's reading side: a waiting handler sees the end, a
        busy one still sends its answer, then sees the end."""
        with self.conns_lock:
            for conn in self.conns:
                with contextlib.suppress(OSError):
                    conn.shutdown(socket.SHUT_RD)


class AccountingService:
    """The store served on `path`. `start()` listens in a thread; `stop()` ends it."""

    def __init__(
        self,
        store: Store,
        path: str,
        *,
        describe: str = "",
        max_clients: int = MAX_CLIENTS,
        idle_timeout: float = IDLE_TIMEOUT,
    ) -> None:
        self.store = store
        self.path = path
        self.describe = describe
        self.max_clients = max_clients
        self.idle_timeout = idle_timeout
        self._server: _UnixServer | None = None
        self._thread: threading.Thread | None = None
        self.calls = 0

    # --- requests ----------------------------------------------------------------
    def answer(self, line: bytes) -> bytes:
        """One request line to one answer line; never raises."""
        started = time.monotonic()
        name = "?"
        try:
            name, _op, args = protocol.decode_request(line)
            value = self._dispatch(name, args)
            out = protocol.encode_result(value)
        except errors.PageTallyError as e:
            level = logging.WARNING if isinstance(e, errors.StoreUnavailable) else logging.DEBUG
            log.log(level, "%s: %s: %s", name, type(e).__name__, e)
            out = protocol.encode_error(e)
        except Exception as e:  # a bug: logged in full, one typed line to the client
            log.exception("%s failed", name)
            out = protocol.encode_error(
                errors.StorageError(
                    f"internal error in the accounting service ({type(e).__name__})"
                )
            )
        self.calls += 1
        log.debug("%s in %.1f ms", name, 1000 * (time.monotonic() - started))
        return out

    def _dispatch(self, name: str, args: dict[str, Any]) -> object:
        if name == "ping":
            return {"version": str(protocol.PROTOCOL_VERSION), "store": self.describe}
        if name == "history":  # an iterator in the store, a list on the wire
            return list(self.store.history(**args))
        method = getattr(self.store, name)
        return method(**args)

    # --- lifecycle ----------------------------------------------------------------
    def start(self) -> None:
        prepare_socket_path(self.path)
        self._server = _UnixServer(
            self.path, self.answer, max_clients=self.max_clients, idle_timeout=self.idle_timeout
        )
        self._thread = threading.Thread(
            target=self._server.serve_forever,
            kwargs={"poll_interval": 0.2},
            name="pagetally-serve",
            daemon=True,
        )
        self._thread.start()
        log.info("accounting service listening on %s (%s)", self.path, self.describe)

    def stop(self) -> None:
        """Stop accepting, let running calls finish, remove the socket file."""
        server, self._server = self._server, None
        if server is None:
            return
        server.stopping.set()
        server.shutdown()  # no new connections
        server.close_idle()
        server.server_close()  # joins the handlers
        with contextlib.suppress(FileNotFoundError):
            os.unlink(self.path)
        log.info("accounting service stopped after %d call(s)", self.calls)

    def __enter__(self) -> AccountingService:
        self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def run_until_signalled(self) -> None:
        """Serve until SIGTERM or SIGINT (the main thread waits here)."""
        done = threading.Event()

        def on_signal(signum: int, _frame: FrameType | None) -> None:
            log.info("accounting service: %s received, stopping", signal.Signals(signum).name)
            done.set()

        old = {s: signal.signal(s, on_signal) for s in (signal.SIGTERM, signal.SIGINT)}
        try:
            self.start()
            while not done.wait(1.0):
                pass
        finally:
            self.stop()
            for sig, handler in old.items():
                signal.signal(sig, handler)


def prepare_socket_path(path: str) -> None:
    """Make the socket's directory (root-owned, not writable by others) and clear a
    stale socket; ConfigError when another service already listens or the place is
    unsafe."""
    sock_path = Path(path)
    parent = sock_path.parent
    parent.mkdir(mode=0o755, parents=True, exist_ok=True)
    st = parent.stat()
    if st.st_uid not in (0, os.geteuid()) or st.st_mode & (stat.S_IWGRP | stat.S_IWOTH):
        raise errors.ConfigError(
            f"{parent} is writable by others or not ours: the accounting service's "
            "socket needs a directory only root can write",
            directive="accountingservice",
        )
    if sock_path.exists() or sock_path.is_symlink():
        if not stat.S_ISSOCK(sock_path.lstat().st_mode):
            raise errors.ConfigError(
                f"{path} exists and is not a socket", directive="accountingservice"
            )
        probe = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        try:
            probe.settimeout(2.0)
            probe.connect(path)
        except OSError:
            sock_path.unlink()  # stale: left by a service that died
        else:
            raise errors.ConfigError(
                f"an accounting service already listens on {path}", directive="accountingservice"
            )
        finally:
            probe.close()
