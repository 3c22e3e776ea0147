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
import select
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import typing

from pagetally.service import thin
from pagetally.service.server import prepare_socket_path

log = logging.getLogger("pagetally.service.jobs")

MAX_CHILDREN = 64  # jobs at once; beyond, the thin backend runs the job itself
SPARES = 2  # children forked ahead, waiting for the next job
KILL_DELAY = 10.0  # seconds a job has to end once its thin backend was killed
PRELOAD = (
    "pagetally.cups.backend",
    "pagetally.config",
    "pagetally.pdl",
    "pagetally.core.rules",
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
    from pagetally.pdl._lazyre import compile_all

    compile_all()  # the patterns of every parser, not only those the sample job uses
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
    with contextlib.suppress(Exception):
        _warm_config()


SAMPLE_CONFIG = """[global]
storagebackend: sqlite
storagename: /nonexistent/pagetally.db
accountingservice: none
currency: EUR
[lab]
accounter: software()
"""


def _warm_config() -> None:
    """Read a configuration once: its parser's patterns are then compiled for
    every child (the job's own configuration is still read by the job)."""
    from pagetally.config import load_config

    with tempfile.TemporaryDirectory(prefix="pagetally-warm-") as folder:
        path = os.path.join(folder, "pagetally.conf")
        with open(path, "w", encoding="utf-8") as fh:
            fh.write(SAMPLE_CONFIG)
        load_config(path, {})


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
    objects = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] >>",
    ]
    out = b"%PDF-1.4\n"
    offsets = []
    for number, body in enumerate(objects, 1):
        offsets.append(len(out))
        out += b"%d 0 obj\n%s\nendobj\n" % (number, body)
    xref = len(out)
    out += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1)
    out += b"".join(b"%010d 00000 n \n" % offset for offset in offsets)
    out += b"trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (
        len(objects) + 1,
        xref,
    )
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
            header, data = data[:end], data[end + 1 :]
            _magic, _, length = header.partition(b" ")
            if not length.isdigit() or int(length) > thin.MAX_REQUEST:
                raise ValueError("not a PageTally job hand-off, or too long")
            need = int(length)
    if len(data) > need:
        raise ValueError("more data than the hand-off announced")
    argv, environ, config, umask = thin.decode_request(header, data)
    if len(fds) not in (3, 5):
        raise ValueError(f"expected 3 or 5 descriptors, got {len(fds)}")
    return JobRequest(
        [os.fsdecode(a) for a in argv],
        {os.fsdecode(k): os.fsdecode(v) for k, v in environ.items()},
        config,
        umask,
    )


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
    # noted before the job's own SIGTERM handler (cups/cancel.py) takes over
    signal.signal(signal.SIGTERM, lambda *_: _cancelled.set())
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
    sys.stderr = open(  # noqa: SIM115
        2,
        "w",
        encoding="utf-8",
        errors="backslashreplace",
        buffering=1,
        closefd=False,
    )
    os.setpgid(0, 0)  # this job's processes, the real backend's included: one group
    _send(conn, "pid", os.getpid())
    from pagetally.cups.backend import BackendEnv, run

    env = BackendEnv(
        sys.argv,
        dict(request.environ),
        stdin,
        sys.stderr,
        config_path=request.config,
        cups_channels=len(fds) == 5,
    )
    done = threading.Event()
    threading.Thread(target=_watch_thin_backend, args=(conn, done), daemon=True).start()
    code = run(env)
    sys.stdout.flush()
    sys.stderr.flush()
    done.set()
    _send(conn, "exit", int(code))
    return int(code)


