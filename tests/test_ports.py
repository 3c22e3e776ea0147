"""tests/ports.py: a server program whose port was taken before it bound is
started again on another port, never taken for the one that answers there."""

from __future__ import annotations

import errno
import os
import socket
import subprocess
import sys
from pathlib import Path

import pytest

from tests.ports import free_port, listens_for, port_taken, taken_error, until_bound
from tests.servers import _wait_port

#: A stand-in server: binds its port or writes what a real one writes, and exits.
SERVER = """
import socket, sys, time
s = socket.socket()
try:
    s.bind(("127.0.0.1", int(sys.argv[1])))
except OSError as e:
    print("could not bind IPv4 address: Address already in use", flush=True)
    sys.exit(1)
s.listen()
time.sleep(30)
"""


def _start(tmp_path: Path, port: int) -> subprocess.Popen[bytes]:
    log = tmp_path / f"server-{port}.log"
    with log.open("wb") as out:
        proc = subprocess.Popen(
            [sys.executable, "-c", SERVER, str(port)], stdout=out, stderr=subprocess.STDOUT
        )
    try:
        _wait_port(port, proc, log, timeout=20)
    except BaseException:
        proc.kill()
        proc.wait()
        raise
    return proc


def test_a_taken_port_is_tried_again_elsewhere(tmp_path: Path) -> None:
    holder = socket.socket()
    holder.bind(("127.0.0.1", 0))
    holder.listen()  # someone else's server, answering on the port we were given
    ports = [holder.getsockname()[1]]

    def start() -> tuple[int, subprocess.Popen[bytes]]:
        port = ports.pop() if ports else free_port()
        return port, _start(tmp_path, port)

    try:
        port, proc = until_bound(start)
        assert port != holder.getsockname()[1]
        assert proc.poll() is None  # ours, running, listening there
        proc.kill()
        proc.wait()
    finally:
        holder.close()


def test_the_marks_and_the_error() -> None:
    assert port_taken('LOG:  could not bind IPv4 address "127.0.0.1": Address already in use')
    assert port_taken("[ERROR] Can't start server: Bind on TCP/IP port. Got error: 98")
    assert not port_taken("database system is ready to accept connections")
    assert taken_error("x", 5).errno == errno.EADDRINUSE
    with pytest.raises(OSError, match="boom"):
        until_bound(lambda: (_ for _ in ()).throw(OSError(errno.EACCES, "boom")))


def test_only_our_own_listener_counts(tmp_path: Path) -> None:
    holder = socket.socket()
    holder.bind(("127.0.0.1", 0))
    holder.listen()
    port = holder.getsockname()[1]
    other = subprocess.Popen(["sleep", "30"])  # a process that is not ours' parent
    try:
        assert listens_for(os.getpid(), port)
        assert not listens_for(other.pid, port)
    finally:
        holder.close()
        other.kill()
        other.wait()
    assert not listens_for(os.getpid(), port)
