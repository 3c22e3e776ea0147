"""The local journal: charges made while the store could not be reached.

When the store is down and the policy lets a job print anyway, its charge is
written here, one file per job (atomic: write, fsync, rename), and replayed into
the store later by `pagetally journal replay` or by the next job. Replay is safe to
repeat: the store's charge is idempotent on the job's identity, so an entry that
was charged but not yet removed (a crash in between) is not charged twice.
"""

from __future__ import annotations

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
    return dataclasses.replace(
        request, decision=dataclasses.replace(request.decision, price=price)
    )


class Journal:
    def __init__(self, directory: str | Path) -> None:
        self.directory = Path(directory)

    @classmethod
    def under(cls, spool_directory: str | Path) -> Journal:
        """The journal kept in the `directory` directive's folder."""
        return cls(Path(spool_directory) / "journal")

    def write(self, request: ChargeRequest) -> Path:
        """Append one charge durably; returns its file."""
        self.directory.mkdir(parents=True, exist_ok=True, mode=0o700)
        facts = request.facts
        ident = "\x1f".join([facts.printer, facts.job_id, facts.host or "", facts.job_uuid])
        digest = hashlib.sha256(ident.encode()).hexdigest()[:16]
        stamp = request.date.strftime("%Y%m%dT%H%M%S%f")
        final = self.directory / f"{stamp}-{digest}.json"
        tmp = final.with_suffix(".tmp")
        data = codec.dumps(request).encode()
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        try:
            os.write(fd, data)
            os.fsync(fd)
        finally:
            os.close(fd)
        os.replace(tmp, final)
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
        for path in sorted(self.directory.glob("*.json")):
            yield path, codec.loads(ChargeRequest, path.read_text())

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
