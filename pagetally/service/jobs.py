"""The job runner: the whole backend imported once, one forked child per job.

Started by `pagetally serve` as its own process (`python -m pagetally.service.jobs
SOCKET`), single-threaded so that forking is safe. It imports everything a job
needs (the backend, configuration, rules, every page-counting parser, the
service client) and listens on a Unix socket (mode 0600). The thin backend
(`thin.py`) connects, sends one JSON line — its argv, environment, umask and the
config path — with its standard input, output and error attached (SCM_RIGHTS).
The runner forks; the child takes those streams and that environment and runs
`pagetally.cups.backend.run` exactly as the backend process would, then answers
`{"exit": code}` and ends. CUPS' back and side channels (fds 3 and 4) travel too
when the thin backend has them. Before forking the runner answers `{"pid": n}`, so the
thin backend can pass on CUPS' SIGTERM; a refusal (`{"error": ...}`) comes before
anything was read from the job, and the thin backend then runs the job itself.
The configuration is read per job; code and parser plug-ins at start-up.
"""

from __future__ import annotations

import contextlib
import fcntl
import importlib
import json
import logging
import os
import signal
import socket
import sys
import tempfile
from typing import Any

from pagetally.service.server import prepare_socket_path

log = logging.getLogger("pagetally.service.jobs")

MAX_REQUEST = 1 << 20  # bytes: argv and environment of one job
MAX_CHILDREN = 64  # jobs at once; beyond, the thin backend runs the job itself
PRELOAD = (
    "pagetally.cups.backend",
    "pagetally.config",
    "pagetally.pdl",
    "pagetally.core.decision",
    "pagetally.core.pricing",
    "pagetally.core.codec",
    "pagetally.storage.journal",
    "pagetally.service.client",
)


def preload() -> None:
    """Import what every job needs, and the parsers, so that children start warm."""
    for name in PRELOAD:
        importlib.import_module(name)
    from pagetally.pdl import registry

    registry.parsers()
    with contextlib.suppress(ImportError):
        importlib.import_module("pikepdf")  # damaged PDFs: pikepdf decides


def _recv_request(conn: socket.socket) -> tuple[dict[str, Any], list[int]]:
    """One JSON line and the descriptors sent with it: standard input, output and
    error, and when cupsd opened them the back and side channels (fds 3 and 4)."""
    fds: list[int] = []
    data = b""
    while not data.endswith(b"\n"):
        if len(data) > MAX_REQUEST:
            raise ValueError("request too long")
        chunk, got, _flags, _addr = socket.recv_fds(conn, 65536, 5)
        fds.extend(got)
        if not chunk:
            raise ValueError("connection closed before the request ended")
        data += chunk
    request = json.loads(data)
    if len(fds) not in (3, 5):
        raise ValueError(f"expected 3 or 5 descriptors, got {len(fds)}")
    if not isinstance(request, dict):
        raise ValueError("a request is an object")
    argv, environ = request.get("argv"), request.get("environ")
    if not (isinstance(argv, list) and all(isinstance(a, str) for a in argv) and argv):
        raise ValueError("argv must be a list of strings")
    if not (isinstance(environ, dict) and all(isinstance(k, str) and isinstance(v, str)
                                              for k, v in environ.items())):
        raise ValueError("environ must map strings to strings")
    return request, fds


def _send(conn: socket.socket, message: dict[str, object]) -> None:
    with contextlib.suppress(OSError):
        conn.sendall((json.dumps(message) + "\n").encode())


def _high(fd: int) -> int:
    """`fd` moved to 10 or above (closing the original), clear of fds 0-4."""
    high = fcntl.fcntl(fd, fcntl.F_DUPFD, 10)
    os.close(fd)
    return high


