"""The one way PageTally runs another program: bounded, and killed whole.

Every command PageTally starts (a site's hook or page-counter command, the
external mailer, Ghostscript, LibreOffice, dvips, enscript) goes through here,
so each one gets the same guarantees:

- an argument list, never a shell line;
- exactly the environment the caller gives (a small default otherwise), never
  PageTally's own;
- its own session and process group, and the WHOLE group killed when the time
  limit passes, an output limit is crossed or the caller fails. A wrapper that
  forks (LibreOffice's `soffice` starting `soffice.bin`) cannot leave a child
  behind: by default what is left of the group is killed when the command ends;
- a memory limit (RLIMIT_AS) set in the child before it runs the program;
- stdout and stderr read at the same time as stdin is written, each kept up to
  a bound: past it the command is either refused (killed, `Finished.stopped`
  says why) or its excess is read and dropped (`Finished.truncated`), as the
  caller chooses. Nothing is spooled to disk.

Like errors.py, this module imports nothing of pagetally, so every layer may use
it. It raises only OSError (the program cannot be started); what the program did
is in the result, and each caller turns that into its own error.
"""

from __future__ import annotations

import contextlib
import os
import resource
import select
import selectors
import signal
import subprocess
import threading
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from pathlib import Path
from typing import IO, Literal, NamedTuple

#: The PATH a command gets when the caller gives no environment.
DEFAULT_PATH = "/usr/local/bin:/usr/bin:/bin"
#: Characters kept of one environment value (Linux refuses strings over 128 KiB).
MAX_ENV_VALUE = 32 * 1024
#: Seconds to keep reading a finished command's pipes (a forked child may hold them).
_DRAIN_SECONDS = 0.5
_CHUNK = 1 << 16

#: What a command's standard input is: nothing, bytes, or a file to read.
Input = bytes | bytearray | memoryview | Path | None


class Bounds(NamedTuple):
    """The limits a command runs under.

    `output` bounds stdout and stderr each. `overflow="refuse"` kills the
    command when it writes more (a converter's output past the bound is not to
    be trusted); `"drop"` keeps the first `output` bytes and reads the rest
    away (a site hook that talks too much still ran). `memory` is the address
    space in bytes (None: unlimited). `kill_leftovers` kills what remains of the
    process group once the command itself has ended.
    """

    seconds: float = 60.0
    output: int = 1 << 20
    memory: int | None = 2 << 30
    overflow: Literal["refuse", "drop"] = "refuse"
    kill_leftovers: bool = True


DEFAULT_BOUNDS = Bounds()


class Finished(NamedTuple):
    """What a command did. `stopped` is a one-line reason when the runner killed
    it (time or output limit), None when it ended by itself."""

    argv: tuple[str, ...]
    returncode: int
    stdout: bytes = b""
    stderr: bytes = b""
    stopped: str | None = None
    timed_out: bool = False
    overflowed: bool = False
    truncated: bool = False

    @property
    def ok(self) -> bool:
        """Ended by itself, in time and within its output bound, with status 0."""
        return self.stopped is None and self.returncode == 0

    def describe(self) -> str:
        """One line for a log or an error message: how it ended."""
        if self.stopped is not None:
            return self.stopped
        if self.returncode < 0:
            return f"killed by signal {-self.returncode}"
        return f"exit status {self.returncode}"


def clean_env_value(value: str) -> str:
    """A value an environment can hold: no NUL, encodable, bounded in length.

    Everything else (quotes, `$(...)`, backticks, newlines) is kept verbatim:
    an environment value is data, never parsed by us.
    """
    value = value.replace("\0", "")
    if len(value) > MAX_ENV_VALUE:
        value = value[:MAX_ENV_VALUE]
    try:
        value.encode("utf-8", "surrogateescape")
    except UnicodeEncodeError:
        value = value.encode("utf-8", "replace").decode("utf-8")
    return value


def clean_env(env: Mapping[str, str] | None) -> dict[str, str]:
    """The environment a command gets: the caller's, minus keys an environment
    cannot hold; a bare PATH and C.UTF-8 locale when the caller gives none."""
    if env is None:
        return {"PATH": DEFAULT_PATH, "LANG": "C.UTF-8"}
    out: dict[str, str] = {}
    for key, value in env.items():
        if not key or "=" in key or "\0" in key:
            continue
        out[key] = clean_env_value(value)
    return out


