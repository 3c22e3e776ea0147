"""The CUPS backend in-process, talking to the accounting service; and falling back
to the store itself when no service listens."""

from __future__ import annotations

import io
import stat
from collections.abc import Iterator
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path

import pytest

from pagetally.core.models import Action
from pagetally.cups.backend import BackendEnv, run
from pagetally.service.server import AccountingService
from pagetally.storage import StoreSettings, open_store
from tests.servers import ServerInfo
from tests.service.conftest import Served, serve, short_dir

PDF = Path("/usr/share/cups/data/default-testpage.pdf")  # 1 page
DEVICE = '#!/bin/sh\ncat > "{out}/printed-$1"\nexit 0\n'


class Backend:
    """A config and a device backend script; `job()` runs the wrapper in-process."""

    def __init__(self, tmp: Path, *, service: str, store_name: str, extra: str = "") -> None:
        tmp.mkdir(parents=True, exist_ok=True)
        self.conf = tmp / "pagetally.conf"
        self.conf.write_text(
            f"[global]\nstoragebackend: sqlite\nstoragename: {store_name}\n"
            f"directory: {tmp / 'spool'}\naccountingservice: {service}\n{extra}"
        )
        (tmp / "serverbin" / "backend").mkdir(parents=True)
        dev = tmp / "serverbin" / "backend" / "socket"
        dev.write_text(DEVICE.format(out=tmp))
        dev.chmod(stat.S_IRWXU)
        self.environ = {
            "DEVICE_URI": "pagetally:socket://127.0.0.1:9100",
            "PRINTER": "lab",
            "CUPS_SERVERBIN": str(tmp / "serverbin"),
            "TMPDIR": str(tmp),
            "PATH": "/usr/bin:/bin",
        }

    def job(self, job_id: str, user: str = "alice") -> tuple[int, str]:
        argv = ["pagetally", job_id, user, "report", "1", f"job-uuid=urn:uuid:{job_id}"]
        err = io.StringIO()
        env = BackendEnv(
            argv,
            self.environ,
            io.BytesIO(PDF.read_bytes()),
            err,
            now=lambda: datetime(2026, 11, 24, 12, tzinfo=UTC),
            config_path=str(self.conf),
        )
        return run(env), err.getvalue()


def test_job_goes_through_the_service(served: Served, tmp_path: Path) -> None:
    # the backend's own store settings lead nowhere: only the service can charge
    backend = Backend(tmp_path, service=served.socket, store_name="/nonexistent/x.db")
    code, err = backend.job("1")
    assert code == 0, err
    assert (tmp_path / "printed-1").read_bytes() == PDF.read_bytes()
    assert served.store.get_user("alice").balance == Decimal("99.90")
    assert served.service.calls >= 2  # snapshot and charge
    code, err = backend.job("1")  # retried by CUPS
    assert code == 0 and "printed and charged on" in err and "not printed again" in err
    [row] = list(served.store.history())
    assert (row.action, row.pages, row.price) == (Action.ALLOW, 1, Decimal("0.1"))


def test_refused_job_through_the_service(served: Served, tmp_path: Path) -> None:
    backend = Backend(tmp_path, service=served.socket, store_name="/nonexistent/x.db")
    code, err = backend.job("2", user="mallory")
    assert code == 5 and "mallory" in err
    assert not (tmp_path / "printed-2").exists()
    [row] = list(served.store.history())
    assert (row.user, row.action) == ("mallory", Action.DENY)


def test_new_billing_code_created_through_the_service(served: Served, tmp_path: Path) -> None:
    backend = Backend(tmp_path, service=served.socket, store_name="/nonexistent/x.db")
    argv = ["pagetally", "3", "alice", "r", "1", "job-uuid=urn:uuid:3 job-billing=proj-9"]
    env = BackendEnv(
        argv,
        backend.environ,
        io.BytesIO(PDF.read_bytes()),
        io.StringIO(),
        config_path=str(backend.conf),
    )
    assert run(env) == 0
    assert served.store.get_billing_code("proj-9").page_counter == 1


