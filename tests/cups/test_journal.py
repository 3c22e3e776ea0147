"""The local journal: charges written while the store is down are replayed once."""

from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path

from pagetally.core.models import (
    Action,
    ChargeRequest,
    Decision,
    JobFacts,
    PriceTable,
    Printer,
    User,
)
from pagetally.errors import StoreUnavailable
from pagetally.storage import StoreSettings, open_store
from pagetally.storage.journal import Journal
from tests.sqlite_store import migrated_sqlite


def request(job_id: str) -> ChargeRequest:
    return ChargeRequest(
        facts=JobFacts(
            user="alice",
            printer="lab",
            pages=3,
            job_id=job_id,
            job_uuid=f"urn:uuid:{job_id}",
            host="pc1",
            title="t; `rm -rf`",
        ),
        decision=Decision(Action.ALLOW, "allowed while the store was down", Decimal("0.30"), 3),
        date=datetime(2026, 11, 24, 12, 0, int(job_id), tzinfo=UTC),
    )


def test_replay_charges_each_entry_once(tmp_path: Path) -> None:
    db = migrated_sqlite(tmp_path / "s.db")
    store = open_store(StoreSettings(backend="sqlite", name=str(db)))
    store.add_printer(Printer("lab", prices=PriceTable(per_page=Decimal("0.10"))))
    store.add_user(User("alice", balance=Decimal("5")))
    store.set_user_quota("alice", "lab")
    journal = Journal(tmp_path / "journal")
    for i in ("1", "2"):
        journal.write(request(i))
    journal.write(request("2"))  # written twice: still one entry
    assert journal.pending() == 2
    # a crash after charging job 2 but before removing its entry
    store.charge(request("2"))

    result = journal.replay(store)

    assert (result.charged, result.already_charged, result.remaining) == (1, 1, 0)
    assert store.get_user("alice").balance == Decimal("4.40")
    assert store.get_user_quota("alice", "lab").page_counter == 6
    assert [j.job_id for j in store.history()] == ["1", "2"]
    assert journal.pending() == 0


def test_replay_stops_and_keeps_entries_when_store_is_down(tmp_path: Path) -> None:
    journal = Journal(tmp_path / "journal")
    journal.write(request("1"))

    class Down:
        def charge(self, _r: ChargeRequest) -> None:
            raise StoreUnavailable("database at 127.0.0.1:1 refused the connection")

    result = journal.replay(Down())  # type: ignore[arg-type]
    assert result.remaining == 1 and "refused" in result.error
    assert journal.pending() == 1


def test_journal_commands(tmp_path: Path) -> None:
    """`pagetally journal list` shows what is pending; `replay` charges it once."""
    from typer.testing import CliRunner

    from pagetally.cli.env import Env
    from pagetally.cli.main import app

    conf = tmp_path / "pagetally.conf"
    conf.write_text(
        f"[global]\nstoragebackend: sqlite\nstoragename: {tmp_path / 's.db'}\n"
        f"directory: {tmp_path / 'spool'}\n"
    )
    db = migrated_sqlite(tmp_path / "s.db")
    store = open_store(StoreSettings(backend="sqlite", name=str(db)))
    store.add_printer(Printer("lab", prices=PriceTable(per_page=Decimal("0.10"))))
    store.add_user(User("alice", balance=Decimal("5")))
    store.set_user_quota("alice", "lab")
    Journal.under(tmp_path / "spool").write(request("7"))

    def cli(*args: str) -> str:
        result = CliRunner().invoke(app, ["--config", str(conf), "journal", *args], obj=Env())
        assert result.exit_code == 0, result.output
        return result.output

    assert "lab job 7 alice 3 pages 0.30" in cli("list")
    assert "charged 1, already charged 0, remaining 0" in cli("replay")
    assert "charged 0, already charged 0, remaining 0" in cli("replay")
    assert store.get_user("alice").balance == Decimal("4.70")


def test_an_unsafe_journal_folder_is_refused_at_run_time(tmp_path: Path) -> None:
    """Checked each time the journal is used, not only by `setup cups`: a folder
    others may write (entries are charges) is refused by the CLI (exit 4), by
    the journal itself, and by the backend, which holds the job unprinted."""
    from typer.testing import CliRunner

    from pagetally.cli.env import Env
    from pagetally.cli.main import app
    from pagetally.cups.status import BackendExit
    from pagetally.storage.journal import UnsafeFolder
    from tests.cups.test_backend import PDF, Site

    site = Site(tmp_path)
    site.store.add_user(User("alice", balance=Decimal("5")))
    site.store.set_user_quota("alice", "lab")
    journal = Journal.under(tmp_path / "spool")
    journal.write(request("7"))
    journal.directory.chmod(0o777)
    try:
        journal.write(request("8"))
    except UnsafeFolder as exc:
        assert f"{journal.directory} is writable by others than its owner (mode 0777)" in str(exc)
    else:
        raise AssertionError("an unsafe journal folder was written to")
    result = CliRunner().invoke(app, ["--config", str(site.conf), "journal", "replay"], obj=Env())
    assert result.exit_code == 4, result.output
    assert "its charges cannot be trusted" in result.output
    code, err = site.job("9", "alice", PDF.read_bytes())
    assert code == BackendExit.HOLD, err
    assert "charges cannot be trusted" in err and not (tmp_path / "printed-9").exists()
    assert site.store.get_user("alice").balance == Decimal("5")
    journal.directory.chmod(0o700)
    assert site.job("10", "alice", PDF.read_bytes())[0] == 0
