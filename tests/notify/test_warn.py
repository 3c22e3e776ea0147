"""`pagetally warn` against a real SQLite store, mailing through a real SMTP server."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path

import pytest
import typer
from typer.testing import CliRunner, Result

from pagetally.cli.app import PageTallyGroup
from pagetally.cli.env import Env
from pagetally.cli.main import root
from pagetally.cli.warn import register
from pagetally.core.models import Group, LimitBy, Payment, Printer, User
from pagetally.storage import open_store
from pagetally.storage.base import Store, StoreSettings
from tests.notify.conftest import Listener, SmtpServer
from tests.sqlite_store import migrated_sqlite

pytestmark = pytest.mark.slow  # a real SMTP server and SQLite store per test

NOW = datetime(2026, 11, 24, 12, 0, tzinfo=UTC)

app = typer.Typer(cls=PageTallyGroup, add_completion=False, pretty_exceptions_enable=False)
app.callback()(root)
register(app)


@dataclass
class Site:
    conf: Path
    store: Store

    def warn(self, *args: str, code: int = 0) -> Result:
        env = Env(config_path=str(self.conf), clock=lambda: NOW, tz=UTC, environ={})
        result = CliRunner().invoke(app, ["warn", *args], obj=env)
        assert result.exit_code == code, (result.stdout, result.stderr, result.exception)
        return result


def write_conf(path: Path, db: Path, smtp: str, extra: str = "") -> None:
    path.write_text(
        "[global]\n"
        "storagebackend: sqlite\n"
        f"storagename: {db}\n"
        f"smtpserver: {smtp}\n"
        "maildomain: uni.example\n"
        "admin: Print Desk\n"
        "adminmail: printdesk@uni.example\n"
        "poorman: 2.0\n"
        "softwarn: Dear $user, you passed $softlimit pages on $printer.\n"
        f"{extra}"
    )


def populate(store: Store) -> None:
    store.upgrade()
    store.add_printer(Printer("lab-1"))
    store.add_printer(Printer("lab-2"))
    store.add_printer(Printer("copier", passthrough=True))
    for name, email in (("alice", "alice@mail.example"), ("bob", None), ("carol", None)):
        store.add_user(User(name, email=email))
    store.add_user(User("dave"))
    store.add_user(User("erin", limit_by=LimitBy.BALANCE))
    store.add_payment(Payment("erin", Decimal("1.50")))
    store.add_user(User("frank", limit_by=LimitBy.NOQUOTA))
    # alice: past the soft limit on lab-1 (WARN); bob: at the hard limit on lab-2 (DENY)
    store.set_user_quota("alice", "lab-1", soft_limit=10, hard_limit=20)
    store.reset_user_quota("alice", "lab-1", page_counter=12)
    store.set_user_quota("alice", "lab-2", soft_limit=10, hard_limit=20)  # fine here
    store.set_user_quota("bob", "lab-2", soft_limit=10, hard_limit=20)
    store.reset_user_quota("bob", "lab-2", page_counter=20)
    store.set_user_quota("carol", "lab-1", soft_limit=100, hard_limit=200)  # fine
    store.set_user_quota("dave", "copier", soft_limit=1, hard_limit=1)
    store.reset_user_quota("dave", "copier", page_counter=5)  # pass-through: ignored
    for p in ("lab-1", "lab-2"):  # erin: low balance, warned once, not per printer
        store.set_user_quota("erin", p)
    store.set_user_quota("frank", "lab-1", soft_limit=1, hard_limit=1)
    store.reset_user_quota("frank", "lab-1", page_counter=9)  # noquota: ignored
    # a group over its hard limit on lab-1 (members' counters summed)
    store.add_group(Group("physics"))
    store.add_members("physics", ["carol", "alice"])
    store.set_group_quota("physics", "lab-1", soft_limit=5, hard_limit=10)


@pytest.fixture
def site(tmp_path: Path, smtp_server: SmtpServer) -> Iterator[Site]:
    db = tmp_path / "pt.db"
    conf = tmp_path / "pagetally.conf"
    write_conf(conf, db, smtp_server.address)
    store = open_store(StoreSettings(backend="sqlite", name=str(migrated_sqlite(db))))
    populate(store)
    try:
        yield Site(conf, store)
    finally:
        store.close()


def test_warn_mails_users_over_their_limits(site: Site, smtp_server: SmtpServer) -> None:
    result = site.warn()
    got = {(tuple(r.recipients), r.subject) for r in smtp_server.received}
    assert got == {
        (("alice@mail.example",), "Print Quota Low"),
        (("bob@uni.example",), "Print Quota Exceeded"),
        (("erin@uni.example",), "Print Quota Low"),
        (("printdesk@uni.example",), "Print Quota"),
    }
    assert len(smtp_server.received) == 6  # 3 people + 3 admin notes
    [alice] = smtp_server.to("alice@mail.example")
    assert "Dear alice, you passed 10 pages on lab-1." in alice.body
    assert "12 of 10 pages used" in alice.body
    [bob] = smtp_server.to("bob@uni.example")
    assert "hard limit is reached" in bob.body and "20 of 20 pages used" in bob.body
    [erin] = smtp_server.to("erin@uni.example")
    assert "balance is low" in erin.body and "1.50 EUR" in erin.body
    admin = sorted(r.body.splitlines()[0] for r in smtp_server.to("printdesk@uni.example"))
    assert admin == [
        "Print Quota exceeded for user bob on printer lab-2",
        "Print Quota low for user alice on printer lab-1",
        "Print Quota low for user erin on printer lab-1",
    ]
    assert "3 user warning(s): 6 mail(s) sent" in result.stderr
    assert "WARN user alice on lab-1 (soft_limit)" in result.stdout


def test_warn_one_printer_and_names(site: Site, smtp_server: SmtpServer) -> None:
    site.warn("--printer", "lab-2", "b*")
    assert sorted(r.recipients[0] for r in smtp_server.received) == [
        "bob@uni.example",
        "printdesk@uni.example",
    ]


def test_dry_run_sends_nothing_and_says_who(site: Site, smtp_server: SmtpServer) -> None:
    result = site.warn("--dry-run")
    assert smtp_server.received == []
    lines = result.stdout.splitlines()
    assert any(
        line.startswith("DENY user bob on lab-2 (hard_limit)")
        and line.endswith("-> bob@uni.example, printdesk@uni.example")
        for line in lines
    ), lines
    assert len(lines) == 3
    assert "3 user warning(s) would be sent" in result.stderr


def test_groups_warn_every_member(site: Site, smtp_server: SmtpServer) -> None:
    site.warn("--groups")
    people = sorted(r.recipients[0] for r in smtp_server.received)
    assert people == ["alice@mail.example", "carol@uni.example", "printdesk@uni.example"]
    [note] = smtp_server.to("printdesk@uni.example")
    assert note.body.startswith("Print Quota exceeded for group physics on printer lab-1")
    [carol] = smtp_server.to("carol@uni.example")
    assert "Print quota of group physics exceeded on printer lab-1: 12 of 10" in carol.body


def test_devnull_sends_nothing(tmp_path: Path, listener: Listener) -> None:
    db = tmp_path / "pt.db"
    conf = tmp_path / "pagetally.conf"
    write_conf(conf, db, listener.address, "mailto: devnull\n")
    store = open_store(StoreSettings(backend="sqlite", name=str(migrated_sqlite(db))))
    populate(store)
    store.close()
    result = Site(conf, store).warn()
    assert "0 mail(s) sent" in result.stderr
    assert listener.attempts() == 0


def test_an_unreachable_server_exits_1(tmp_path: Path) -> None:
    db = tmp_path / "pt.db"
    conf = tmp_path / "pagetally.conf"
    write_conf(conf, db, "127.0.0.1:1")
    store = open_store(StoreSettings(backend="sqlite", name=str(migrated_sqlite(db))))
    populate(store)
    store.close()
    result = Site(conf, store).warn(code=1)
    assert "6 failed" in result.stderr
