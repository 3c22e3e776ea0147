"""The local journal: charges made while the store could not be reached.

When the store is down and the policy lets a job print anyway, its charge is
written here, one file per job (atomic: write, fsync, rename), and replayed into
the store later by `pagetally journal replay` or by the next job. Replay is safe to
repeat: the store's charge is idempotent on the job's identity, so an entry that
was charged but not yet removed (a crash in between) is not charged twice.

Its folder is checked each time it is used, not only by `setup cups`: entries
are charges (and attempts' records say what printed), so a folder anyone but
root (or the user running PageTally) could write is refused (`UnsafeFolder`,
an OSError: the backend then holds the job or stops the queue, `onjournalerror`).
"""

from __future__ import annotations

import contextlib
import dataclasses
import hashlib
import os
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

from pagetally.core import codec
from pagetally.core.models import ChargeRequest
from pagetally.core.settings import RuleSettings
from pagetally.errors import StoreUnavailable
from pagetally.storage.base import PrintJobStore as Store  # the print job's role


class UnsafeFolder(PermissionError):
    """The journal's folder (or the spool folder holding it) could be written by
    someone untrusted: its entries cannot be believed nor new ones kept safe."""


def check_folder(folder: Path) -> None:
    """UnsafeFolder when `folder` or the folder above it exists and is owned by
    anyone but root or us, or is writable by its group or others."""
    trusted = {0, os.geteuid()}
    for path in (folder, folder.parent):
        try:
            st = os.lstat(path)
        except FileNotFoundError:
            continue
        mode = st.st_mode & 0o7777
        why = (
            f"is owned by uid {st.st_uid}"
            if st.st_uid not in trusted
            else f"is writable by others than its owner (mode {mode:04o})"
            if mode & 0o022
            else ""
        )
        if why:
            raise UnsafeFolder(
                1,
                f"the journal's folder {path} {why}: its charges cannot "
                f"be trusted; run `chown root {path}` and `chmod go-w {path}`",
            )


@dataclass(frozen=True, slots=True)
class ReplayResult:
    charged: int = 0
    already_charged: int = 0
    remaining: int = 0
    error: str = ""  # why replay stopped early (the store went away again)


STORE_DOWN = "store_down"  # Decision.code of jobs allowed while the store was down


def _priced(
    store: Store, request: ChargeRequest, settings_for: Callable[[str], RuleSettings] | None
) -> ChargeRequest:
    from pagetally.core.pricing import job_price

    facts = request.facts
    snap = store.snapshot(facts.user, facts.printer, facts.billing_code)
    if snap.user is None or snap.printer is None:
        return request  # nobody to charge: recorded as it was, at no price
    settings = settings_for(facts.printer) if settings_for else RuleSettings()
    price = job_price(snap.printers, facts, settings, snap.user)
    return dataclasses.replace(request, decision=dataclasses.replace(request.decision, price=price))


