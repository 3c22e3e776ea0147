"""Store benchmark: charges per second and report/history query times at scale.

    .venv/bin/python bench/store.py                       # full size, SQLite + PostgreSQL
    .venv/bin/python bench/store.py --users 10000 --jobs 200000 --engines sqlite

Per engine: a fresh database gets `--users` users, `--printers` printers (the last
tenth are printer groups above the others), `--quotas-per-user` quota entries per
user and `--jobs` history rows, bulk-loaded (SQLite: executemany on the raw
driver; PostgreSQL: COPY). Then it times:
- the report's reads: every user quota entry with its counters, and every user
  with balance (what `pagetally report` reads);
- one user's history (`history --user U`), newest first;
- charges per second through `decide_and_charge` with 1, 4 and 16 writer
  processes, each charging its own user on a printer inside a printer group, for
  `--seconds` seconds each.
PostgreSQL runs in a temporary server (tests/servers.py) with fsync on. The whole
run is bounded by the sizes; the defaults finish in a few minutes on a small VM.
"""

from __future__ import annotations

import argparse
import multiprocessing
import sys
import tempfile
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from sqlalchemy import insert

from pagetally.core.models import AccountSnapshot, Action, Decision, JobFacts
from pagetally.storage import HistoryFilter, StoreSettings, open_store
from pagetally.storage.engine import make_engine
from pagetally.storage.schema import (
    identity_key,
    jobhistory,
    printergroupsmembers,
    printers,
    userpquota,
    users,
)

EPOCH = datetime(2026, 1, 1, tzinfo=UTC)
COLUMNS = [
    "jobdate",
    "username",
    "printername",
    "action",
    "jobsize",
    "colorpages",
    "sheets",
    "copies",
    "jobprice",
    "reason",
    "billingcode",
    "hostname",
    "title",
    "filename",
    "jobsizebytes",
    "sha256",
    "options",
    "jobid",
    "jobuuid",
    "jobkey",
    "pagecounter",
    "precomputedjobsize",
    "precomputedjobprice",
]
OPTIONS = "media=iso_a4_210x297mm sides=two-sided-long-edge print-color-mode=monochrome"


def history_rows(n: int, n_users: int, n_printers: int, backend: str) -> Iterator[tuple[Any, ...]]:
    """`n` plausible history rows as tuples in COLUMNS order, in the engine's storage
    form (SQLite: integer microseconds and millionths; others: datetime, Decimal)."""
    sqlite = backend == "sqlite"
    base_us = int(EPOCH.timestamp()) * 1_000_000
    for i in range(n):
        user = f"user{(i * 7919) % n_users:06d}"
        printer = f"printer{i % (n_printers - n_printers // 10):03d}"
        host = f"ws{i % 500:03d}.lab.example.org"
        job_id = str(i % 100000)
        job_uuid = f"urn:uuid:{i:08x}-3c1e-4a4f-9d2e-{i:012x}"
        cents = i % 400
        if sqlite:
            date: Any = base_us + i * 5_000_000
            price: Any = cents * 10_000
        else:
            date = EPOCH + timedelta(seconds=i * 5)
            price = Decimal(cents) / 100
        yield (
            date, user, printer, "allow" if i % 20 else "deny", 1 + i % 40, i % 3, 1 + i % 20,
            1, price, "" if i % 20 else "hard limit reached",
            None if i % 10 else f"PRJ-{i % 50}", host, f"Report {i % 1000}.pdf",
            f"d{i:05d}-001", 20000 + i % 5000000, None, OPTIONS, job_id, job_uuid,
            identity_key(printer, job_id, host, job_uuid), 100000 + i, None, None,
        )  # fmt: skip


