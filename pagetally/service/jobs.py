"""The job runner: the whole backend imported once, one forked child per job.

Started by `pagetally serve` as its own process (`python -m pagetally.service.jobs
SOCKET`), single-threaded so that forking is safe. It imports everything a job
needs (the backend, configuration, rules, every page-counting parser, the
service client) and listens on a Unix socket (mode 0600). The thin backend
(`thin.py`) connects and hands over its argv, environment, umask and config path
(the format is in thin.py) with its standard input, output and error attached
(SCM_RIGHTS). The runner forks; the child takes those streams and that
environment and runs `pagetally.cups.backend.run` exactly as the backend process
would, then answers `exit N` and ends. CUPS' back and side channels (fds 3 and 4)
travel too when the thin backend has them. Before reading the job the child
answers `pid N`, so the thin backend can pass on CUPS' SIGTERM; a refusal
(`error TEXT`) comes before anything was read from the job, and the thin backend
then runs the job itself. The configuration is read per job; code and parser
plug-ins at start-up. The objects loaded at start-up are frozen out of the
garbage collector (`gc.freeze`), so that a child's collections neither scan nor
copy the runner's memory.
"""

from __future__ import annotations

import contextlib
import dataclasses
import fcntl
import gc
import importlib
import logging
import os
import signal
import socket
import sys
import tempfile
import typing

from pagetally.service import thin
from pagetally.service.server import prepare_socket_path

log = logging.getLogger("pagetally.service.jobs")

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


@dataclasses.dataclass(frozen=True)
class JobRequest:
    """What the thin backend handed over, besides its descriptors."""

    argv: list[str]
    environ: dict[str, str]
    config: str | None
    umask: int


def preload() -> None:
    """Import what every job needs, and the parsers, and fill the caches every job
    would otherwise fill again in its own child; then freeze it all."""
    for name in PRELOAD:
        importlib.import_module(name)
    from pagetally.pdl import registry

    registry.parsers()
    with contextlib.suppress(ImportError):
        importlib.import_module("pikepdf")  # damaged PDFs: pikepdf decides
    warm_up()
    gc.collect()
    gc.freeze()  # what is loaded stays out of the children's collections


def warm_up() -> None:
    """Fill the per-process caches a job fills on first use, so that each child
    finds them full: the store client's decoding (type hints of every model the
    protocol carries) and the regular expressions of the page counters."""
    from pagetally import pdl
    from pagetally.service import protocol

    for op in protocol.OPS.values():
        for tp in (op.result, *(t for _name, t in op.args)):
            _warm_types(tp, set())
    with contextlib.suppress(Exception):  # a warm-up must never stop the runner
        pdl.analyse(sample_pdf())


def _warm_types(tp: object, seen: set[object]) -> None:
    """Compute (and cache in `codec`) the type hints of every dataclass in `tp`."""
    from pagetally.core import codec

    if tp in seen:
        return
    seen.add(tp)
    for arg in typing.get_args(tp):
        _warm_types(arg, seen)
    if dataclasses.is_dataclass(tp) and isinstance(tp, type):
        for hint in codec._hints(tp).values():  # codec caches them: the point
            _warm_types(hint, seen)


def sample_pdf() -> bytes:
    """A well-formed one-page PDF, with a cross-reference table at its real offsets."""
    objects = [b"<< /Type /Catalog /Pages 2 0 R >>",
               b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
               b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] >>"]
    out = b"%PDF-1.4\n"
    offsets = []
    for number, body in enumerate(objects, 1):
        offsets.append(len(out))
        out += b"%d 0 obj\n%s\nendobj\n" % (number, body)
    xref = len(out)
    out += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1)
    out += b"".join(b"%010d 00000 n \n" % offset for offset in offsets)
    out += b"trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (
        len(objects) + 1, xref)
    return out


