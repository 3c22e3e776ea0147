"""The notifier hub with real parts: a migrated SQLite store holding webapi's API
tokens, the hub on 127.0.0.1 (and a Unix socket for backends), pagetally-client's
own connection code, and the backend's side (cups/dialogs.Dialogs).

What users see: a client registers as its token's user; notices and questions
reach only that user's clients on the job's host; a wrong token, or too many,
get nothing; a question nobody answers takes its default without waiting for a
missing client; the status view holds the user's own figures only."""

from __future__ import annotations

import queue
import shutil
import subprocess
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from pagetally_client.settings import Settings
from pagetally_client.wire import Connection, Refused

from pagetally.core.dialogs import Answer, Kind, Question, Source
from pagetally.core.models import Action, Decision, JobFacts, LimitBy, PriceTable, Printer, User
from pagetally.core.tokens import TokenRole
from pagetally.cups.dialogs import Dialogs
from pagetally.service import notifier as hubmod
from pagetally.service.notifier import Hub, NotifierSettings
from pagetally.service.notifier_store import status_reader, verifier
from pagetally.storage import StoreSettings, open_store
from pagetally.storage.sql import SqlStore
from tests.polling import wait_until
from tests.service.conftest import short_dir
from tests.sqlite_store import migrated_sqlite

NOW = datetime(2026, 12, 3, 12, 0, tzinfo=UTC)


@dataclass
class Running:
    hub: Hub
    store: SqlStore
    socket: str
    tokens: dict[str, str]

    def settings(self, user: str) -> Settings:
        assert self.hub.port is not None
        return Settings("127.0.0.1", self.hub.port, self.tokens.get(user, user), tls=False)

    def dialogs(self, user: str, host: str = "localhost", **kw: Any) -> Dialogs:
        return Dialogs(self.socket, user, host, **kw)


@pytest.fixture
def running(tmp_path: Path) -> Iterator[Running]:
    store = open_store(
        StoreSettings(backend="sqlite", name=str(migrated_sqlite(tmp_path / "p.db")))
    )
    assert isinstance(store, SqlStore)
    store.add_printer(Printer("lab", prices=PriceTable(per_page=Decimal("0.10"))))
    tokens = {}
    for name, balance in (("alice", "12.50"), ("bob", "3.00")):
        store.add_user(User(name, limit_by=LimitBy.BALANCE, balance=Decimal(balance)))
        store.set_user_quota(name, "lab", soft_limit=100, hard_limit=120)
        tokens[name] = store.add_api_token(name, TokenRole.USER, NOW)[1]
    run = short_dir()
    path = str(run / "notify.sock")
    hub = Hub(NotifierSettings(("127.0.0.1", 0), path), verifier(store), status_reader(store))
    hub.start()
    try:
        yield Running(hub, store, path, tokens)
    finally:
        hub.stop()
        store.close()
        shutil.rmtree(run, ignore_errors=True)


class Listening:
    """A registered client, its messages collected by a thread."""

    def __init__(self, conn: Connection) -> None:
        self.conn = conn
        self.messages: queue.Queue[dict[str, Any]] = queue.Queue()
        threading.Thread(target=self._read, daemon=True).start()

    def _read(self) -> None:
        try:
            while (m := self.conn.receive()) is not None:
                self.messages.put(m)
        except OSError:
            pass

    def next(self, timeout: float = 10) -> dict[str, Any]:
        return self.messages.get(timeout=timeout)

    def all(self) -> list[dict[str, Any]]:
        out = []
        while not self.messages.empty():
            out.append(self.messages.get())
        return out


def registered(running: Running, user: str) -> Listening:
    client = Listening(Connection(running.settings(user)))
    wait_until(
        lambda: any(c.user == user for c in running.hub.clients.get(user, ())),
        f"{user}'s client is registered",
    )
    return client


def facts(user: str = "alice") -> JobFacts:
    return JobFacts(
        user=user, printer="lab", pages=3, job_id="7", title="report.pdf", host="localhost"
    )