def load(settings: StoreSettings, args: argparse.Namespace) -> None:
    """Users, printers, printer groups, quota entries, then the history rows."""
    store = open_store(settings)
    store.upgrade()
    store.close()
    engine = make_engine(settings, readonly=False)
    n_groups = args.printers // 10
    n_plain = args.printers - n_groups
    with engine.begin() as conn:
        conn.execute(
            insert(users),
            [
                {
                    "username": f"user{i:06d}",
                    "balance": Decimal(1000),
                    "lifetimepaid": Decimal(1000),
                    "limitby": "balance",
                    "description": "",
                    "overcharge": Decimal(1),
                    "email": None,
                }
                for i in range(args.users)
            ],
        )
        conn.execute(
            insert(printers),
            [
                {
                    "printername": f"printer{i:03d}",
                    "description": "",
                    "priceperpage": Decimal("0.05"),
                    "priceperjob": Decimal(0),
                    "prices": '{"per_page":"0.05"}',
                    "passthrough": False,
                    "maxjobsize": None,
                }
                for i in range(args.printers)
            ],
        )
        pid = {r.printername: r.id for r in conn.execute(printers.select())}
        uid_first = min(r.id for r in conn.execute(users.select().limit(1)))
        conn.execute(
            insert(printergroupsmembers),
            [
                {"groupid": pid[f"printer{n_plain + i % n_groups:03d}"],
                 "printerid": pid[f"printer{i:03d}"]}
                for i in range(n_plain)
            ],
        )  # fmt: skip
    t = time.perf_counter()
    with engine.begin() as conn:
        batch: list[dict[str, Any]] = []
        for u in range(args.users):
            for k in range(args.quotas_per_user):
                p = (u + k * 13) % n_plain if k else u % n_plain
                batch.append(
                    {"userid": uid_first + u, "printerid": pid[f"printer{p:03d}"],
                     "pagecounter": u % 300, "lifepagecounter": u % 3000, "softlimit": 200,
                     "hardlimit": 250, "warncount": 0}
                )  # fmt: skip
            if len(batch) >= 20000:
                conn.execute(insert(userpquota), batch)
                batch = []
        if batch:
            conn.execute(insert(userpquota), batch)
    print(f"  quota entries loaded in {time.perf_counter() - t:.1f} s", flush=True)
    t = time.perf_counter()
    with engine.begin() as conn:  # secondary indexes are built once, after the load
        for index in jobhistory.indexes:
            index.drop(conn)
    raw = engine.raw_connection()
    try:
        cur = raw.cursor()
        rows = history_rows(args.jobs, args.users, args.printers, settings.backend)
        if settings.backend == "postgresql":
            with cur.copy(f"COPY jobhistory ({', '.join(COLUMNS)}) FROM STDIN") as copy:  # type: ignore[attr-defined]
                for row in rows:
                    copy.write_row(row)
        else:
            cur.execute("PRAGMA cache_size = -400000")  # 400 MB for the index pages
            cur.execute("BEGIN")  # the driver is in autocommit mode (we BEGIN ourselves)
            sql = (
                f"INSERT INTO jobhistory ({', '.join(COLUMNS)}) "
                f"VALUES ({', '.join('?' * len(COLUMNS))})"
            )
            while True:
                chunk = [row for _, row in zip(range(50000), rows, strict=False)]
                if not chunk:
                    break
                cur.executemany(sql, chunk)
        raw.commit()
        cur.close()
    finally:
        raw.close()
    with engine.begin() as conn:
        for index in sorted(jobhistory.indexes, key=lambda i: str(i.name)):
            index.create(conn)
    secs = time.perf_counter() - t
    print(f"  {args.jobs:,} history rows loaded (and indexed) in {secs:.1f} s", flush=True)
    with engine.connect() as conn:
        if settings.backend == "postgresql":  # now, not by autovacuum during a timed run
            conn = conn.execution_options(isolation_level="AUTOCOMMIT")
            conn.exec_driver_sql("VACUUM ANALYZE")
        else:
            conn.exec_driver_sql("ANALYZE")
            conn.commit()
    engine.dispose()


def timed(label: str, fn: Any, repeat: int = 3) -> float:
    best = float("inf")
    result: Any = None
    for _ in range(repeat):
        t = time.perf_counter()
        result = fn()
        best = min(best, time.perf_counter() - t)
    print(f"  {label}: {best * 1000:.1f} ms (best of {repeat}; {result})", flush=True)
    return best