def _recv_request(conn: socket.socket) -> tuple[JobRequest, list[int]]:
    """One hand-off (see `thin.encode_request`) and the descriptors sent with it:
    standard input, output and error, and when cupsd opened them the back and side
    channels (fds 3 and 4). A malformed request's descriptors are closed here:
    kept open, the job's standard error would never end for the one waiting on it."""
    fds: list[int] = []
    try:
        return _read_request(conn, fds), fds
    except BaseException:
        for fd in fds:
            with contextlib.suppress(OSError):
                os.close(fd)
        raise


def _read_request(conn: socket.socket, fds: list[int]) -> JobRequest:
    data = b""
    header = b""
    need = -1  # bytes of the body, once the header line is in
    while need < 0 or len(data) < need:
        chunk, got, _flags, _addr = socket.recv_fds(conn, 65536, 5)
        fds.extend(got)
        if not chunk:
            raise ValueError("connection closed before the request ended")
        data += chunk
        if need < 0:
            end = data.find(b"\n")
            if end < 0:
                if len(data) > 64:
                    raise ValueError("not a PageTally job hand-off")
                continue
            header, data = data[:end], data[end + 1:]
            _magic, _, length = header.partition(b" ")
            if not length.isdigit() or int(length) > thin.MAX_REQUEST:
                raise ValueError("not a PageTally job hand-off, or too long")
            need = int(length)
    if len(data) > need:
        raise ValueError("more data than the hand-off announced")
    argv, environ, config, umask = thin.decode_request(header, data)
    if len(fds) not in (3, 5):
        raise ValueError(f"expected 3 or 5 descriptors, got {len(fds)}")
    return JobRequest([os.fsdecode(a) for a in argv],
                      {os.fsdecode(k): os.fsdecode(v) for k, v in environ.items()},
                      config, umask)


def _send(conn: socket.socket, word: str, value: object) -> None:
    """One answer line, `WORD VALUE` (see thin.py)."""
    text = " ".join(str(value).split())[:200]
    with contextlib.suppress(OSError):
        conn.sendall(f"{word} {text}\n".encode("utf-8", "replace"))


def _high(fd: int) -> int:
    """`fd` moved to 10 or above (closing the original), clear of fds 0-4."""
    high = fcntl.fcntl(fd, fcntl.F_DUPFD, 10)
    os.close(fd)
    return high


def _child(conn: socket.socket, request: JobRequest, fds: list[int]) -> int:
    """In the forked child: become the backend process of this job."""
    conn = socket.socket(fileno=_high(conn.detach()))  # out of the way of fds 0-4
    for target, fd in enumerate([_high(fd) for fd in fds]):
        os.dup2(fd, target)
        os.close(fd)
    for sig in (signal.SIGTERM, signal.SIGINT, signal.SIGCHLD):
        signal.signal(sig, signal.SIG_DFL)
    logging.getLogger().handlers.clear()  # the runner's log must not reach cupsd
    os.environ.clear()
    os.environ.update(request.environ)
    tempfile.tempdir = None  # TMPDIR is this job's
    os.umask(request.umask)
    sys.argv = list(request.argv)
    # the job's streams, whatever the runner's own were (maybe none at all)
    stdin = open(0, "rb", closefd=False)  # noqa: SIM115
    sys.stdin = open(0, encoding="utf-8", closefd=False)  # noqa: SIM115
    sys.stdout = open(1, "w", encoding="utf-8", closefd=False)  # noqa: SIM115
    sys.stderr = open(2, "w", encoding="utf-8", errors="backslashreplace",  # noqa: SIM115
                      buffering=1, closefd=False)
    _send(conn, "pid", os.getpid())
    from pagetally.cups.backend import BackendEnv, run

    env = BackendEnv(sys.argv, dict(request.environ), stdin, sys.stderr,
                     config_path=request.config, cups_channels=len(fds) == 5)
    code = run(env)
    sys.stdout.flush()
    sys.stderr.flush()
    _send(conn, "exit", int(code))
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
                _send(conn, "error", "busy")
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
            _send(conn, "error", e)
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
