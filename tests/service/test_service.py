"""The accounting service against a real SQLite store: calls, errors, shutdown."""

from __future__ import annotations

import os
import socket
import stat
import subprocess
import sys
import time
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path

import pytest

from pagetally.core.models import (
    Action,
    BillingCode,
    ChargeRequest,
    Decision,
    JobFacts,
)
from pagetally.errors import (
    AlreadyExists,
    ConfigError,
    NotFound,
    StoreUnavailable,
)
from pagetally.service.client import RemoteStore, connect
from pagetally.service.protocol import MAX_LINE
from pagetally.service.server import AccountingService
from tests.service.conftest import Served, short_dir

NOW = datetime(2026, 11, 24, 12, 0, tzinfo=UTC)


def charge_request(job_id: str, pages: int = 3, user: str = "alice") -> ChargeRequest:
    return ChargeRequest(
        facts=JobFacts(
            user=user,
            printer="lab",
            pages=pages,
            job_id=job_id,
            job_uuid=f"urn:uuid:{job_id}",
            host="pc1",
            title="t; $(x)",
            ink={"black": 12.5},
        ),
        decision=Decision(
            Action.ALLOW, "ok", Decimal("0.10") * pages, pages, user_date_limits={"lab": NOW}
        ),
        date=NOW,
    )


def remote(served: Served) -> RemoteStore:
    store = connect(served.socket, timeout=10)
    assert store is not None
    return store


def raw_exchange(path: str, data: bytes) -> bytes:
    with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as sock:
        sock.settimeout(10)
        sock.connect(path)
        sock.sendall(data)
        chunks = []
        while chunk := sock.recv(65536):
            chunks.append(chunk)
            if chunk.endswith(b"\n"):
                break
        return b"".join(chunks)


def test_snapshot_is_the_stores_snapshot(served: Served) -> None:
    with remote(served) as store:
        assert store.ping()["version"] == "1"
        got = store.snapshot("alice", "lab", None)
    assert got == served.store.snapshot("alice", "lab", None)
    assert got.user is not None and got.user.balance == Decimal("100.00")
    assert got.user_quotas["lab"].page_counter == 0


def test_charge_round_trip_changes_balance_once(served: Served) -> None:
    with remote(served) as store:
        result = store.charge(charge_request("1"))
        again = store.charge(charge_request("1"))  # a retried job
    assert (result.already_charged, again.already_charged) == (False, True)
    assert result.balance_after == Decimal("99.70")
    assert result.job.title == "t; $(x)" and result.job.price == Decimal("0.30")
    assert served.store.get_user("alice").balance == Decimal("99.70")
    quota = served.store.get_user_quota("alice", "lab")
    assert quota.page_counter == 3 and quota.date_limit == NOW
    [row] = list(served.store.history())
    assert (row.action, row.pages, row.host) == (Action.ALLOW, 3, "pc1")


def test_errors_come_back_as_their_own_class(served: Served) -> None:
    with remote(served) as store:
        created = store.add_billing_code(BillingCode("proj-1", description="a"))
        assert created.code == "proj-1" and created.id is not None
        with pytest.raises(AlreadyExists) as exists:
            store.add_billing_code(BillingCode("proj-1"))
        assert str(exists.value) == "billing code 'proj-1' already exists"
        assert (exists.value.kind, exists.value.name) == ("billing code", "proj-1")
        with pytest.raises(NotFound, match="user 'mallory' does not exist") as missing:
            store.get_user("mallory")
        assert missing.value.name == "mallory"
        # the connection is still good after errors
        assert store.get_billing_code("proj-1").description == "a"
        assert [p.name for p in store.printer_chain("lab")] == ["lab"]


def test_account_creation_calls(served: Served) -> None:
    from pagetally.core.models import User

    with remote(served) as store:
        store.add_user(User("bob", balance=Decimal("2")))
        quota = store.set_user_quota("bob", "lab", soft_limit=5, hard_limit=10)
        assert (quota.soft_limit, quota.hard_limit) == (5, 10)
        assert store.groups_of("bob") == []
    assert served.store.get_user("bob").balance == Decimal("2")