def test_no_service_falls_back_to_the_store(tmp_path: Path) -> None:
    db = tmp_path / "pagetally.db"
    store = open_store(StoreSettings(backend="sqlite", name=str(db)))
    from tests.service.conftest import populate

    populate(store)
    silent = short_dir() / "nobody-listens.sock"
    backend = Backend(tmp_path, service=str(silent), store_name=str(db))
    code, err = backend.job("4")
    assert code == 0, err
    assert store.get_user("alice").balance == Decimal("99.90")


def test_service_with_its_store_down_follows_onstoreerror(tmp_path: Path) -> None:
    dead = open_store(StoreSettings(backend="sqlite", name=str(tmp_path / "gone" / "db")))
    sock = str(short_dir() / "pt.sock")
    with AccountingService(dead, sock):
        deny = Backend(tmp_path / "a", service=sock, store_name=str(tmp_path / "x.db"))
        code, err = deny.job("5")
        assert code == 5 and "store is unreachable" in err
        assert not (tmp_path / "a" / "printed-5").exists()
        allow = Backend(
            tmp_path / "b",
            service=sock,
            store_name=str(tmp_path / "x.db"),
            extra="onstoreerror: allow\n",
        )
        code, err = allow.job("6")
        assert code == 0 and "local journal" in err
    assert len(list((tmp_path / "b" / "spool" / "journal").glob("*.json"))) == 1


def test_journal_replayed_through_the_service(served: Served, tmp_path: Path) -> None:
    """A charge journaled while the service was unreachable goes in with the next job."""
    journaled = Backend(
        tmp_path,
        service=served.socket,
        store_name="/nonexistent/x.db",
        extra="onstoreerror: allow\n",
    )
    socket_path = served.socket
    served.service.stop()
    code, err = journaled.job("7")  # no service, and the fallback store is unreachable
    assert code == 0 and "local journal" in err
    assert served.store.get_user("alice").balance == Decimal("100.00")
    with AccountingService(open_store(served.settings), socket_path):
        code, err = journaled.job("8")
        assert code == 0, err
    assert served.store.get_user("alice").balance == Decimal("99.80")
    assert sorted(j.job_id for j in served.store.history()) == ["7", "8"]


@pytest.fixture
def pg_served(postgresql_server: ServerInfo) -> Iterator[Served]:
    settings = postgresql_server.new_database()
    store = open_store(settings)
    store.upgrade()
    store.close()
    yield from serve(settings)


@pytest.mark.slow
@pytest.mark.postgresql
def test_postgresql_behind_the_service(pg_served: Served, tmp_path: Path) -> None:
    backend = Backend(tmp_path, service=pg_served.socket, store_name="/nonexistent/x.db")
    for job in ("1", "2", "2"):
        code, err = backend.job(job)
        assert code == 0, err
    assert pg_served.store.get_user("alice").balance == Decimal("99.80")
    assert pg_served.store.get_user_quota("alice", "lab").page_counter == 2


def test_remote_store_offers_every_store_call_of_the_print_path() -> None:
    """The backend and its journal use the store through RemoteStore when the service
    runs: a store method they start calling must be added to the protocol too."""
    import re

    from pagetally.service.client import RemoteStore
    from pagetally.service.protocol import OPS

    root = Path(__file__).resolve().parents[2] / "pagetally"
    sources = [*sorted((root / "cups").glob("*.py")), root / "storage" / "journal.py"]
    called = {m for path in sources for m in re.findall(r"\bstore\.([a-z_]+)\(", path.read_text())}
    assert {"snapshot", "charge", "add_billing_code"} <= called
    missing = sorted(m for m in called if m not in OPS or not hasattr(RemoteStore, m))
    assert not missing, f"add to pagetally/service (protocol.OPS and RemoteStore): {missing}"