def test_notices_reach_only_the_users_own_clients(running: Running) -> None:
    alice, bob = registered(running, "alice"), registered(running, "bob")
    assert alice.conn.user == "alice" and bob.conn.user == "bob"
    running.dialogs("alice").refused(
        facts(), Decision(Action.DENY, "balance too low: 0.20 needed, 0.10 left", code="balance")
    )
    notice = alice.next()
    assert notice["op"] == "notice" and notice["kind"] == "refused"
    assert notice["title"] == "Job refused on lab"
    assert notice["body"] == "balance too low: 0.20 needed, 0.10 left"
    running.dialogs("alice").printed(facts(), 3, "0.30 EUR", "12.20 EUR")
    assert alice.next()["body"] == "3 page(s), 0.30 EUR; balance left 12.20 EUR"
    bob.conn.send({"op": "ping"})  # bob's connection works, and got nothing of alice's
    assert bob.next() == {"op": "pong"}
    assert bob.all() == []


def test_wrong_and_other_tokens_get_nothing(running: Running) -> None:
    with pytest.raises(Refused, match="token refused"):
        Connection(running.settings("ptk_" + "x" * 43))
    bob = registered(running, "bob")  # bob's own token: bob, never alice
    running.dialogs("alice").printed(facts(), 3, "0.30 EUR", "12.20 EUR")
    question = Question(Kind.CONFIRM, "print it?", ("yes", "no"), 5)
    assert running.dialogs("alice").ask(question) == (None, Source.NO_CLIENT)
    bob.conn.send({"op": "ping"})
    assert bob.next() == {"op": "pong"}  # and nothing about alice before it


def test_failed_registrations_are_rate_limited(running: Running) -> None:
    for _ in range(hubmod.FAILED_HELLOS):
        with pytest.raises(Refused, match="token refused"):
            Connection(running.settings("ptk_" + "y" * 43))
    with pytest.raises(Refused, match="too many failed registrations"):
        Connection(running.settings("alice"))  # even the right token, for a minute


def test_question_answered_by_the_client(running: Running) -> None:
    alice = registered(running, "alice")
    result: list[Decision | None] = []
    dialogs = running.dialogs("alice", confirm_over=Decimal(0), confirm_default="no")
    asking = threading.Thread(
        target=lambda: result.append(
            dialogs.confirm(facts(), Decision(Action.ALLOW, price=Decimal("0.30")), "0.30 EUR")
        )
    )
    asking.start()
    question = alice.next()
    assert question["op"] == "question" and question["choices"] == ["yes", "no"]
    assert question["text"] == "'report.pdf' on lab: 3 page(s), 0.30 EUR. Print it?"
    alice.conn.send({"op": "answer", "id": question["id"], "value": "y"})
    asking.join(10)
    assert result == [None]  # print it
    assert dialogs.answers == [Answer(Kind.CONFIRM, "yes", Source.CLIENT)]


def test_question_nobody_answers_takes_the_default(running: Running) -> None:
    alice = registered(running, "alice")
    dialogs = running.dialogs("alice", confirm_over=Decimal(0), confirm_default="no", timeout=0.5)
    declined = dialogs.confirm(facts(), Decision(Action.ALLOW, price=Decimal(1)), "1.00")
    assert declined is not None and declined.action is Action.CANCEL
    assert declined.reason == "cancelled: no answer within 0.5 s (clientconfirmdefault: no)"
    assert alice.next()["op"] == "question"
    assert alice.next()["op"] == "withdrawn"  # the client stops asking
    # no client on the job's host: the default at once, without waiting the timeout
    away = running.dialogs("alice", host="192.0.2.7", confirm_over=Decimal(0), timeout=20)
    assert away.confirm(facts(), Decision(Action.ALLOW), "0") is None  # default yes
    assert away.answers == [Answer(Kind.CONFIRM, "yes", Source.NO_CLIENT)]
    assert away.waited < 5


def test_no_service_takes_the_defaults_at_once(tmp_path: Path) -> None:
    dialogs = Dialogs(
        str(tmp_path / "none.sock"),
        "alice",
        "localhost",
        confirm_over=Decimal(0),
        confirm_default="no",
        billing_code="always",
        billing_default="TEACH",
    )
    declined = dialogs.confirm(facts(), Decision(Action.ALLOW), "0")
    assert declined is not None
    assert "the notifier service is not running" in declined.reason
    assert dialogs.billing(facts()) == "TEACH"
    assert [a.source for a in dialogs.answers] == [Source.UNREACHABLE, Source.UNREACHABLE]