def _watch_thin_backend(conn: socket.socket, done: threading.Event) -> None:
    """The thin backend sends nothing after its request, so its end is the
    connection's end. It does not end the job: killing the thin backend (cupsd
    after JobKillDelay, an administrator, the OOM killer) must not leave a job
    printed and uncharged, so this child finishes the job and settles it — its
    real backend printing on is owned here, and a retry by CUPS waits for it on
    the job's lock (cups/attempt.py). A cancel comes as SIGTERM first (the thin
    backend forwards it): then, if the job has not ended KILL_DELAY seconds after
    the thin backend's end, it is killed with its real backend."""
    with contextlib.suppress(OSError):
        while conn.recv(64):
            pass
    if done.is_set() or not _cancelled.is_set():
        return
    if not done.wait(KILL_DELAY):
        os.killpg(os.getpid(), signal.SIGKILL)


_cancelled = threading.Event()  # this child got SIGTERM: its job was cancelled


class JobRunner:
    """The runner's parent: keeps `spares` children forked and waiting (each takes
    one job, then ends), and answers `busy` once `max_children` are at work.
    `serve()` returns after SIGTERM or SIGINT."""

    def __init__(self, path: str, max_children: int = MAX_CHILDREN, spares: int = SPARES) -> None:
        self.path = path
        self.max_children = max_children
        self.spares = max(1, min(spares, max_children))
        self.idle: set[int] = set()  # spares waiting for a job
        self.busy: set[int] = set()  # children running one
        self.stopping = False

    @property
    def children(self) -> set[int]:
        return self.idle | self.busy

    def _reap(self) -> None:
        while self.idle or self.busy:
            try:
                pid, _status = os.waitpid(-1, os.WNOHANG)
            except ChildProcessError:
                self.idle.clear()
                self.busy.clear()
                return
            if pid == 0:
                return
            self.idle.discard(pid)
            self.busy.discard(pid)

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
        listener.setblocking(False)
        taken_r, taken_w = os.pipe()  # spares write their pid here when they take a job
        stop_r, stop_w = os.pipe()  # closed by the parent: idle spares end
        log.info("job runner listening on %s", self.path)
        try:
            while not self.stopping:
                self._reap()
                while len(self.idle) < self.spares and len(self.children) < self.max_children:
                    self._fork_spare(listener, (taken_r, taken_w, stop_r, stop_w))
                watch = [taken_r] if self.idle else [taken_r, listener.fileno()]
                try:
                    ready, _w, _x = select.select(watch, [], [], 0.5)
                except InterruptedError:
                    continue
                if taken_r in ready:
                    self._taken(os.read(taken_r, 4096))
                if listener.fileno() in ready:  # every child at work: the thin backend runs it
                    with contextlib.suppress(BlockingIOError, InterruptedError):
                        conn, _addr = listener.accept()
                        with conn:
                            _refuse_busy(conn)
        finally:
            listener.close()
            with contextlib.suppress(FileNotFoundError):
                os.unlink(self.path)
            os.close(stop_w)  # the idle spares see it and end; busy ones finish their job
            for fd in (taken_r, taken_w, stop_r):
                os.close(fd)
            log.info("job runner stopped")

    def _taken(self, data: bytes) -> None:
        for i in range(0, len(data) - len(data) % 4, 4):
            pid = int.from_bytes(data[i : i + 4], sys.byteorder)
            if pid in self.idle:
                self.idle.discard(pid)
                self.busy.add(pid)
                log.info("job runner: a thin backend handed a job to child %d", pid)

    def _fork_spare(self, listener: socket.socket, pipes: tuple[int, int, int, int]) -> None:
        sys.stdout.flush()
        sys.stderr.flush()
        pid = os.fork()
        if pid == 0:  # the spare: never returns into the loop
            code = 1
            try:
                code = _spare(listener, *pipes)
            finally:
                os._exit(code)
        self.idle.add(pid)