@pytest.mark.parametrize(
    ("line", "expected"),
    [
        (b"not json\n", "not a JSON request"),
        (b'{"op": "delete_user", "args": {"name": "alice"}}\n', "unknown operation 'delete_user'"),
        (b'{"op": "get_user", "args": {"name": "alice", "x": 1}}\n', "unknown argument"),
        (b'{"op": "get_user", "args": []}\n', "'args' must be an object"),
        (b'{"op": "charge", "args": {"request": {"facts": 1}}}\n', "bad arguments"),
    ],
)
def test_malformed_requests_are_refused(served: Served, line: bytes, expected: str) -> None:
    answer = raw_exchange(served.socket, line)
    assert b'"type": "InvalidInput"' in answer and expected.encode() in answer
    assert served.store.get_user("alice").balance == Decimal("100.00")


def test_overlong_request_is_refused_and_closed(served: Served) -> None:
    answer = raw_exchange(served.socket, b'{"op": "ping", "pad": "' + b"x" * (MAX_LINE + 10))
    assert b"InvalidInput" in answer and b"longer than" in answer


def test_connect_without_service_is_none(tmp_path: Path) -> None:
    assert connect(str(tmp_path / "absent.sock")) is None
    assert connect("none") is None
    stale = short_dir() / "stale.sock"
    with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as sock:
        sock.bind(str(stale))  # a socket file nobody listens on
    assert connect(str(stale)) is None


def test_service_gone_mid_session_is_store_unavailable(served: Served) -> None:
    store = remote(served)
    assert store.get_user("alice").name == "alice"
    served.service.stop()
    assert not Path(served.socket).exists()
    with pytest.raises(StoreUnavailable, match="accounting service"):
        store.snapshot("alice", "lab")
    with pytest.raises(StoreUnavailable):
        store.charge(charge_request("2"))
    assert connect(served.socket) is None


def test_socket_is_private_and_place_checked(served: Served) -> None:
    mode = os.stat(served.socket).st_mode
    assert stat.S_ISSOCK(mode) and stat.S_IMODE(mode) == 0o600
    with pytest.raises(ConfigError, match="already listens"):
        AccountingService(served.store, served.socket).start()
    shared = short_dir()
    shared.chmod(0o777)
    with pytest.raises(ConfigError, match="writable by others"):
        AccountingService(served.store, str(shared / "x.sock")).start()


def test_store_down_behind_the_service_is_store_unavailable(tmp_path: Path) -> None:
    from pagetally.storage import StoreSettings, open_store

    store = open_store(StoreSettings(backend="sqlite", name=str(tmp_path / "gone" / "db")))
    sock = str(short_dir() / "pt.sock")
    with AccountingService(store, sock):
        client = connect(sock)
        assert client is not None
        with pytest.raises(StoreUnavailable, match=r"folder .*gone does not exist"):
            client.snapshot("alice", "lab")
        assert client.ping()["version"] == "1"  # the service itself stays up


def test_idle_connection_does_not_delay_shutdown(served: Served) -> None:
    idle = remote(served)
    assert idle.ping()
    started = time.monotonic()
    served.service.stop()
    assert time.monotonic() - started < 5


WORKER = """
import sys
from datetime import UTC, datetime
from decimal import Decimal
from pagetally.core.models import Action, ChargeRequest, Decision, JobFacts
from pagetally.service.client import connect
path, worker = sys.argv[1], sys.argv[2]
store = connect(path, timeout=60)
for i in range(50):
    job = f"{worker}-{i}"
    store.charge(ChargeRequest(
        facts=JobFacts(user="alice", printer="lab", pages=1, job_id=job,
                       job_uuid="urn:uuid:" + job),
        decision=Decision(Action.ALLOW, "", Decimal("0.10"), 1),
        date=datetime.now(UTC)))
store.close()
"""


@pytest.mark.slow
def test_concurrent_backends_charge_exactly(served: Served) -> None:
    procs = [
        subprocess.Popen(
            [sys.executable, "-c", WORKER, served.socket, str(w)], stderr=subprocess.PIPE
        )
        for w in range(8)
    ]
    for proc in procs:
        _out, err = proc.communicate(timeout=300)
        assert proc.returncode == 0, err.decode()[-2000:]
    assert served.store.get_user("alice").balance == Decimal("100.00") - Decimal("40.00")
    assert served.store.get_user_quota("alice", "lab").page_counter == 400
    assert sum(1 for _ in served.store.history()) == 400