def queries(settings: StoreSettings, args: argparse.Namespace) -> dict[str, float]:
    store = open_store(settings, readonly=False)
    try:

        def report() -> str:
            entries = store.user_quotas()
            people = store.find_users()
            return f"{len(entries):,} entries, {len(people):,} users"

        def one_user() -> str:
            flt = HistoryFilter(user=f"user{args.users // 2:06d}", newest_first=True)
            return f"{sum(1 for _ in store.history(flt))} jobs"

        def one_user_printer_month() -> str:
            flt = HistoryFilter(printer="printer007", since=EPOCH, until=EPOCH + timedelta(days=1))
            return f"{sum(1 for _ in store.history(flt))} jobs"

        return {
            "report": timed("report reads (all quota entries + all users)", report, 2),
            "history_user": timed("one user's history", one_user, 5),
            "history_printer_day": timed("one printer, one day", one_user_printer_month, 5),
        }
    finally:
        store.close()


def rule(snap: AccountSnapshot) -> Decision:
    assert snap.user is not None
    price = Decimal("0.10")
    if snap.user.balance < price:
        return Decision(Action.DENY, reason="balance too low")
    return Decision(Action.ALLOW, price=price, pages=2)


def writer(
    settings: StoreSettings, worker: int, barrier: Any, seconds: float
) -> tuple[int, float, float]:
    """Charge jobs of user<worker> for `seconds` once every writer is connected;
    returns (jobs charged, seconds taken, CPU seconds this process used)."""
    store = open_store(settings)
    store.get_user(f"user{worker:06d}")  # import, connect and check before the clock starts
    barrier.wait()
    done = 0
    cpu = time.process_time()
    start = time.perf_counter()
    deadline = start + seconds
    try:
        while time.perf_counter() < deadline:
            facts = JobFacts(
                user=f"user{worker:06d}", printer="printer000", pages=2,
                job_id=str(done), job_uuid=f"bench-{worker}-{done}-{time.time()}",
                host=f"bench{worker}",
            )  # fmt: skip
            store.decide_and_charge(facts, rule, datetime.now(UTC))
            done += 1
    finally:
        store.close()
    return done, time.perf_counter() - start, time.process_time() - cpu


def charges(settings: StoreSettings, args: argparse.Namespace) -> dict[int, float]:
    out: dict[int, float] = {}
    ctx = multiprocessing.get_context("spawn")
    with ctx.Manager() as manager:
        for n in args.writers:
            barrier = manager.Barrier(n)
            with ctx.Pool(n) as pool:
                results = pool.starmap(
                    writer, [(settings, w, barrier, args.seconds) for w in range(n)]
                )
            total = sum(r[0] for r in results)
            took = max(r[1] for r in results)
            out[n] = total / took
            print(f"  {n:2d} writers: {out[n]:7.1f} charges/s ({total} in {took:.1f} s)",
                  flush=True)  # fmt: skip
    return out


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    ap.add_argument("--engines", default="sqlite,postgresql")
    ap.add_argument("--users", type=int, default=100_000)
    ap.add_argument("--printers", type=int, default=100)
    ap.add_argument("--quotas-per-user", type=int, default=3)
    ap.add_argument("--jobs", type=int, default=5_000_000)
    ap.add_argument("--writers", type=lambda s: [int(x) for x in s.split(",")], default=[1, 4, 16])
    ap.add_argument("--seconds", type=float, default=10.0)
    args = ap.parse_args()
    if args.printers < 10 or args.users < 16:
        ap.error("need at least 10 printers and 16 users")
    for engine in args.engines.split(","):
        print(f"== {engine}", flush=True)
        t0 = time.perf_counter()
        if engine == "sqlite":
            folder = tempfile.mkdtemp(prefix="pt-bench-")
            settings = StoreSettings(name=f"{folder}/bench.db")
            server = None
        else:
            from tests.servers import start_postgresql

            server = start_postgresql(durable=True)
            settings = server.new_database("bench")
        try:
            load(settings, args)
            queries(settings, args)
            charges(settings, args)
        finally:
            if server is not None:
                server.stop()
            else:
                import shutil

                shutil.rmtree(folder, ignore_errors=True)
        print(f"  ({engine} total {time.perf_counter() - t0:.0f} s)", flush=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
