"""Ports for the servers tests start on 127.0.0.1.

A port found free is released before the server binds it, and on a machine
where many suites run at once another process can take it in between. A server
started in this process binds port 0 itself where it can (and reads the port
back); one that needs its port up front is started through `on_free_port`, which
tries again on another port when the bind finds the address in use.
"""

from __future__ import annotations

import errno
import socket
from collections.abc import Callable
from typing import TypeVar

T = TypeVar("T")


def free_port(kind: int = socket.SOCK_STREAM) -> int:
    """A port free on 127.0.0.1 right now (TCP or UDP); nothing holds it after."""
    with socket.socket(socket.AF_INET, kind) as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def on_free_port(start: Callable[[int], T], *, attempts: int = 5) -> T:
    """`start(port)` on a free port, again on another one if it was taken meanwhile."""
    for attempt in range(attempts):
        try:
            return start(free_port())
        except OSError as exc:
            if exc.errno != errno.EADDRINUSE or attempt == attempts - 1:
                raise
    raise AssertionError("unreachable")