def test_billing_code_and_pin_questions(running: Running) -> None:
    alice = registered(running, "alice")
    dialogs = running.dialogs(
        "alice",
        billing_code="missing",
        billing_codes=("PHYS", "CHEM"),
        billing_default="GEN",
        pin=True,
    )
    got: list[str | None] = []
    asking = threading.Thread(
        target=lambda: got.extend((dialogs.billing(facts()), dialogs.pin_secret("lab")))
    )
    asking.start()
    question = alice.next()
    assert question["kind"] == "billingcode" and question["choices"] == ["PHYS", "CHEM"]
    alice.conn.send({"op": "answer", "id": question["id"], "value": "CHEM"})
    question = alice.next()
    assert question["kind"] == "pin" and question["choices"] == []
    alice.conn.send({"op": "answer", "id": question["id"], "value": "4711"})
    asking.join(10)
    assert got == ["CHEM", "4711"]
    running.store.record_job_answers(facts(), dialogs.answers, NOW)
    assert running.store.job_answers("lab", "7") == [
        Answer(Kind.BILLING_CODE, "CHEM", Source.CLIENT),
        Answer(Kind.PIN, "given", Source.CLIENT),
    ]  # the PIN itself is never kept


def test_status_is_the_users_own(running: Running) -> None:
    alice = registered(running, "alice")
    alice.conn.send({"op": "status", "user": "bob"})  # asking for bob's: alice's comes
    status = alice.next()
    assert status["op"] == "status" and status["user"] == "alice"
    assert status["balance"] == "12.50"
    assert status["quotas"] == [
        {"printer": "lab", "used": 0, "soft": 100, "hard": 120, "left": 120}
    ]
    alice.conn.send({"op": "status"})  # at once again: too often
    assert "too often" in alice.next()["message"]


def test_network_address_needs_tls(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="needs notifiercert"):
        Hub(NotifierSettings(("0.0.0.0", 0), None), lambda t: None, lambda u: {})


def test_tls_when_configured(running: Running, tmp_path: Path) -> None:
    cert, key = tmp_path / "cert.pem", tmp_path / "key.pem"
    subprocess.run(
        [
            "openssl",
            "req",
            "-x509",
            "-newkey",
            "ec",
            "-pkeyopt",
            "ec_paramgen_curve:prime256v1",
            "-nodes",
            "-days",
            "1",
            "-subj",
            "/CN=localhost",
            "-addext",
            "subjectAltName=IP:127.0.0.1",
            "-keyout",
            str(key),
            "-out",
            str(cert),
        ],
        check=True,
        capture_output=True,
    )
    hub = Hub(
        NotifierSettings(("127.0.0.1", 0), None, str(cert), str(key)),
        verifier(running.store),
        status_reader(running.store),
    )
    hub.start()
    try:
        assert hub.port is not None
        settings = Settings(
            "127.0.0.1", hub.port, running.tokens["alice"], tls=True, cafile=str(cert)
        )
        conn = Connection(settings)
        assert conn.user == "alice"
        conn.close()
        with pytest.raises((OSError, Refused)):  # no TLS: the server says nothing
            Connection(
                Settings("127.0.0.1", hub.port, running.tokens["alice"], tls=False), timeout=3
            )
    finally:
        hub.stop()


def test_a_client_asking_too_often_is_slowed_but_its_answers_count(running: Running) -> None:
    alice = registered(running, "alice")
    for _ in range(hubmod.REQUESTS_BURST + 5):
        alice.conn.send({"op": "ping"})
    replies = [alice.next() for _ in range(hubmod.REQUESTS_BURST + 5)]
    assert replies.count({"op": "pong"}) <= hubmod.REQUESTS_BURST + 1
    assert {"op": "error", "message": "too many requests: slow down"} in replies
    # answers to the hub's own questions are never limited: the job is not held
    dialogs = running.dialogs("alice", confirm_over=Decimal(0), confirm_default="no")
    result: list[Decision | None] = []
    asking = threading.Thread(
        target=lambda: result.append(dialogs.confirm(facts(), Decision(Action.ALLOW), "0"))
    )
    asking.start()
    question = alice.next()
    alice.conn.send({"op": "answer", "id": question["id"], "value": "yes"})
    asking.join(10)
    assert result == [None]
    assert dialogs.answers[0].source is Source.CLIENT