def _child(conn: socket.socket, request: dict[str, Any], fds: list[int]) -> int:
    """In the forked child: become the backend process of this job."""
    conn = socket.socket(fileno=_high(conn.detach()))  # out of the way of fds 0-4
    for target, fd in enumerate([_high(fd) for fd in fds]):
        os.dup2(fd, target)
        os.close(fd)
    for sig in (signal.SIGTERM, signal.SIGINT, signal.SIGCHLD):
        signal.signal(sig, signal.SIG_DFL)
    logging.getLogger().handlers.clear()  # the runner's log must not reach cupsd
    os.environ.clear()
    os.environ.update(request["environ"])
    tempfile.tempdir = None  # TMPDIR is this job's
    umask = request.get("umask")
    if isinstance(umask, int):
        os.umask(umask & 0o777)
    sys.argv = list(request["argv"])
    # the job's streams, whatever the runner's own were (maybe none at all)
    stdin = open(0, "rb", closefd=False)  # noqa: SIM115
    sys.stdin = open(0, encoding="utf-8", closefd=False)  # noqa: SIM115
    sys.stdout = open(1, "w", encoding="utf-8", closefd=False)  # noqa: SIM115
    sys.stderr = open(2, "w", encoding="utf-8", errors="backslashreplace",  # noqa: SIM115
                      buffering=1, closefd=False)
    _send(conn, {"pid": os.getpid()})
    from pagetally.cups.backend import BackendEnv, run

    config = request.get("config")
    env = BackendEnv(sys.argv, dict(request["environ"]), stdin, sys.stderr,
                     config_path=config if isinstance(config, str) else None,
                     cups_channels=len(fds) == 5)
    code = run(env)
    sys.stdout.flush()
    sys.stderr.flush()
    _send(conn, {"exit": int(code)})
    return int(code)


class JobRunner:
    """The accept-fork loop. `serve()` returns after SIGTERM or SIGINT."""

    def __init__(self, path: str, max_children: int = MAX_CHILDREN) -> None:
        self.path = path
        self.max_children = max_children
        self.children: set[int] = set()
        self.stopping = False

    def _reap(self) -> None:
        while self.children:
            try:
                pid, _status = os.waitpid(-1, os.WNOHANG)
            except ChildProcessError:
                self.children.clear()
                return
            if pid == 0:
                return
            self.children.discard(pid)

    def _stop(self, _signum: int, _frame: object) -> None:
        self.stopping = True

    def serve(self) -> None:
        signal.signal(signal.SIGTERM, self._stop)
        signal.signal(signal.SIGINT, self._stop)
        prepare_socket_path(self.path)
        listener = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        old = os.umask(0o177)
        try:
            listener.bind(self.path)
        finally:
            os.umask(old)
        os.chmod(self.path, 0o600)
        listener.listen(128)
        listener.settimeout(0.5)
        log.info("job runner listening on %s", self.path)
        try:
            while not self.stopping:
                self._reap()
                try:
                    conn, _addr = listener.accept()
                except (TimeoutError, InterruptedError):
                    continue
                with conn:
                    self._one(listener, conn)
        finally:
            listener.close()
            with contextlib.suppress(FileNotFoundError):
                os.unlink(self.path)
            log.info("job runner stopped")

    def _one(self, listener: socket.socket, conn: socket.socket) -> None:
        fds: list[int] = []
        try:
            conn.settimeout(10)
            request, fds = _recv_request(conn)
            conn.settimeout(None)
            if len(self.children) >= self.max_children:
                _send(conn, {"error": "busy"})
                return
            sys.stdout.flush()
            sys.stderr.flush()
            pid = os.fork()
            if pid == 0:  # the child: never returns into the loop
                code = 1
                try:
                    listener.close()
                    code = _child(conn, request, fds)
                finally:
                    os._exit(code)
            self.children.add(pid)
        except (OSError, ValueError) as e:
            log.warning("job runner: refused a request: %s", e)
            _send(conn, {"error": str(e)[:200]})
        finally:
            for fd in fds:
                with contextlib.suppress(OSError):
                    os.close(fd)


def main(argv: list[str] | None = None) -> None:
    args = sys.argv[1:] if argv is None else argv
    if len(args) != 1:
        sys.exit("usage: python -m pagetally.service.jobs SOCKET")
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(message)s")
    preload()
    JobRunner(args[0]).serve()


if __name__ == "__main__":
    main()
