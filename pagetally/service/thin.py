"""The thin CUPS backend: hand the job to the service's job runner, or run it here.

Installed as the backend script's entry point (`from pagetally.service.thin import
main; main(CONFIG)`), it imports only built-in modules (`posix`, `_socket`,
`_signal`; not even `os`, `socket` or `json`, whose imports cost more than the
rest of this process's work): a job costs the interpreter's start and one round
trip to `pagetally serve`, whose job runner has the whole backend loaded and forks
a child that runs the job with this process's argv, environment, standard streams
and CUPS' back and side channels (see `jobs.py`). The exit code comes back and
becomes ours; CUPS' SIGTERM is passed on to that child.

The hand-off (`encode_request`, `decode_request`): one header line
`PTJOB1 <length>\\n`, then `<length>` bytes of NUL-separated fields — config path
(empty: none), umask, argc, the argv, then the environment as `NAME=value` — with
standard input, output and error (and fds 3 and 4 when cupsd opened them) attached
(SCM_RIGHTS). Arguments and environment travel as the bytes the kernel gave this
process (C strings: never a NUL inside), so the job's child sees exactly them. The
answers are lines `pid N` (the child is about to read the job), then `exit N`; or
`error TEXT` before anything was read.

When no runner listens (service stopped, `accountingservice: none`, the runner
busy), the job runs in this process through `pagetally.cups.backend.main`, which
itself asks the store service first and then opens the store: slower, same result.
"""

from __future__ import annotations

import _signal  # type: ignore[import-not-found]  # the C half of `signal`: no enum import
import _socket
import posix
import sys

from pagetally.service import DEFAULT_SOCKET, jobs_socket

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Iterator, Mapping
    from types import FrameType

DEFAULT_CONFIG = "/etc/pagetally/pagetally.conf"
FAILED = 1  # CUPS_BACKEND_FAILED
MAGIC = b"PTJOB1"
MAX_REQUEST = 1 << 20  # bytes of argv and environment in one hand-off
MAX_ANSWER = 4096  # bytes in one answer line


def service_socket(config_path: str | None, environ: Mapping[str, str]) -> str | None:
    """`accountingservice` from the config's [global] section, read by the one
    INI reader (pagetally/ini.py, standard library only) without the config
    module; None for `none`, or a file that cannot be read or parsed (then the
    full backend, run here, reports the problem properly)."""
    from pagetally.ini import IniError, declared_charset, parse_ini

    path = config_path or environ.get("PAGETALLY_CONFIG") or DEFAULT_CONFIG
    try:
        with open(path, "rb") as fh:
            data = fh.read(1 << 20)
        sections = parse_ini(data.decode(declared_charset(data) or "utf-8"), path)
    except (OSError, UnicodeDecodeError, LookupError, IniError):
        return None
    entry = sections.get("global", {}).get("accountingservice")
    value = DEFAULT_SOCKET if entry is None else entry.value
    return None if not value or value.lower() == "none" else value


def _fsencode(text: str) -> bytes:
    """`os.fsencode` without `os`: a str from argv back to the kernel's bytes."""
    return text.encode(sys.getfilesystemencoding(), sys.getfilesystemencodeerrors())


def encode_request(
    argv: list[str], environ: Mapping[bytes, bytes], config: str | None, umask: int
) -> bytes:
    """The hand-off's bytes (see the module's docstring); ValueError when a field
    holds a NUL (never from the kernel) or the whole is too long."""
    fields = [
        _fsencode(config or ""),
        b"%d" % umask,
        b"%d" % len(argv),
        *(_fsencode(a) for a in argv),
        *(k + b"=" + v for k, v in environ.items()),
    ]
    if any(b"\0" in f for f in fields):
        raise ValueError("a NUL byte in an argument or the environment")
    body = b"\0".join(fields)
    if len(body) > MAX_REQUEST:
        raise ValueError("argv and environment too long")
    return b"%s %d\n%s" % (MAGIC, len(body), body)


def decode_request(
    header: bytes, body: bytes
) -> tuple[list[bytes], dict[bytes, bytes], str | None, int]:
    """(argv, environment, config path, umask) from a hand-off's header line (without
    its newline) and body, as the runner reads them; ValueError when malformed."""
    magic, _, length = header.partition(b" ")
    if magic != MAGIC or not length.isdigit() or int(length) != len(body):
        raise ValueError("not a PageTally job hand-off")
    fields = body.split(b"\0")
    if len(fields) < 4 or not fields[1].isdigit() or not fields[2].isdigit():
        raise ValueError("malformed job hand-off")
    argc = int(fields[2])
    if not 1 <= argc <= len(fields) - 3:
        raise ValueError("malformed job hand-off: argc")
    argv = fields[3 : 3 + argc]
    environ: dict[bytes, bytes] = {}
    for entry in fields[3 + argc :]:
        name, found, value = entry.partition(b"=")
        if not found or not name:
            raise ValueError("malformed job hand-off: environment")
        environ[name] = value
    config = fields[0].decode(sys.getfilesystemencoding(), sys.getfilesystemencodeerrors())
    return argv, environ, config or None, int(fields[1]) & 0o777


