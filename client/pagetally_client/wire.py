"""The connection to the print server's notifier: JSON lines over TCP, TLS
unless the server is on this machine's loopback (settings.py decides)."""

from __future__ import annotations

import contextlib
import json
import socket
import ssl
from typing import Any

from pagetally_client.settings import Settings

MAX_LINE = 65536


class Refused(Exception):
    """The server refused the client (a wrong token...): its message."""


def _keep_alive(sock: socket.socket) -> None:
    """A server gone without closing (a network change, a suspend) is noticed in
    about 90 s, and `run` reconnects."""
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_KEEPALIVE, 1)
    for name, value in (("TCP_KEEPIDLE", 60), ("TCP_KEEPINTVL", 10), ("TCP_KEEPCNT", 3)):
        option = getattr(socket, name, None)  # not on every platform (older macOS)
        if option is not None:
            with contextlib.suppress(OSError):
                sock.setsockopt(socket.IPPROTO_TCP, option, value)


class Connection:
    def __init__(self, settings: Settings, timeout: float = 10.0) -> None:
        raw = socket.create_connection((settings.host, settings.port), timeout=timeout)
        _keep_alive(raw)
        sock: socket.socket = raw
        if settings.tls:
            context = ssl.create_default_context(cafile=settings.cafile)
            sock = context.wrap_socket(raw, server_hostname=settings.host)
        self.sock = sock
        self.file = sock.makefile("rb")
        self.user = ""
        self.host = ""
        self.send({"op": "hello", "token": settings.token, "client": "pagetally-client/0.1"})
        welcome = self.receive()
        if welcome is None or welcome.get("op") != "welcome":
            message = (welcome or {}).get("message", "the server closed the connection")
            self.close()
            raise Refused(str(message))
        self.user, self.host = str(welcome.get("user")), str(welcome.get("host"))
        sock.settimeout(None)

    def send(self, message: dict[str, Any]) -> None:
        self.sock.sendall(json.dumps(message).encode() + b"\n")

    def receive(self) -> dict[str, Any] | None:
        """The next message (None: the connection ended)."""
        while True:
            line = self.file.readline(MAX_LINE)
            if not line:
                return None
            try:
                message = json.loads(line)
            except ValueError:
                continue
            if isinstance(message, dict):
                return message

    def close(self) -> None:
        try:
            self.file.close()
        finally:
            self.sock.close()