def site_env(environ: Mapping[str, str] | None = None) -> dict[str, str]:
    """The environment a site's own command starts from: this process's (PATH,
    HOME, locale, a tool's own settings) minus PYKOTA*/PAGETALLY_* values, which
    may carry secrets. PAGETALLY_CONFIG is kept, so that a command calling
    `pagetally` reads the same configuration."""
    source = os.environ if environ is None else environ
    return {
        k: v
        for k, v in source.items()
        if not (k.startswith("PYKOTA") or k.startswith("PAGETALLY_")) or k == "PAGETALLY_CONFIG"
    }


def _limit_memory(limit: int | None) -> Callable[[], None] | None:
    """The child's first act before exec: cap its address space. (It only calls
    setrlimit, which takes no lock a thread of the parent could hold.)"""
    if limit is None:
        return None

    def apply() -> None:
        resource.setrlimit(resource.RLIMIT_AS, (limit, limit))

    return apply


def kill_group(pid: int) -> None:
    """SIGKILL every process of the group `pid` leads (SIGTERM could be ignored)."""
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(pid, signal.SIGKILL)


def _spawn(
    argv: Sequence[str],
    env: Mapping[str, str] | None,
    stdin: int | IO[bytes],
    stdout: int,
    cwd: str | Path | None,
    bounds: Bounds,
) -> subprocess.Popen[bytes]:
    if not argv:
        raise OSError("the command is empty")
    return subprocess.Popen(  # an argument list, no shell
        list(argv),
        stdin=stdin,
        stdout=stdout,
        stderr=subprocess.PIPE,
        env=clean_env(env),
        cwd=cwd,
        close_fds=True,
        start_new_session=True,  # its own process group: killed whole
        preexec_fn=_limit_memory(bounds.memory),
    )


class _Sink:
    """One output pipe's bytes kept, up to the bound."""

    __slots__ = ("chunks", "limit", "name", "seen", "size")

    def __init__(self, name: str, limit: int) -> None:
        self.name = name
        self.limit = limit
        self.chunks: list[bytes] = []
        self.size = 0
        self.seen = 0

    def take(self, data: bytes) -> bool:
        """Keep what fits; False when the bound was crossed."""
        self.seen += len(data)
        room = self.limit - self.size
        if room > 0:
            kept = data[:room]
            self.chunks.append(kept)
            self.size += len(kept)
        return self.seen <= self.limit

    def value(self) -> bytes:
        return b"".join(self.chunks)


def run(
    argv: Sequence[str],
    *,
    env: Mapping[str, str] | None = None,
    stdin: Input = None,
    cwd: str | Path | None = None,
    bounds: Bounds = DEFAULT_BOUNDS,
) -> Finished:
    """Run `argv` to its end or its limits; OSError when it cannot be started.

    stdin (bytes written as the command reads them, or a file it reads itself),
    stdout and stderr are served together from one loop, so a command that
    floods one pipe while we write the other cannot deadlock or grow memory.
    """
    args = tuple(argv)
    with contextlib.ExitStack() as stack:
        if isinstance(stdin, Path):
            child_in: int | IO[bytes] = stack.enter_context(stdin.open("rb"))
            feed = memoryview(b"")
        else:
            child_in = subprocess.DEVNULL if not stdin else subprocess.PIPE
            feed = memoryview(stdin or b"").cast("B")
        proc = _spawn(args, env, child_in, subprocess.PIPE, cwd, bounds)
        try:
            return _serve(proc, args, feed, bounds)
        finally:
            if proc.returncode is None:  # our own failure (e.g. KeyboardInterrupt)
                kill_group(proc.pid)
                proc.wait()