@pytest.mark.slow
def test_pagetally_serve_runs_the_hub(running: Running, tmp_path: Path) -> None:
    """`pagetally serve` with `notifierlisten`: a client registers and reads its
    status; the backends' socket answers."""
    import os
    import sys

    from tests.ports import free_port

    run = short_dir()
    port = free_port()
    conf = tmp_path / "pagetally.conf"
    conf.write_text(
        "[global]\nstoragebackend: sqlite\n"
        f"storagename: {running.store.settings.name}\n"
        f"accountingservice: {run / 's.sock'}\n"
        f"notifierservice: {run / 'n.sock'}\n"
        f"notifierlisten: 127.0.0.1:{port}\ncurrency: EUR\n"
    )
    proc = subprocess.Popen(
        [sys.executable, "-m", "pagetally.cli.main", "-C", str(conf), "serve", "--no-jobs"],
        stderr=subprocess.PIPE,
    )
    try:
        wait_until(
            lambda: (run / "s.sock").exists() or proc.poll() is not None, "pagetally serve listens"
        )
        assert proc.poll() is None
        shown = subprocess.run(
            [sys.executable, "-m", "pagetally_client", "--server", f"127.0.0.1:{port}", "status"],
            capture_output=True,
            text=True,
            timeout=60,
            env={**os.environ, "PAGETALLY_TOKEN": running.tokens["alice"]},
        )
        assert shown.returncode == 0, shown.stderr
        assert "Balance: 12.50 EUR   (limited by balance)" in shown.stdout
        dialogs = Dialogs(str(run / "n.sock"), "alice", "localhost")
        assert dialogs.ask(Question(Kind.CONFIRM, "?", (), 5)) == (None, Source.NO_CLIENT)
    finally:
        proc.terminate()
        proc.wait(30)
        shutil.rmtree(run, ignore_errors=True)


def test_running_low_notice_and_notices_off(running: Running) -> None:
    alice = registered(running, "alice")
    warn = Decision(Action.WARN, "your balance is low: 0.40 EUR left", code="poor")
    running.dialogs("alice").running_low(facts(), warn)
    notice = alice.next()
    assert (notice["kind"], notice["title"], notice["body"]) == (
        "low",
        "Running low",
        "your balance is low: 0.40 EUR left",
    )
    running.dialogs("alice").running_low(facts(), Decision(Action.ALLOW))  # not low
    running.dialogs("alice", notices=False).refused(facts(), warn)  # clientnotices: no
    alice.conn.send({"op": "ping"})
    assert alice.next() == {"op": "pong"}


def test_client_limits(running: Running, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(hubmod, "MAX_PER_USER", 2)
    registered(running, "alice")
    registered(running, "alice")
    with pytest.raises(Refused, match="at most 2 clients per user"):
        Connection(running.settings("alice"))
    running.hub.settings = NotifierSettings(("127.0.0.1", 0), running.socket, max_clients=2)
    with pytest.raises(Refused, match="serves as many clients as it may"):
        Connection(running.settings("bob"))


def test_connections_are_kept_alive(running: Running) -> None:
    """A client gone without closing is dropped by TCP keep-alive, and the
    client notices a server gone the same way."""
    import socket

    alice = registered(running, "alice")
    server_side = running.hub.clients["alice"][0].writer.get_extra_info("socket")
    for sock in (server_side, alice.conn.sock):
        assert sock.getsockopt(socket.SOL_SOCKET, socket.SO_KEEPALIVE) == 1
        assert sock.getsockopt(socket.IPPROTO_TCP, socket.TCP_KEEPIDLE) == 60
