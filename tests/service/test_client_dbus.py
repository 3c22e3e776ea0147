"""The Linux notification path against a real session bus: a private
`dbus-daemon --session`, a test listener that owns org.freedesktop.Notifications
on it (jeepney, a D-Bus implementation independent of the client's calls: it
answers Notify as a notification server does), and `pagetally-client` run as at
login with that bus in its environment. What the listener receives is what a
desktop would show: the notice's summary and body, the reminder's figures."""

from __future__ import annotations

import os
import queue
import shutil
import subprocess
import sys
import threading
from collections.abc import Iterator
from decimal import Decimal
from typing import Any

import pytest

from pagetally.core.models import Action, Decision, JobFacts
from tests.polling import wait_until
from tests.service.conftest import short_dir
from tests.service.test_notifier import Running, running  # noqa: F401

pytestmark = [pytest.mark.slow, pytest.mark.dbus]

NOTIFICATIONS = "org.freedesktop.Notifications"


class NotificationServer:
    """Owns org.freedesktop.Notifications on the bus; every Notify call's
    arguments go to `calls`, and it answers with an id, as a desktop's does."""

    def __init__(self, address: str, capabilities: tuple[str, ...] = ("body",)) -> None:
        self.capabilities = list(capabilities)
        from jeepney.bus_messages import message_bus
        from jeepney.io.blocking import open_dbus_connection

        self.conn = open_dbus_connection(bus=address)
        reply = self.conn.send_and_get_reply(message_bus.RequestName(NOTIFICATIONS), timeout=10)
        assert reply.body == (1,), reply.body  # primary owner
        self.calls: queue.Queue[tuple[Any, ...]] = queue.Queue()
        self.stopping = threading.Event()
        self.thread = threading.Thread(target=self._serve, daemon=True)
        self.thread.start()

    def _serve(self) -> None:
        from jeepney import HeaderFields, MessageType, new_method_return

        count = 0
        while not self.stopping.is_set():
            try:
                msg = self.conn.receive(timeout=0.2)
            except TimeoutError:
                continue
            except OSError:
                return
            header = msg.header
            if header.message_type is not MessageType.method_call:
                continue
            member = header.fields.get(HeaderFields.member)
            if member == "Notify":
                count += 1
                self.calls.put(tuple(msg.body))
                self.conn.send(new_method_return(msg, "u", (count,)))
            elif member == "GetCapabilities":
                self.conn.send(new_method_return(msg, "as", (self.capabilities,)))

    def stop(self) -> None:
        self.stopping.set()
        self.thread.join(5)
        self.conn.close()


@pytest.fixture
def session_bus() -> Iterator[str]:
    if shutil.which("dbus-daemon") is None:
        pytest.fail("dbus-daemon is not installed (scripts/apt-packages.txt: dbus)")
    folder = short_dir()
    address = f"unix:path={folder / 'bus'}"
    daemon = subprocess.Popen(
        [
            "dbus-daemon",
            "--session",
            "--nofork",
            "--nopidfile",
            f"--address={address}",
            "--print-address",
        ],
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert daemon.stdout is not None
        assert daemon.stdout.readline().startswith("unix:path=")  # listening
        yield address
    finally:
        daemon.terminate()
        daemon.wait(10)
        shutil.rmtree(folder, ignore_errors=True)


def client(running: Running, address: str, *argv: str) -> subprocess.Popen[str]:  # noqa: F811
    assert running.hub.port is not None
    env = {
        **os.environ,
        "PAGETALLY_TOKEN": running.tokens["alice"],
        "DBUS_SESSION_BUS_ADDRESS": address,
    }
    return subprocess.Popen(
        [
            sys.executable,
            "-m",
            "pagetally_client",
            "--server",
            f"127.0.0.1:{running.hub.port}",
            *argv,
        ],
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=env,
    )


def test_notices_on_the_session_bus(running: Running, session_bus: str) -> None:  # noqa: F811
    server = NotificationServer(session_bus)
    proc = client(running, session_bus, "run", "--once", "--remind")
    try:
        # the login reminder (pykosd): balance and quota left
        app, replaces, _icon, summary, body, actions, hints, expire = server.calls.get(timeout=30)
        assert (app, replaces, summary, actions, expire) == (
            "pagetally-client",
            0,
            "PageTally — alice",
            [],
            -1,
        )
        assert body == "Balance 12.50\nlab: 120 page(s) left"
        assert hints["urgency"] == ("y", 1)
        wait_until(lambda: running.hub.clients.get("alice"), "alice's client is registered")
        facts = JobFacts(user="alice", printer="lab", pages=2, job_id="9", title="a.pdf")
        running.dialogs("alice").refused(
            facts, Decision(Action.DENY, "print quota reached on lab", code="hard_limit")
        )
        call = server.calls.get(timeout=30)
        assert call[3:5] == ("Job refused on lab", "print quota reached on lab")
        assert call[6]["urgency"] == ("y", 2)  # a refusal is urgent
        running.dialogs("alice").printed(facts, 2, "0.20", "12.30")
        assert server.calls.get(timeout=30)[3:5] == (
            "Printed on lab",
            "2 page(s), 0.20; balance left 12.30",
        )
    finally:
        proc.terminate()
        proc.wait(10)
        server.stop()
    assert proc.stdout is not None
    out = proc.stdout.read()
    assert "registered as alice" in out
    assert "quota reached" not in out  # shown on the desktop, not in the terminal


def test_markup_is_escaped_for_a_server_that_reads_it(running: Running, session_bus: str) -> None:  # noqa: F811
    server = NotificationServer(session_bus, ("body", "body-markup"))
    proc = client(running, session_bus, "run", "--once")
    try:
        wait_until(lambda: running.hub.clients.get("alice"), "alice's client is registered")
        facts = JobFacts(user="alice", printer="lab", pages=1, job_id="3", title="t")
        running.dialogs("alice").refused(
            facts, Decision(Action.DENY, "title <b>x</b> & <a href='http://e.x'>y</a>", code="x")
        )
        body = server.calls.get(timeout=30)[4]
        assert body == "title &lt;b&gt;x&lt;/b&gt; &amp; &lt;a href='http://e.x'&gt;y&lt;/a&gt;"
    finally:
        proc.terminate()
        proc.wait(10)
        server.stop()


def test_remind_on_demand(running: Running, session_bus: str) -> None:  # noqa: F811
    server = NotificationServer(session_bus)
    try:
        proc = client(running, session_bus, "remind")
        assert proc.wait(30) == 0
        summary, body = server.calls.get(timeout=10)[3:5]
        assert summary == "PageTally — alice"
        assert body.startswith(f"Balance {Decimal('12.50')}")
    finally:
        server.stop()


def test_no_notification_server_falls_back_to_the_terminal(
    running: Running,  # noqa: F811
    session_bus: str,
) -> None:
    proc = client(running, session_bus, "remind")
    assert proc.wait(30) == 0
    assert proc.stdout is not None
    out = proc.stdout.read()
    assert "* PageTally — alice: Balance 12.50 | lab: 120 page(s) left" in out
    assert "desktop notification failed" in out