def _serve(
    proc: subprocess.Popen[bytes], args: tuple[str, ...], feed: memoryview, bounds: Bounds
) -> Finished:
    """The loop of run(): write stdin, read stdout/stderr, watch the clock and the
    process; kill the group on a limit; reap."""
    assert proc.stdout is not None and proc.stderr is not None
    sinks = {
        proc.stdout.fileno(): _Sink("stdout", bounds.output),
        proc.stderr.fileno(): _Sink("stderr", bounds.output),
    }
    pidfd = os.pidfd_open(proc.pid)
    stopped: str | None = None
    timed_out = overflowed = False
    deadline = time.monotonic() + bounds.seconds
    drain_until: float | None = None
    with (
        selectors.DefaultSelector() as sel,
        contextlib.closing(proc.stdout),
        contextlib.closing(proc.stderr),
    ):
        _register(sel, sinks, pidfd, proc)
        offset = 0
        while True:
            now = time.monotonic()
            if drain_until is None:
                if now >= deadline:
                    stopped = f"killed after {bounds.seconds:g} s without finishing"
                    timed_out = True
                    break
                wait = deadline - now
            else:
                if now >= drain_until or not _reading(sel, sinks):
                    break
                wait = drain_until - now
            for key, _ in sel.select(wait):
                fd = int(key.fd)
                if fd == pidfd:  # ended (not reaped yet: its group id is still ours)
                    sel.unregister(pidfd)
                    if bounds.kill_leftovers:
                        kill_group(proc.pid)
                    drain_until = time.monotonic() + _DRAIN_SECONDS
                elif fd in sinks:
                    data = _read(fd)
                    if data is None:
                        continue
                    if not data:
                        sel.unregister(fd)
                    elif not sinks[fd].take(data) and bounds.overflow == "refuse":
                        stopped = f"wrote more than {bounds.output} bytes on {sinks[fd].name}"
                        overflowed = True
                        break
                else:  # stdin writable
                    offset = _write(sel, fd, feed, offset, proc)
            if stopped:
                break
    os.close(pidfd)
    returncode = _reap(proc, killed=bool(stopped))
    out, err = sinks.values()
    return Finished(
        args,
        returncode,
        out.value(),
        err.value(),
        stopped,
        timed_out,
        overflowed,
        truncated=out.seen > out.limit or err.seen > err.limit,
    )


def _reap(proc: subprocess.Popen[bytes], *, killed: bool) -> int:
    """Kill the group when a limit stopped it or it still runs; its exit code."""
    if killed or proc.poll() is None:
        kill_group(proc.pid)
    returncode = proc.wait()
    if proc.stdin is not None and not proc.stdin.closed:
        with contextlib.suppress(OSError):
            proc.stdin.close()
    return returncode


def _register(
    sel: selectors.BaseSelector,
    sinks: Mapping[int, _Sink],
    pidfd: int,
    proc: subprocess.Popen[bytes],
) -> None:
    """Watch the output pipes and the process (non-blocking), and stdin for room."""
    for fd in sinks:
        os.set_blocking(fd, False)
        sel.register(fd, selectors.EVENT_READ)
    sel.register(pidfd, selectors.EVENT_READ)
    if proc.stdin is not None:
        os.set_blocking(proc.stdin.fileno(), False)
        sel.register(proc.stdin.fileno(), selectors.EVENT_WRITE)


def _reading(sel: selectors.BaseSelector, sinks: Mapping[int, _Sink]) -> bool:
    return any(fd in sinks for fd in sel.get_map())


def _read(fd: int) -> bytes | None:
    """The next bytes of a pipe; b"" at its end; None when nothing is there yet."""
    try:
        return os.read(fd, _CHUNK)
    except BlockingIOError:
        return None
    except OSError:
        return b""


def _write(
    sel: selectors.BaseSelector,
    fd: int,
    feed: memoryview,
    offset: int,
    proc: subprocess.Popen[bytes],
) -> int:
    """Write the next piece of stdin; close it when all is written or the command
    stopped reading (a command need not read its whole input)."""
    assert proc.stdin is not None
    try:
        offset += os.write(fd, feed[offset : offset + _CHUNK])
    except BlockingIOError:
        return offset
    except (BrokenPipeError, OSError):
        offset = len(feed)
    if offset >= len(feed):
        sel.unregister(fd)
        with contextlib.suppress(OSError):
            proc.stdin.close()
    return offset


