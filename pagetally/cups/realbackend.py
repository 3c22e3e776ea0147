"""Step 5: run the real backend (`$CUPS_SERVERBIN/backend/<scheme>`).

Same argv (argv[0] is the real device URI, as cupsd sets it), DEVICE_URI without
our prefix, the job on standard input (or the file in argv for raw queues). Its
stderr lines go on to cupsd unchanged; `PAGE:` lines are also counted, since
CUPS' own ipp backend reports the printer's page count that way.
"""

from __future__ import annotations

import os
import subprocess
from collections.abc import Callable
from dataclasses import dataclass

from pagetally.cups.ticket import JobTicket
from pagetally.errors import PageTallyError


class RealBackendMissing(PageTallyError):
    """The backend for the real device URI's scheme is not installed."""


@dataclass(frozen=True, slots=True)
class BackendRun:
    exit_code: int
    page_total: int | None  # from `PAGE: total N` lines, when the backend sent any
    page_lines: int  # `PAGE: n copies` lines seen (older backends count this way)


def backend_path(ticket: JobTicket) -> str:
    scheme = ticket.scheme
    if not scheme or "/" in scheme or scheme.startswith("."):
        raise RealBackendMissing(f"bad device URI scheme {scheme!r}")
    path = os.path.join(ticket.serverbin, "backend", scheme)
    if not os.access(path, os.X_OK):
        raise RealBackendMissing(f"no CUPS backend for {scheme!r} at {path}")
    return path


def run_real_backend(
    ticket: JobTicket,
    data_path: str,
    relay: Callable[[str], None],
) -> BackendRun:
    """Run the real backend to completion, relaying its stderr line by line."""
    path = backend_path(ticket)
    env = dict(ticket.env)
    env["DEVICE_URI"] = ticket.device_uri
    argv = [ticket.device_uri, ticket.job_id, ticket.user, ticket.title,
            str(ticket.copies), _join_options(ticket.options)]
    if ticket.file:
        argv.append(ticket.file)
    page_total: int | None = None
    page_lines = 0
    with open(data_path, "rb") as stdin:
        proc = subprocess.Popen(  # argument list, never a shell
            argv, executable=path, stdin=stdin if not ticket.file else subprocess.DEVNULL,
            stderr=subprocess.PIPE, env=env, close_fds=True,
        )
        assert proc.stderr is not None
        for raw in proc.stderr:
            line = raw.decode("utf-8", "replace")
            relay(line)
            if line.startswith("PAGE:"):
                words = line[5:].split()
                if len(words) == 2 and words[0] == "total" and words[1].isdigit():
                    page_total = int(words[1])
                elif len(words) == 2 and all(w.isdigit() for w in words):
                    page_lines += int(words[1])
        code = proc.wait()
    return BackendRun(code, page_total, page_lines)


def _join_options(options: dict[str, str]) -> str:
    """Re-quote options the way cupsd writes them (values with spaces quoted)."""
    parts = []
    for name, value in options.items():
        if any(c.isspace() or c in "'\"\\" for c in value):
            value = "'" + value.replace("\\", "\\\\").replace("'", "\\'") + "'"
        parts.append(f"{name}={value}")
    return " ".join(parts)
