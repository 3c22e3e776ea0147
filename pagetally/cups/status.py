"""What the backend says to cupsd: exit codes and stderr message lines.

Exit codes are CUPS' backend conventions (cups/backend.h). Message lines are read
by cupsd: `INFO:` sets the printer-state-message (what `lpstat -l` and the web
page show), `ERROR:` is logged, `PAGE:` counts pages, `ATTR:` sets attributes.
"""

from __future__ import annotations

import enum
from typing import TextIO


class BackendExit(enum.IntEnum):
    OK = 0  # job done (a refused job too: the queue must not stop for it)
    FAILED = 1  # job failed; cupsd applies the queue's error policy
    AUTH_REQUIRED = 2
    HOLD = 3  # hold the job
    STOP = 4  # stop the queue
    CANCEL = 5  # cancel the job
    RETRY = 6  # retry the job later
    RETRY_CURRENT = 7  # retry the job now


def clean(text: str, limit: int = 1000) -> str:
    """One line, printable, bounded: client text (titles, user names) cannot
    inject further message lines into cupsd's channel."""
    flat = "".join(ch if ch.isprintable() else " " for ch in text)
    return flat[:limit]


class Messages:
    """Writes cupsd message lines to a stream (stderr in production)."""

    def __init__(self, stream: TextIO) -> None:
        self.stream = stream

    def _line(self, prefix: str, text: str) -> None:
        self.stream.write(f"{prefix}: {clean(text)}\n")
        self.stream.flush()

    def info(self, text: str) -> None:
        self._line("INFO", text)

    def error(self, text: str) -> None:
        self._line("ERROR", text)

    def warning(self, text: str) -> None:
        self._line("WARNING", text)

    def debug(self, text: str) -> None:
        self._line("DEBUG", text)

    def page(self, total: int) -> None:
        self._line("PAGE", f"total {total}")

    def attr(self, name: str, value: str) -> None:
        self._line("ATTR", f"{name}={value}")

    def relay(self, raw: str) -> None:
        """Pass a line from the real backend through unchanged (it is cupsd's)."""
        self.stream.write(raw if raw.endswith("\n") else raw + "\n")
        self.stream.flush()