def _spare(listener: socket.socket, taken_r: int, taken_w: int, stop_r: int, stop_w: int) -> int:
    """A forked child waiting for one job: it takes the next connection, tells the
    parent (which forks the next spare), and becomes that job's backend process.
    Waiting, it ignores SIGTERM and SIGINT (the parent ends it through `stop_r`),
    and warms up, so that the job does not pay the copy-on-write of the memory it
    touches."""
    for sig in (signal.SIGTERM, signal.SIGINT):
        signal.signal(sig, signal.SIG_IGN)
    os.close(taken_r)
    os.close(stop_w)
    with contextlib.suppress(Exception):
        warm_up()
    while True:
        ready, _w, _x = select.select([listener.fileno(), stop_r], [], [])
        if stop_r in ready:
            return 0
        try:
            conn, _addr = listener.accept()
        except (BlockingIOError, InterruptedError):
            continue  # another spare took it
        break
    os.write(taken_w, os.getpid().to_bytes(4, sys.byteorder))
    for fd in (taken_w, stop_r):
        os.close(fd)
    listener.close()
    conn.setblocking(True)
    try:
        conn.settimeout(10)
        request, fds = _recv_request(conn)
        conn.settimeout(None)
    except (OSError, ValueError) as e:
        log.warning("job runner: refused a request: %s", e)
        _send(conn, "error", e)
        return 1
    return _child(conn, request, fds)


def _refuse_busy(conn: socket.socket) -> None:
    """Every child is at work: read the request (closing its streams) and say so;
    the thin backend then runs the job itself."""
    conn.setblocking(True)
    fds: list[int] = []
    try:
        conn.settimeout(10)
        _request, fds = _recv_request(conn)
        _send(conn, "error", "busy")
    except (OSError, ValueError) as e:
        log.warning("job runner: refused a request: %s", e)
        _send(conn, "error", e)
    finally:
        for fd in fds:
            with contextlib.suppress(OSError):
                os.close(fd)


def start_runner(path: str) -> subprocess.Popen[bytes]:
    """The job runner for `pagetally serve`, its own single-threaded process (it
    forks per job). It gets SIGTERM when the service dies, however it dies, so
    that no runner outlives its service (a stale runner would go on serving old
    code beside a restarted service); jobs at work finish on their own."""
    from pagetally.proc import owned_by_parent

    take_over(path)
    return subprocess.Popen(
        [sys.executable, "-m", "pagetally.service.jobs", path],
        preexec_fn=lambda: owned_by_parent(signal.SIGTERM),
    )


def take_over(path: str, grace: float = 10.0) -> int | None:
    """End a stale runner still listening on `path` (its service was killed before
    the runner could be told); returns its pid, or None when nobody listens.
    Its busy children finish their jobs; its socket is then free for ours."""
    import struct
    import time

    probe = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    try:
        probe.settimeout(2.0)
        probe.connect(path)
        creds = probe.getsockopt(socket.SOL_SOCKET, socket.SO_PEERCRED, struct.calcsize("3i"))
    except OSError:
        return None
    finally:
        probe.close()
    pid: int = struct.unpack("3i", creds)[0]
    if pid <= 1 or pid == os.getpid():
        return None
    log.warning(
        "a job runner from an earlier service still listens on %s (pid %d): ending it", path, pid
    )
    with contextlib.suppress(ProcessLookupError):
        os.kill(pid, signal.SIGTERM)
    deadline = time.monotonic() + grace
    while time.monotonic() < deadline and _alive(pid):
        time.sleep(0.05)
    if _alive(pid):
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, signal.SIGKILL)
    return pid


def _alive(pid: int) -> bool:
    """Whether `pid` runs (a zombie child of ours is reaped and counts as ended)."""
    with contextlib.suppress(ChildProcessError):
        if os.waitpid(pid, os.WNOHANG)[0] == pid:
            return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    try:
        with open(f"/proc/{pid}/stat", "rb") as fh:
            return fh.read().rsplit(b")", 1)[-1].split()[0] != b"Z"
    except OSError:
        return False


def main(argv: list[str] | None = None) -> None:
    args = sys.argv[1:] if argv is None else argv
    if len(args) != 1:
        sys.exit("usage: python -m pagetally.service.jobs SOCKET")
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(message)s")
    preload()
    JobRunner(args[0]).serve()


if __name__ == "__main__":
    main()
