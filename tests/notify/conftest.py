"""A real SMTP server (aiosmtpd) on 127.0.0.1 that keeps what it receives, and a
listening socket that only counts connection attempts."""

from __future__ import annotations

import email
import email.policy
import socket
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from email.message import EmailMessage
from typing import Any

import pytest
from aiosmtpd.controller import Controller

from tests.ports import on_free_port


@dataclass
class Received:
    sender: str
    recipients: list[str]
    message: EmailMessage

    @property
    def subject(self) -> str:
        return str(self.message["Subject"])

    @property
    def body(self) -> str:
        part = self.message.get_body(("plain",))
        assert part is not None
        return str(part.get_content()).replace("\r\n", "\n")  # type: ignore[attr-defined]


@dataclass
class SmtpServer:
    port: int
    received: list[Received] = field(default_factory=list)
    refuse: set[str] = field(default_factory=set)  # recipients answered 550
    reject_data: set[str] = field(default_factory=set)  # recipients whose DATA gets 554
    lock: threading.Lock = field(default_factory=threading.Lock)

    @property
    def address(self) -> str:
        return f"127.0.0.1:{self.port}"

    def to(self, address: str) -> list[Received]:
        return [r for r in self.received if address in r.recipients]


class _Handler:
    def __init__(self, server: SmtpServer) -> None:
        self.server = server

    async def handle_RCPT(
        self, server: Any, session: Any, envelope: Any, address: str, options: Any
    ) -> str:
        if address in self.server.refuse:
            return "550 no such user here"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        if set(envelope.rcpt_tos) & self.server.reject_data:
            return "554 5.7.1 message looks like spam"
        msg = email.message_from_bytes(envelope.content, policy=email.policy.default)
        assert isinstance(msg, EmailMessage)
        with self.server.lock:
            self.server.received.append(Received(envelope.mail_from, list(envelope.rcpt_tos), msg))
        return "250 Message accepted"


@pytest.fixture
def smtp_server() -> Iterator[SmtpServer]:
    def start(port: int) -> tuple[SmtpServer, Controller]:
        server = SmtpServer(port)
        controller = Controller(_Handler(server), hostname="127.0.0.1", port=port)
        controller.start()  # raises the bind's "address in use"
        return server, controller

    server, controller = on_free_port(start)
    try:
        yield server
    finally:
        controller.stop()


@dataclass
class Listener:
    """A bound, listening socket nobody answers on: connections queue up and
    `attempts()` counts them without completing any SMTP exchange."""

    sock: socket.socket
    port: int

    @property
    def address(self) -> str:
        return f"127.0.0.1:{self.port}"

    def attempts(self) -> int:
        count = 0
        self.sock.setblocking(False)
        while True:
            try:
                conn, _ = self.sock.accept()
            except BlockingIOError:
                return count
            conn.close()
            count += 1


@pytest.fixture
def listener() -> Iterator[Listener]:
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    sock.listen(16)
    try:
        yield Listener(sock, int(sock.getsockname()[1]))
    finally:
        sock.close()