def _lines(sock: _socket.socket) -> Iterator[bytes]:
    """The answer lines, without their newline, until the runner closes."""
    buffer = b""
    while True:
        end = buffer.find(b"\n")
        if end >= 0:
            line, buffer = buffer[:end], buffer[end + 1 :]
            yield line
            continue
        if len(buffer) > MAX_ANSWER:
            return
        chunk = sock.recv(MAX_ANSWER)
        if not chunk:
            return
        buffer += chunk


def _number(lines: Iterator[bytes], word: bytes) -> int | None:
    """N from the next line `WORD N`; None for anything else (an error, the end)."""
    try:
        name, _, value = next(lines, b"").partition(b" ")
    except OSError:
        return None
    if name != word:
        return None
    try:
        return int(value)
    except ValueError:
        return None


def run_in_service(path: str, config_path: str | None, timeout: float = 5.0) -> int | None:
    """The job's exit code from the runner at `path`; None when it did not take the job
    (nothing has been read from the job then)."""
    sock = _socket.socket(_socket.AF_UNIX, _socket.SOCK_STREAM)
    # CUPS' SIGTERM (the job cancelled) goes to the job's process; one that comes
    # before its pid is known waits for it (else the job would print on unseen)
    target: list[int] = []
    pending: list[int] = []

    def forward(signum: int, _frame: FrameType | None) -> None:
        if not target:
            pending.append(signum)
            return
        try:  # noqa: SIM105 - contextlib is not loaded in this lean process
            posix.kill(target[0], signum)
        except OSError:
            pass

    previous = _signal.signal(_signal.SIGTERM, forward)
    try:
        sock.settimeout(timeout)
        sock.connect(path)
        data = encode_request(sys.argv, posix.environ, config_path, _umask())
        fds = [0, 1, 2, 3, 4] if _is_open(3) and _is_open(4) else [0, 1, 2]
        rights = b"".join(fd.to_bytes(4, sys.byteorder) for fd in fds)
        sent = sock.sendmsg([data], [(_socket.SOL_SOCKET, _socket.SCM_RIGHTS, rights)])
        sock.sendall(data[sent:])
    except (OSError, ValueError):
        sock.close()
        _not_taken(previous, pending)
        return None
    # The runner now holds our streams: no time limit on its first answer, since
    # running the job here as well could print it twice. Its child sends its pid
    # before it reads a byte of the job.
    sock.settimeout(None)
    lines = _lines(sock)
    pid = _number(lines, b"pid")
    if pid is None:
        # refused (busy, malformed) or gone before its child said a word: nobody
        # has read the job, so it runs here
        sock.close()
        _not_taken(previous, pending)
        return None
    target.append(pid)
    for signum in pending:
        forward(signum, None)
    try:
        code = _number(lines, b"exit")
    finally:
        sock.close()
    if code is not None:
        return code
    sys.stderr.write(
        "ERROR: PageTally: the job's process in the accounting service ended without an answer\n"
    )
    sys.stderr.flush()
    return FAILED


def _not_taken(previous: object, pending: list[int]) -> None:
    """The runner did not take the job: this process runs it, as it would have
    without a runner — unless CUPS cancelled it meanwhile: then it ends as a
    cancelled backend does, by that signal."""
    _signal.signal(_signal.SIGTERM, previous)
    if pending:
        _signal.signal(_signal.SIGTERM, _signal.SIG_DFL)
        posix.kill(posix.getpid(), pending[0])


def _is_open(fd: int) -> bool:
    """cupsd opens fds 3 and 4 (back and side channels) for backends."""
    try:
        posix.fstat(fd)
    except OSError:
        return False
    return True


def _umask() -> int:
    mask = posix.umask(0o077)
    posix.umask(mask)
    return mask


def main(config_path: str | None = None) -> None:
    """Entry point of the installed backend script."""
    if len(sys.argv) > 1:
        named = posix.environ.get(b"PAGETALLY_CONFIG")
        environ = (
            {
                "PAGETALLY_CONFIG": named.decode(
                    sys.getfilesystemencoding(), sys.getfilesystemencodeerrors()
                )
            }
            if named
            else {}
        )
        path = service_socket(config_path, environ)
        if path is not None:
            code = run_in_service(jobs_socket(path), config_path)
            if code is not None:
                sys.exit(code)
    if sys.flags.no_site:  # started with -S (see backend_script): the full backend
        import site  # needs the installed packages, so do what -S left out

        site.main()
    from pagetally.cups.backend import main as run_here

    run_here(config_path)


BACKEND_SCRIPT = """#!{python} -S
# PageTally's thin CUPS backend: cupsd runs it as root (mode 0700) for every queue
# whose device URI starts with "pagetally:". -S skips site's start-up work (most of
# an interpreter's start); the one folder needed is added by hand.
import sys
sys.path.insert(0, {folder!r})
from pagetally.service.thin import main

main({config!r})
"""


def backend_script(config_path: str, python: str | None = None, folder: str | None = None) -> str:
    """The installed backend script for `config_path`, loading PageTally from
    `folder` (default: this installation's)."""
    if folder is None:
        from pathlib import Path

        import pagetally

        folder = str(Path(pagetally.__file__).resolve().parent.parent)
    return BACKEND_SCRIPT.format(python=python or sys.executable, folder=folder, config=config_path)


if __name__ == "__main__":
    main()
