"""The real backend's keeper: the process that owns it and settles its result
even when the process accounting the job is killed.

The accounting process (the backend, or the job runner's child) forks a keeper;
the keeper starts the real backend (which dies with it: PR_SET_PDEATHSIG) and
waits for it. The keeper does nothing else — no imports, no store, no threads —
so it outlives whatever kills the accounting process (cupsd's SIGKILL of the
thin backend, an administrator, the OOM killer, which picks the larger
process). When the real backend ends, the keeper

- decides whether the printer has the job: it exited 0 and was not cancelled,
  or it was killed after reading the whole job from its standard input (a
  backend that writes straight to the device: the keeper shares that input's
  file offset);
- if so, renames the job's attempt record `printing` → `printed` (no space
  needed), so that whoever settles the job next charges it rather than
  printing it again (cups/attempt.py);
- writes `CODE DELIVERED CANCELLED` on its status pipe for the accounting
  process, if it still lives.

A cancel (SIGTERM) reaching the keeper is passed on to the real backend.
The real backend ignores SIGPIPE (inherited), so that its status lines to an
accounting process that died do not kill it mid-job.
"""

from __future__ import annotations

import contextlib
import os
import signal
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import NoReturn


@dataclass(frozen=True, slots=True)
class Kept:
    """What the accounting process holds of a started real backend."""

    keeper: int  # the keeper's pid (signals for the real backend go to it)
    stderr: int  # read end of the real backend's standard error
    status: int  # read end of the keeper's status pipe


@dataclass(frozen=True, slots=True)
class KeptResult:
    exit_code: int  # the real backend's (negative: killed by that signal)
    delivered: bool
    cancelled: bool


@dataclass(frozen=True, slots=True)
class Owner:
    """How an attempt owns its real backend (cups/attempt.py)."""

    keep_fds: tuple[int, ...] = ()  # held by the real backend too (the job's lock)
    marker: tuple[str, str] | None = None  # rename (from, to) once printed
    # run by the keeper (exec) when it outlived the accounting process after
    # the printer had the job: settles the charge (`python -m pagetally.cups.settle`)
    settle: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class Launch:
    path: str
    argv: Sequence[str]
    env: Mapping[str, str]
    stdin: int | None  # a descriptor of the job's data; None: /dev/null
    delivering: bool  # reading all of stdin means the printer has it
    owner: Owner = Owner()
    setup: Callable[[], None] | None = None  # in the keeper, before the fork
    # the signal a cancel becomes: CUPS' backends ignore SIGTERM while they read
    # standard input (to send what filters made); a raw queue's file handed on
    # standard input here instead of by name must still end at a cancel, as the
    # backend reading it by name would: SIGKILL then
    cancel_with: int | None = None


def start(launch: Launch, own: Callable[[], None]) -> Kept:
    """Fork the keeper, which starts the real backend. `own` runs in the real
    backend's process before exec (PR_SET_PDEATHSIG: it dies with its keeper)."""
    err_r, err_w = os.pipe()
    st_r, st_w = os.pipe()
    pid = os.fork()
    if pid == 0:  # the keeper: never returns
        code = 70
        try:
            os.close(err_r)
            os.close(st_r)
            code = _keep(launch, own, err_w, st_w)
        finally:
            os._exit(code)
    os.close(err_w)
    os.close(st_w)
    return Kept(pid, err_r, st_r)


def finish(kept: Kept) -> KeptResult:
    """After the real backend's stderr ended: the keeper's report, and the keeper
    reaped. A keeper killed before it could report: its own death."""
    data = b""
    with contextlib.suppress(OSError):
        while chunk := os.read(kept.status, 256):
            data += chunk
    os.close(kept.status)
    _pid, status = os.waitpid(kept.keeper, 0)
    words = data.split()
    if len(words) == 3 and all(w.lstrip(b"-").isdigit() for w in words):
        return KeptResult(int(words[0]), words[1] == b"1", words[2] == b"1")
    return KeptResult(os.waitstatus_to_exitcode(status) or -signal.SIGKILL, False, False)


def _keep(launch: Launch, own: Callable[[], None], err_w: int, st_w: int) -> int:
    parent = os.getppid()
    cancelled = False
    child = 0

    def forward(signum: int, _frame: object) -> None:
        nonlocal cancelled
        cancelled = True
        if child:
            with contextlib.suppress(OSError):
                os.kill(child, launch.cancel_with or signum)

    for sig in (signal.SIGTERM, signal.SIGINT):
        signal.signal(sig, forward)
    signal.signal(signal.SIGPIPE, signal.SIG_IGN)  # inherited by the real backend
    signal.signal(signal.SIGCHLD, signal.SIG_DFL)
    _standard_fds(launch, err_w)
    if launch.setup is not None:
        launch.setup()
    child = os.fork()
    if child == 0:  # the real backend
        _exec_real_backend(launch, own)
    code = _wait(child)
    delivered = False
    if code < 0 and not cancelled and launch.delivering and launch.stdin is not None:
        with contextlib.suppress(OSError):
            delivered = os.lseek(0, 0, os.SEEK_CUR) >= os.fstat(0).st_size
    printed = (code == 0 and not cancelled) or delivered
    if launch.owner.marker is not None and printed:
        with contextlib.suppress(OSError):
            os.replace(*launch.owner.marker)
    with contextlib.suppress(OSError):
        os.write(st_w, f"{code} {int(delivered)} {int(cancelled)}\n".encode())
    if printed and launch.owner.settle and os.getppid() != parent:
        # the accounting process was killed: nobody else may come for this job
        # (cupsd does not always retry), so the keeper settles it itself
        os.close(st_w)
        _exec_settle(launch.owner.settle)
    return 0


def _standard_fds(launch: Launch, err_w: int) -> None:
    """stdin: the job (or nothing); stderr: the pipe the accounting process reads."""
    if launch.stdin is not None:
        os.dup2(launch.stdin, 0)
    else:
        null = os.open(os.devnull, os.O_RDONLY)
        os.dup2(null, 0)
        os.close(null)
    os.dup2(err_w, 2)
    os.close(err_w)


def _exec_real_backend(launch: Launch, own: Callable[[], None]) -> NoReturn:
    """In the forked child: become the real backend (exit 127 if that fails)."""
    try:
        own()
        for fd in launch.owner.keep_fds:
            os.set_inheritable(fd, True)
        _close_from(5, keep=set(launch.owner.keep_fds))
        os.execve(launch.path, list(launch.argv), dict(launch.env))  # noqa: S606 - argv list
    finally:
        os._exit(127)


def _wait(child: int) -> int:
    """The child's exit code (negative: the signal that killed it)."""
    while True:
        try:
            _pid, status = os.waitpid(child, 0)
            return os.waitstatus_to_exitcode(status)
        except InterruptedError:
            continue


def _exec_settle(settle: Sequence[str]) -> None:
    """Become `python -m pagetally.cups.settle` for the job, detached from every
    descriptor; returns only if that cannot start."""
    with contextlib.suppress(OSError):
        null = os.open(os.devnull, os.O_RDWR)
        for fd in (0, 1, 2):
            os.dup2(null, fd)
        _close_from(3, keep=set())
        argv = list(settle)
        os.execv(argv[0], argv)  # noqa: S606 - an argument list


def _close_from(low: int, keep: set[int]) -> None:
    """Close every descriptor from `low` up, but those in `keep`."""
    start = low
    for fd in sorted(k for k in keep if k >= low):
        os.closerange(start, fd)
        start = fd + 1
    os.closerange(start, os.sysconf("SC_OPEN_MAX") if os.sysconf("SC_OPEN_MAX") > 0 else 65536)
