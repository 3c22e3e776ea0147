"""The thin CUPS backend: hand the job to the service's job runner, or run it here.

Installed as the backend script's entry point (`from pagetally.service.thin import
main; main(CONFIG)`), it imports only the standard library: a job costs the
interpreter's start and one round trip to `pagetally serve`, whose job runner has
the whole backend loaded and forks a child that runs the job with this process's
argv, environment, standard streams and CUPS' back and side channels (see
`jobs.py`). The exit code comes back and becomes ours; CUPS' SIGTERM is passed on
to that child.

When no runner listens (service stopped, `accountingservice: none`, the runner
busy), the job runs in this process through `pagetally.cups.backend.main`, which
itself asks the store service first and then opens the store: slower, same result.
"""

from __future__ import annotations

import json
import os
import signal
import socket
import sys
from types import FrameType

from pagetally.service import DEFAULT_SOCKET, jobs_socket

DEFAULT_CONFIG = "/etc/pagetally/pagetally.conf"
FAILED = 1  # CUPS_BACKEND_FAILED


def service_socket(config_path: str | None, environ: dict[str, str] | os._Environ[str]
                   ) -> str | None:
    """`accountingservice` from the config's [global] section, read without the
    config module (it is not loaded here); None for `none` or an unreadable file."""
    path = config_path or environ.get("PAGETALLY_CONFIG") or DEFAULT_CONFIG
    try:
        with open(path, encoding="utf-8") as fh:
            text = fh.read(1 << 20)
    except (OSError, UnicodeDecodeError):
        return None  # the full backend reports the problem properly
    section = None
    value = DEFAULT_SOCKET
    for raw in text.splitlines():
        line = raw.strip()
        if not line or line[0] in "#;" or raw[0] in " \t":
            continue
        if line.startswith("[") and line.endswith("]"):
            section = line[1:-1].strip().lower()
            continue
        for sep in (":", "="):
            name, found, rest = line.partition(sep)
            if found and name.strip().lower() == "accountingservice" and section == "global":
                value = rest.strip()
                break
    return None if not value or value.lower() == "none" else value


def run_in_service(path: str, config_path: str | None, timeout: float = 5.0) -> int | None:
    """The job's exit code from the runner at `path`; None when it did not take the job
    (nothing has been read from the job then)."""
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    try:
        sock.settimeout(timeout)
        sock.connect(path)
        request = {"argv": sys.argv, "environ": dict(os.environ), "config": config_path,
                   "umask": _umask()}
        fds = [0, 1, 2, 3, 4] if _is_open(3) and _is_open(4) else [0, 1, 2]
        socket.send_fds(sock, [json.dumps(request).encode() + b"\n"], fds)
    except OSError:
        sock.close()
        return None
    # The runner now holds our streams: no time limit on its first answer, since
    # running the job here as well could print it twice. Its child sends its pid
    # before it reads a byte of the job.
    sock.settimeout(None)
    reader = sock.makefile("rb")
    try:
        first = _message(reader.readline(4096))
    except OSError:
        first = {}
    pid = first.get("pid")
    if not isinstance(pid, int):
        # refused (busy, malformed) or gone before its child said a word: nobody
        # has read the job, so it runs here
        sock.close()
        return None

    def forward(signum: int, _frame: FrameType | None) -> None:
        try:  # noqa: SIM105 - contextlib is not loaded in this lean process
            os.kill(pid, signum)
        except OSError:
            pass

    signal.signal(signal.SIGTERM, forward)
    try:
        last = _message(reader.readline(4096))
    except OSError:
        last = {}
    finally:
        sock.close()
    code = last.get("exit")
    if isinstance(code, int):
        return code
    sys.stderr.write("ERROR: PageTally: the job's process in the accounting service "
                     "ended without an answer\n")
    sys.stderr.flush()
    return FAILED


def _message(line: bytes) -> dict[str, object]:
    try:
        data = json.loads(line) if line else {}
    except ValueError:
        return {}
    return data if isinstance(data, dict) else {}


def _is_open(fd: int) -> bool:
    """cupsd opens fds 3 and 4 (back and side channels) for backends."""
    try:
        os.fstat(fd)
    except OSError:
        return False
    return True


def _umask() -> int:
    mask = os.umask(0o077)
    os.umask(mask)
    return mask


def main(config_path: str | None = None) -> None:
    """Entry point of the installed backend script."""
    if len(sys.argv) > 1:
        path = service_socket(config_path, os.environ)
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


def backend_script(config_path: str, python: str | None = None) -> str:
    """The installed backend script for this installation and `config_path`."""
    from pathlib import Path

    import pagetally

    folder = str(Path(pagetally.__file__).resolve().parent.parent)
    return BACKEND_SCRIPT.format(python=python or sys.executable, folder=folder,
                                 config=config_path)


if __name__ == "__main__":
    main()