class Journal:
    def __init__(self, directory: str | Path) -> None:
        self.directory = Path(directory)

    @classmethod
    def under(cls, spool_directory: str | Path) -> Journal:
        """The journal kept in the `directory` directive's folder."""
        return cls(Path(spool_directory) / "journal")

    def check(self) -> None:
        """UnsafeFolder when others could write here (see the module's doc)."""
        check_folder(self.directory)

    def write(self, request: ChargeRequest) -> Path:
        """Append one charge durably; returns its file."""
        self.check()
        self.directory.mkdir(parents=True, exist_ok=True, mode=0o700)
        facts = request.facts
        ident = "\x1f".join([facts.printer, facts.job_id, facts.host or "", facts.job_uuid])
        digest = hashlib.sha256(ident.encode()).hexdigest()[:16]
        stamp = request.date.strftime("%Y%m%dT%H%M%S%f")
        final = self.directory / f"{stamp}-{digest}.json"
        tmp = final.with_suffix(".tmp")
        data = codec.dumps(request).encode()
        try:
            fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
            try:
                view = memoryview(data)
                while view:  # a short write on a nearly full disk is not the end
                    view = view[os.write(fd, view) :]
                os.fsync(fd)
            finally:
                os.close(fd)
            os.replace(tmp, final)
        except BaseException:  # ENOSPC and the like: no partial file is left
            tmp.unlink(missing_ok=True)
            raise
        dfd = os.open(self.directory, os.O_RDONLY)
        try:
            os.fsync(dfd)
        finally:
            os.close(dfd)
        return final

    def entries(self) -> Iterator[tuple[Path, ChargeRequest]]:
        """Pending charges, oldest first."""
        if not self.directory.is_dir():
            return
        self.check()
        for path in sorted(self.directory.glob("*.json")):
            yield path, codec.loads(ChargeRequest, path.read_text())

    def has(self, facts_key: tuple[str, str, str, str]) -> bool:
        """Whether a charge of the job (printer, job id, host, job UUID) waits here."""
        digest = hashlib.sha256("\x1f".join(facts_key).encode()).hexdigest()[:16]
        return self.directory.is_dir() and any(self.directory.glob(f"*-{digest}.json"))

    def sweep(self, older_than: float = 60.0) -> int:
        """Remove temporary files a killed writer left (never renamed: never an
        entry, and the job they were for was not printed on their account)."""
        import time

        removed = 0
        if not self.directory.is_dir():
            return 0
        now = time.time()
        for tmp in self.directory.glob("*.tmp"):
            with contextlib.suppress(OSError):
                if now - tmp.stat().st_mtime >= older_than:
                    tmp.unlink()
                    removed += 1
        return removed

    @property
    def attempts(self) -> Path:
        """Where print attempts keep their records (cups/attempt.py)."""
        return self.directory / "attempts"

    def printed_attempts(self) -> list[Path]:
        """Records of attempts killed after the printer had the job
        (`<key>.printed`): charges owed, not yet in this journal."""
        folder = self.attempts
        return sorted(folder.glob("*.printed")) if folder.is_dir() else []

    def take_printed_attempts(self) -> int:
        """Move what killed attempts printed into the journal (then replayed like
        any entry), unless an attempt at that job runs now (its lock is taken):
        CUPS may never retry a job whose backend died. Returns how many."""
        import fcntl

        taken = 0
        for record in self.printed_attempts():
            lock = record.with_suffix(".lock")
            try:
                fd = os.open(lock, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o600)
            except OSError:
                continue
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                if os.stat(lock).st_ino != os.fstat(fd).st_ino:
                    continue  # removed meanwhile by the attempt that settled it
                try:
                    request = codec.loads(ChargeRequest, record.read_text(encoding="utf-8"))
                except FileNotFoundError:
                    continue
                self.write(request)
                record.unlink()
                lock.unlink()
                taken += 1
            except (BlockingIOError, FileNotFoundError):
                continue
            finally:
                os.close(fd)
        return taken

    def pending(self) -> int:
        return sum(1 for _ in self.directory.glob("*.json")) if self.directory.is_dir() else 0

    def replay(
        self, store: Store, settings_for: Callable[[str], RuleSettings] | None = None
    ) -> ReplayResult:
        """Charge every pending entry into `store`, removing each once it is in.

        Jobs printed while the store was down (decision code `store_down`) could
        not be priced then: they are priced now, from the store's prices and
        `settings_for(printer)` (default settings when not given).
        """
        charged = already = 0
        if self.directory.is_dir():
            self.check()  # nothing is charged from a folder others could write
        self.sweep()
        with contextlib.suppress(OSError):  # a full disk: they wait for the next replay
            self.take_printed_attempts()
        for path, request in self.entries():
            try:
                if request.decision.code == STORE_DOWN:
                    request = _priced(store, request, settings_for)
                result = store.charge(request)
            except StoreUnavailable as e:
                return ReplayResult(charged, already, self.pending(), str(e))
            if result.already_charged:
                already += 1
            else:
                charged += 1
            path.unlink()
        return ReplayResult(charged, already, self.pending())
