"""Ports for the servers tests start on 127.0.0.1.

A port found free is released before the server binds it, and on a machine
where many suites run at once another process can take it in between. A server
started in this process binds port 0 itself where it can (and reads the port
back); one that needs its port up front is started through `on_free_port`, which
tries again on another port when the bind finds the address in use. A server
that is another program (PostgreSQL, MariaDB, ippeveprinter) is held the same
way: its starter raises `port_taken(...)` when the program could not bind (its
log says so, or something else answers on the port while it has exited) and
`until_bound` starts it again on another port; a port that answers counts as
bound only while the program is still running.
"""

from __future__ import annotations

import errno
import os
import socket
from collections.abc import Callable
from typing import TypeVar

T = TypeVar("T")


def free_port(kind: int = socket.SOCK_STREAM, host: str = "127.0.0.1") -> int:
    """A port free on `host` (a loopback address) right now (TCP or UDP); nothing
    holds it after."""
    with socket.socket(socket.AF_INET, kind) as sock:
        sock.bind((host, 0))
        port: int = sock.getsockname()[1]
        return port


#: What servers write when their port is taken (PostgreSQL, MariaDB, ippeveprinter, cupsd).
IN_USE = ("Address already in use", "could not bind", "Bind on TCP/IP port", "Unable to bind")


def port_taken(log_text: str) -> bool:
    """The server's log says it could not bind its port."""
    return any(mark in log_text for mark in IN_USE)


def taken_error(what: str, port: int) -> OSError:
    return OSError(errno.EADDRINUSE, f"{what}: port {port} was taken before it could bind it")


def _listening_inodes(port: int) -> set[str]:
    """Socket inodes listening on TCP `port` (IPv4 or IPv6), from /proc/net."""
    found: set[str] = set()
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        try:
            with open(table) as fh:
                next(fh)
                for row in fh:
                    cols = row.split()
                    if cols[3] == "0A" and int(cols[1].rsplit(":", 1)[1], 16) == port:
                        found.add(cols[9])
        except OSError:
            continue
    return found


def _parent(pid: int) -> int:
    try:
        with open(f"/proc/{pid}/stat") as fh:
            return int(fh.read().rsplit(")", 1)[1].split()[1])
    except (OSError, ValueError, IndexError):
        return 0


def listens_for(pid: int, port: int) -> bool:
    """`pid` or a process below it (runuser's child, a forked server) holds the
    socket listening on `port`: the one that answers there is ours, not another
    suite's server that took the port first."""
    inodes = {f"socket:[{i}]" for i in _listening_inodes(port)}
    if not inodes:
        return False
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            fds = os.listdir(f"/proc/{entry}/fd")
            holds = any(os.readlink(f"/proc/{entry}/fd/{fd}") in inodes for fd in fds)
        except OSError:
            continue
        if holds:
            chain = int(entry)
            while chain > 1:
                if chain == pid:
                    return True
                chain = _parent(chain)
    return False


def until_bound(start: Callable[[], T], *, attempts: int = 5) -> T:
    """`start()` (which picks its own free port), again while it raises EADDRINUSE."""
    for attempt in range(attempts):
        try:
            return start()
        except OSError as exc:
            if exc.errno != errno.EADDRINUSE or attempt == attempts - 1:
                raise
    raise AssertionError("unreachable")


def on_free_port(start: Callable[[int], T], *, attempts: int = 5) -> T:
    """`start(port)` on a free port, again on another one if it was taken meanwhile."""
    for attempt in range(attempts):
        try:
            return start(free_port())
        except OSError as exc:
            if exc.errno != errno.EADDRINUSE or attempt == attempts - 1:
                raise
    raise AssertionError("unreachable")
