"""The LDAP store's history read window by window of dates, in date order.

A directory has no ORDER BY … LIMIT: a search returns every entry it matches,
in no order. So `history()` searches the jobs a window of dates at a time
(`pagetallyDate` has an ordering rule; an `eq` index on it serves the range),
newest or oldest window first, and a reader that wants one page stops after a
window or two instead of reading the user's (or the site's) every job.

A window is read light (each job's date and number: a seventh of what
decoding a whole job entry costs in ldap3), and the jobs are read whole in
chunks as the reader reads on, by their names (a page of 50 rows reads 64).
Each window search asks for at most a window's worth of entries (a size limit):
a window that holds more is halved before anything is read, one that holds
few is widened for the next, and the windows grow as a reader keeps reading
(a full read costs a few dozen searches, not thousands). An empty window is
followed by a one-entry probe: nothing older (newer) ends the walk.

Jobs PyKota wrote itself carry no `pagetallyDate` (their date is the entry's
createTimestamp): when the directory holds any (a probe, repeated every
minute), the selection's dateless jobs are read in one search and merged in.
"""

from __future__ import annotations

import heapq
import time
from collections.abc import Iterator, Sequence
from datetime import UTC, datetime, timedelta
from itertools import islice
from typing import TYPE_CHECKING

from pagetally.core.models import JobRecord
from pagetally.storage.ldap_io import esc, gtime, text_of

if TYPE_CHECKING:
    from pagetally.storage.ldap_read import Entry, LdapReads

#: What a job's entry is read for (job_of), and nothing else.
JOB_ATTRS = (
    "pykotaUserName",
    "pykotaPrinterName",
    "pykotaJobId",
    "pykotaAction",
    "pykotaJobSize",
    "pykotaJobPrice",
    "pykotaFileName",
    "pykotaTitle",
    "pykotaCopies",
    "pykotaOptions",
    "pykotaHostName",
    "pykotaJobSizeBytes",
    "pykotaBillingCode",
    "pykotaPrinterPageCounter",
    "pykotaPrecomputedJobSize",
    "pykotaPrecomputedJobPrice",
    "pagetallyDate",
    "pagetallyJobUuid",
    "pagetallyReason",
    "pagetallyColorPages",
    "pagetallySheets",
    "pagetallySha256",
    "pagetallyNumber",
    "pagetallyState",
    "pagetallyData",
    "createTimestamp",
)
#: What a window reads of each job: its date and number, and whether it is one yet.
LIGHT_ATTRS = ("pagetallyDate", "pagetallyNumber", "pagetallyState")

_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_OLDEST = datetime(1000, 1, 1, tzinfo=UTC)  # before any job (and 4 digits for gtime)
_FIRST_WIDTH = timedelta(days=1)
_NARROWEST = timedelta(seconds=1)
_TICK = timedelta(microseconds=1)  # pagetallyDate's resolution
_WIDEST = timedelta(days=366 * 100)
#: Jobs a window aims at: first a page's worth, doubling as the reader reads on;
#: a reader still reading at the most gets the rest in one search (a walk of
#: many windows would walk the index again for each).
_FIRST_TARGET, _MOST_TARGET = 128, 4096
#: Whole jobs read at once: first a page's worth (50 rows, the one that says
#: there is a next page, and room for a next page's cursor row and its ties:
#: 51 made every next page read a second chunk), then doubling.
_FIRST_CHUNK = 64
#: How often the "any dateless (PyKota's own) jobs?" probe is repeated.
_DATELESS_RECHECK = 60.0


def _key(job: JobRecord) -> tuple[datetime, int]:
    return job.date, job.id or 0