class Running:
    """A command whose stdout the caller reads as a stream (a renderer's pages).

    stderr is read by a thread up to the bound; a watchdog thread kills the
    whole group when the total time passes, or when the caller reports no
    progress() for `stall` seconds. After the `with` block: `returncode`,
    `stderr`, `stopped`.
    """

    def __init__(self, proc: subprocess.Popen[bytes], bounds: Bounds, stall: float | None) -> None:
        assert proc.stdout is not None
        self._proc = proc
        self.stdout: IO[bytes] = proc.stdout
        self._bounds = bounds
        self._stall = stall
        self._started = time.monotonic()
        self._last = self._started
        self._ending = threading.Event()
        self._reaped = threading.Event()
        self._err = _Sink("stderr", bounds.output)
        self.stopped: str | None = None
        self.stalled = False  # killed for producing nothing for `stall` seconds
        self.timed_out = False  # killed for running past the total time
        self.returncode: int | None = None
        self._threads = [
            threading.Thread(target=self._drain, daemon=True),
            threading.Thread(target=self._watch, daemon=True),
        ]
        for thread in self._threads:
            thread.start()

    @property
    def stderr(self) -> bytes:
        return self._err.value()

    def progress(self) -> None:
        """The caller got something useful: the stall clock starts again."""
        self._last = time.monotonic()

    def stop(self, reason: str) -> None:
        """Kill the whole group now, saying why (the first reason is kept)."""
        if self.stopped is None:
            self.stopped = reason
        kill_group(self._proc.pid)

    def _drain(self) -> None:
        """Read stderr up to the bound until its end, or until the command was
        reaped (a process that left the group may hold the pipe for ever)."""
        assert self._proc.stderr is not None
        fd = self._proc.stderr.fileno()
        while not self._reaped.is_set():
            ready, _, _ = select.select([fd], [], [], 0.1)
            if not ready:
                continue
            data = os.read(fd, _CHUNK)
            if not data:
                return
            if not self._err.take(data) and self._bounds.overflow == "refuse":
                self.stop(f"wrote more than {self._bounds.output} bytes on stderr")
                return

    def _watch(self) -> None:
        total = self._bounds.seconds
        while not self._ending.wait(0.05):
            now = time.monotonic()
            if now - self._started >= total:
                self.timed_out = True
                self.stop(f"took longer than {total:g} s in all")
            elif self._stall is not None and now - self._last >= self._stall:
                self.stalled = True
                self.stop(f"produced nothing for {self._stall:g} s")
            else:
                continue
            return

    def _finish(self) -> None:
        """Give a command whose stream ended a moment to exit, else stop it; kill
        what is left of its group while the leader is unreaped (its group id
        cannot be reused yet); reap it; stop the threads."""
        proc = self._proc
        pidfd = os.pidfd_open(proc.pid)
        try:
            wait = 0.0 if self.stopped is not None else _DRAIN_SECONDS
            exited, _, _ = select.select([pidfd], [], [], wait)
            if not exited:
                self.stop(self.stopped or "stopped: its reader ended before it did")
            self._ending.set()
            kill_group(proc.pid)
        finally:
            os.close(pidfd)
        self._threads[1].join()
        self.returncode = proc.wait()
        self._reaped.set()
        self._threads[0].join()
        self.stdout.close()
        assert proc.stderr is not None
        proc.stderr.close()


@contextlib.contextmanager
def stream(
    argv: Sequence[str],
    *,
    env: Mapping[str, str] | None = None,
    stdin: Path | None = None,
    cwd: str | Path | None = None,
    bounds: Bounds = DEFAULT_BOUNDS,
    stall: float | None = None,
) -> Iterator[Running]:
    """Start `argv` with its stdout as a pipe the caller reads; the group is
    killed when the block ends early or fails, and reaped in every case."""
    with contextlib.ExitStack() as stack:
        child_in: int | IO[bytes] = (
            stack.enter_context(stdin.open("rb")) if stdin is not None else subprocess.DEVNULL
        )
        proc = _spawn(argv, env, child_in, subprocess.PIPE, cwd, bounds)
        running = Running(proc, bounds, stall)
        try:
            yield running
        except BaseException:
            running.stop("stopped: its reader failed")
            raise
        finally:
            running._finish()


# --- ownership: a child that dies with its parent (Linux's PR_SET_PDEATHSIG) ---
PR_SET_PDEATHSIG = 1


def _load_prctl() -> Callable[[int, int], int] | None:
    """libc's prctl, loaded in the parent (a forked child must not dlopen)."""
    try:
        import ctypes

        libc = ctypes.CDLL(None, use_errno=True)
        prctl: Callable[[int, int], int] = libc.prctl
    except (OSError, AttributeError):
        return None
    return prctl


_PRCTL = _load_prctl()


def owned_by_parent(signum: int = signal.SIGKILL) -> None:
    """In a forked child before exec: get `signum` when the process (thread) that
    started it dies — so that no real backend prints on, unaccounted, after its
    owner was killed — and if the owner is gone already, end now."""
    parent = os.getppid()
    if _PRCTL is not None:
        _PRCTL(PR_SET_PDEATHSIG, signum)
    if os.getppid() != parent:
        os._exit(1)
