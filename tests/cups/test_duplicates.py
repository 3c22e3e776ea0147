"""denyduplicates / duplicatesdelay: a job whose content equals the same user's
previous job on the same printer is refused, in-process and through the service."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path

from pagetally.config import load_config
from pagetally.core.models import Action, LimitBy, User
from pagetally.cups.status import BackendExit
from pagetally.storage.base import HistoryFilter
from tests.cups.test_backend import PDF, Site
from tests.service.conftest import Served
from tests.service.test_backend_service import Backend

NOON = datetime(2026, 11, 24, 12, tzinfo=UTC)


def _site(tmp: Path, extra: str) -> Site:
    site = Site(tmp)
    site.conf.write_text(site.conf.read_text() + extra)
    site.store.add_user(User("alice", limit_by=LimitBy.BALANCE, balance=Decimal("5.00")))
    site.store.set_user_quota("alice", "lab")
    site.store.add_user(User("bob", limit_by=LimitBy.BALANCE, balance=Decimal("5.00")))
    site.store.set_user_quota("bob", "lab")
    return site


def test_same_document_twice_is_refused(tmp_path: Path) -> None:
    site = _site(tmp_path, "denyduplicates: yes\n")
    assert site.job("1", "alice", PDF.read_bytes(), now=NOON)[0] == 0
    code, err = site.job("2", "alice", PDF.read_bytes(), now=NOON + timedelta(days=30))
    assert code == BackendExit.CANCEL, err  # the queue goes on
    assert "duplicate job" in err and "previous job on lab" in err
    assert not (site.tmp / "printed-2").exists()
    assert site.store.get_user("alice").balance == Decimal("4.90")  # charged once
    last = next(iter(site.store.history(HistoryFilter(user="alice", newest_first=True))))
    assert last.action is Action.DENY and "duplicate" in last.reason


def test_other_user_or_other_content_is_not_a_duplicate(tmp_path: Path) -> None:
    site = _site(tmp_path, "denyduplicates: yes\n")
    assert site.job("1", "alice", PDF.read_bytes())[0] == 0
    assert site.job("2", "bob", PDF.read_bytes())[0] == 0
    assert site.job("3", "alice", PDF.read_bytes() + b"\n%changed\n")[0] == 0
    assert (site.tmp / "printed-3").exists()


def test_duplicatesdelay_bounds_the_window(tmp_path: Path) -> None:
    site = _site(tmp_path, "denyduplicates: yes\nduplicatesdelay: 60\n")
    assert site.job("1", "alice", PDF.read_bytes(), now=NOON)[0] == 0
    code, err = site.job("2", "alice", PDF.read_bytes(), now=NOON + timedelta(seconds=30))
    assert code == BackendExit.CANCEL and "within 60 s" in err
    # 61 s after the refused attempt: allowed again
    code, err = site.job("3", "alice", PDF.read_bytes(), now=NOON + timedelta(seconds=91))
    assert code == 0, err
    assert site.store.get_user("alice").balance == Decimal("4.80")


def test_duplicates_allowed_by_default(tmp_path: Path) -> None:
    site = _site(tmp_path, "")
    assert site.job("1", "alice", PDF.read_bytes())[0] == 0
    assert site.job("2", "alice", PDF.read_bytes())[0] == 0


def test_duplicate_refused_through_the_service(served: Served, tmp_path: Path) -> None:
    backend = Backend(
        tmp_path,
        service=served.socket,
        store_name="/nonexistent/x.db",
        extra="denyduplicates: yes\n",
    )
    assert backend.job("1")[0] == 0
    code, err = backend.job("2")
    assert code == BackendExit.CANCEL and "duplicate job" in err, err
    assert served.store.get_user("alice").balance == Decimal("99.90")


def test_a_denyduplicates_command_decides_with_pykotas_variables(tmp_path: Path) -> None:
    """PyKota's third form: `denyduplicates: COMMAND` runs for a duplicate, with
    the job's PYKOTA* variables; `DENY` on its output refuses, anything else
    lets the duplicate print (before: read as 'yes', the command never ran)."""
    seen = tmp_path / "seen"
    script = tmp_path / "dupes"
    script.write_text(
        "#!/bin/sh\n"
        f'echo "$PYKOTAUSERNAME $PYKOTAPRINTERNAME $PYKOTAJOBID" >> {seen}\n'
        '[ "$PYKOTAUSERNAME" = alice ] && echo deny || echo ALLOW\n'
    )
    script.chmod(0o700)
    site = _site(tmp_path, f"denyduplicates: {script} --some-argument\n")
    assert load_config(site.conf).get("denyduplicates") == f"{script} --some-argument"
    for user, first, second in (("alice", "1", "2"), ("bob", "3", "4")):
        assert site.job(first, user, PDF.read_bytes(), now=NOON)[0] == 0
        site.job(second, user, PDF.read_bytes(), now=NOON + timedelta(seconds=5))
    assert seen.read_text().splitlines() == ["alice lab 2", "bob lab 4"]  # duplicates only
    last = {j.user: j for j in site.store.history()}  # oldest first: the newest wins
    assert last["alice"].action is Action.DENY
    assert "refused by the site's denyduplicates command" in last["alice"].reason
    assert last["bob"].action is Action.ALLOW and (site.tmp / "printed-4").exists()


def test_a_failing_denyduplicates_command_refuses(tmp_path: Path) -> None:
    site = _site(tmp_path, "denyduplicates: /bin/false\n")
    assert site.job("1", "alice", PDF.read_bytes(), now=NOON)[0] == 0
    code, err = site.job("2", "alice", PDF.read_bytes(), now=NOON)
    assert code == BackendExit.CANCEL, err
    assert "the denyduplicates command failed (exit 1)" in err