class HistoryWalk:
    """The jobs of one LDAP filter (`flt`: its parts beyond the dates), read
    window by window (see the module's docstring)."""

    def __init__(self, reads: LdapReads, flt: str, attrs: Sequence[str] = ()) -> None:
        self.reads = reads
        self.flt = flt
        self.attrs = (*LIGHT_ATTRS, *attrs)
        self.width = _FIRST_WIDTH
        self.target = _FIRST_TARGET
        self.searches = 0
        self.newest_first = True

    def jobs(
        self, since: datetime | None, until: datetime | None, newest_first: bool
    ) -> Iterator[JobRecord]:
        """since <= date < until, by (date, id), newest first or oldest first."""
        return self._hydrated(self.light(since, until, newest_first))

    def light(
        self, since: datetime | None, until: datetime | None, newest_first: bool
    ) -> Iterator[tuple[JobRecord, str]]:
        """The same jobs read light (`attrs` only) with their entries' names."""
        self.newest_first = newest_first
        walk = self._down(since, until) if newest_first else self._up(since, until)
        dated = (job for window in walk for job in window)
        if not self.reads.any_dateless_jobs():
            return dated
        found = self._search("(!(pagetallyDate=*))", 0, JOB_ATTRS)[0]
        dateless = sorted(
            (
                (j, e[0])
                for j, e in ((self.reads.job_of(e), e) for e in found)
                if (since is None or j.date >= since) and (until is None or j.date < until)
            ),
            key=lambda j: _key(j[0]),
            reverse=newest_first,
        )
        return heapq.merge(dated, dateless, key=lambda j: _key(j[0]), reverse=newest_first)

    def _hydrated(self, light: Iterator[tuple[JobRecord, str]]) -> Iterator[JobRecord]:
        """The jobs in `light`'s order, read whole a chunk at a time as the reader
        reads on (a page of 50 reads 64 whole entries)."""
        chunk = _FIRST_CHUNK
        while batch := list(islice(light, chunk)):
            whole = {e[0]: e for e in self.whole([dn for _, dn in batch])}
            yield from (self.reads.job_of(whole[dn]) for _, dn in batch if dn in whole)
            chunk = min(chunk * 2, _MOST_TARGET)

    def whole(self, dns: list[str]) -> list[Entry]:
        """The entries `dns` with every attribute a job is read for: one search
        by their names (cn is indexed), or one read each for an unusual name."""
        rdns = [dn.split(",", 1)[0] for dn in dns]
        if all(r.startswith("cn=") and "\\" not in r for r in rdns):
            names = "".join(f"(cn={esc(r[3:])})" for r in rdns)
            self.searches += 1
            return self.reads.d.search(
                self.reads.layout.jobbase, f"(&(objectClass=pykotaJob)(|{names}))", JOB_ATTRS
            )
        found = ((dn, self.reads.d.read(dn, JOB_ATTRS)) for dn in dns)
        return [(dn, attrs) for dn, attrs in found if attrs is not None]

    # --- the searches ---
    def _search(self, dates: str, most: int, attrs: Sequence[str] = ()) -> tuple[list[Entry], bool]:
        self.searches += 1
        return self.reads.d.search_some(
            self.reads.layout.jobbase,
            f"(&(objectClass=pykotaJob){self.flt}{dates})",
            attrs or self.attrs if most != 1 else ("1.1",),
            most=most,
        )

    def _window(
        self, lo: datetime | None, hi: datetime | None, *, everything: bool = False
    ) -> list[tuple[JobRecord, str]] | None:
        """The jobs with lo <= date < hi, by (date, id), read light (date and
        number only: whole jobs are read as the reader reads them) with their
        entries' names; None when the window holds more than a window's worth
        (unless `everything`)."""
        dates = self._dates(lo, hi)
        found, cut = self._search(dates, 0 if everything else 4 * self.target)
        if cut:
            return None
        jobs = [
            (self.reads.job_of(e), e[0])
            for e in found
            if text_of(e[1].get("pagetallyState")) != "pending"  # no job yet
        ]
        return sorted((j for j in jobs if hi is None or j[0].date < hi), key=lambda j: _key(j[0]))

    def _older(self, than: datetime, *, indexed: bool = False) -> bool:
        """Any job older than `than`: one entry's worth of searching. With a
        filter of its own (a user's jobs) the candidates are the filter's and
        the date is tested on them (an older one comes early: entries are in
        the order they were added); over the whole directory the index walks
        what is older, which at the walk's end is nothing."""
        if self.flt and not indexed:
            dates = f"(!(pagetallyDate>={gtime(than)}))"
        else:
            dates = f"(pagetallyDate<={gtime(than - _TICK)})"
        found, cut = self._search(dates, 1)
        return bool(found) or cut

    def _floor(self, until: datetime | None) -> datetime:
        """A date at most a day before the selection's oldest job, or a day
        before `until` (or tomorrow) when there is none; found by halving with
        one-entry searches, each an index walk over what is older."""
        low, high = _OLDEST, until or datetime.now(UTC) + timedelta(days=1)
        while high - low > _FIRST_WIDTH:
            middle = low + (high - low) / 2
            if self._older(middle, indexed=True):
                high = middle
            else:
                low = middle
        return low

    def _newer(self, than: datetime) -> bool:
        """Any job at or after `than` (asked only from now on: the index walks
        what is newer, jobs dated in the future)."""
        found, cut = self._search(f"(pagetallyDate>={gtime(than)})", 1)
        return bool(found) or cut

    def _dates(self, lo: datetime | None, hi: datetime | None) -> str:
        """The filter of lo <= date < hi, its indexed half on the walk's own side.

        slapd's mdb walks an inequality's index key by key, from the bound to
        that end of the index (>= to the newest, <= from the oldest): a window
        near one end is cheap from that end only. So the newest-first walk
        indexes `>= lo` and tests `< hi` on those candidates (a NOT), the
        oldest-first walk the other way round."""
        if lo is None and hi is None:
            return "(pagetallyDate=*)"
        if (self.newest_first and lo is not None) or hi is None:
            top = f"(!(pagetallyDate>={gtime(hi)}))" if hi is not None else ""
            return (f"(pagetallyDate>={gtime(lo)})" if lo is not None else "") + top
        bottom = f"(!(pagetallyDate<={gtime(lo - _TICK)}))" if lo is not None else ""
        return f"(pagetallyDate<={gtime(hi - _TICK)}){bottom}"

    def _grow(self, got: int) -> None:
        """The next window's width from how many jobs this one held."""
        factor = 4.0 if got == 0 else min(8.0, max(0.5, self.target / got))
        self.width = min(_WIDEST, max(_NARROWEST, self.width * factor))
        self.target = min(_MOST_TARGET, self.target * 2)

    def _fitting(
        self, lo: datetime | None, hi: datetime | None
    ) -> list[tuple[JobRecord, str]] | None:
        jobs = self._window(lo, hi)
        if jobs is None and self.width <= _NARROWEST:
            return self._window(lo, hi, everything=True)
        return jobs

    # --- the walks ---
    def _down(
        self, since: datetime | None, until: datetime | None
    ) -> Iterator[list[tuple[JobRecord, str]]]:
        """Newest window first, from `until` (or now) back to `since` (or the oldest)."""
        hi = until
        anchor = until or datetime.now(UTC)
        while True:
            if self.target >= _MOST_TARGET and hi is not None:  # a reader of it all
                yield (self._window(since, hi, everything=True) or [])[::-1]
                return
            lo = max(anchor - self.width, _EPOCH) if anchor > _EPOCH else None
            if since is not None and (lo is None or lo <= since):
                lo = since
            jobs = self._fitting(lo, hi)
            if jobs is None:  # too many: a narrower window first
                self.width /= 2
                continue
            yield jobs[::-1]
            if lo is None or lo == since:
                return
            self._grow(len(jobs))
            if not jobs and not self._older(lo):
                return
            hi = anchor = lo

    def _up(
        self, since: datetime | None, until: datetime | None
    ) -> Iterator[list[tuple[JobRecord, str]]]:
        """Oldest window first, from `since` (or the oldest) up to `until` (or the newest)."""
        lo = since if since is not None else self._floor(until)
        while True:
            if self.target >= _MOST_TARGET:  # a reader of it all: the rest at once
                yield self._window(lo, until, everything=True) or []
                return
            hi = lo + self.width
            if until is not None and hi >= until:
                hi = until
            jobs = self._fitting(lo, hi)
            if jobs is None:
                self.width /= 2
                continue
            yield jobs
            if hi == until:
                return
            self._grow(len(jobs))
            if not jobs and hi > datetime.now(UTC) and not self._newer(hi):
                return
            lo = hi


class DatelessProbe:
    """Whether the directory holds jobs without pagetallyDate (PyKota's own),
    asked at most once a minute."""

    def __init__(self) -> None:
        self.asked = -_DATELESS_RECHECK
        self.any = False

    def __call__(self, reads: LdapReads) -> bool:
        now = time.monotonic()
        if now - self.asked >= _DATELESS_RECHECK:
            found, cut = reads.d.search_some(
                reads.layout.jobbase,
                "(&(objectClass=pykotaJob)(!(pagetallyDate=*)))",
                ("1.1",),
                most=1,
            )
            self.any, self.asked = bool(found) or cut, now
        return self.any
