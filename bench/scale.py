"""Charges per second as writers are added, on PostgreSQL: the charge paths side
by side in one run, with where each charge's time goes; and through two print
servers.

    .venv/bin/python bench/scale.py                   # 100,000 users, 1,000,000 jobs
    .venv/bin/python bench/scale.py --users 20000 --jobs 300000 --seconds 5

One durable PostgreSQL (fsync on, tests/servers.py) is loaded as bench/store.py
loads it. Then, for each path, `decide_and_charge` with 1, 4 and 16 writer
processes, each charging its own user on a printer in a printer group (bench/
store.py's writer), for `--seconds` each:
- "statements" (PAGETALLY_PG_FUNCTIONS=0): the statement-by-statement path of
  d701c18, a dozen round trips a job;
- "two trips" (PAGETALLY_PG_ONE_TRIP=0): migration 0007's functions, lock and
  read in one trip, charge and COMMIT in another;
- "one trip": migration 0010's `pagetally_decide_charge`, one statement that is
  its own transaction (storage/pg_charge.py decide_and_charge_once).
Beside each rate: the writers' own CPU a charge, the PostgreSQL server's CPU a
charge (every server process, the exited ones through the postmaster's
children's times), WAL flushes a charge (the group commit: one fsync for
several commits), and the machine's load: the rate on two shared cores is
bounded by (client + server CPU a charge), so that is the figure to compare.

"two print servers": two `pagetally serve` processes (own config, socket and
connection pool each) on the same database; 16 writers, 8 a server, each doing
a print job's store work through its server's socket: snapshot, decide (core's
rules), charge (RemoteStore, what the backend does), for each path.

At the end every writer's user is checked: balance and page counter exactly what
its charges say, history rows equal to the charges made.
"""

from __future__ import annotations

import argparse
import multiprocessing
import os
import subprocess
import sys
import tempfile
import time
from collections.abc import Sequence
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from store import load, writer  # bench/store.py

from pagetally.core.models import ChargeRequest, JobFacts
from pagetally.storage import HistoryFilter, StoreSettings, open_store

PAGETALLY = Path(sys.executable).parent / "pagetally"


#: the charge paths compared, and the environment that chooses each
PATHS = {
    "statements": {"PAGETALLY_PG_FUNCTIONS": "0", "PAGETALLY_PG_ONE_TRIP": "0"},
    "two trips": {"PAGETALLY_PG_FUNCTIONS": "1", "PAGETALLY_PG_ONE_TRIP": "0"},
    "one trip": {"PAGETALLY_PG_FUNCTIONS": "1", "PAGETALLY_PG_ONE_TRIP": "1"},
}


def direct_writer(
    settings: StoreSettings, worker: int, barrier: Any, seconds: float, path: str
) -> tuple[int, float, float]:
    os.environ.update(PATHS[path])  # read when pagetally.storage.pg_charge is imported
    return writer(settings, worker, barrier, seconds)


def served_writer(
    socket: str, worker: int, barrier: Any, seconds: float
) -> tuple[int, float, float]:
    """A print job's store work through `pagetally serve`: snapshot, decide, charge."""
    from pagetally.core.rules import decide
    from pagetally.core.settings import RuleSettings
    from pagetally.service.client import connect

    store = connect(socket)
    assert store is not None, socket
    user = f"user{worker:06d}"
    store.get_user(user)
    rules = RuleSettings()
    barrier.wait()
    done = 0
    cpu = time.process_time()
    start = time.perf_counter()
    deadline = start + seconds
    try:
        while time.perf_counter() < deadline:
            facts = JobFacts(
                user=user,
                printer="printer000",
                pages=2,
                job_id=str(done),
                job_uuid=f"served-{worker}-{done}-{time.time()}",
                host=f"ps{worker % 2}",
            )
            now = datetime.now(UTC)
            snap = store.snapshot(facts.user, facts.printer, facts.billing_code)
            store.charge(
                ChargeRequest(facts=facts, decision=decide(snap, facts, rules, now), date=now)
            )
            done += 1
    finally:
        store.close()
    return done, time.perf_counter() - start, time.process_time() - cpu


def _one(store: Any, user: str, i: int, tag: str) -> None:
    from store import rule

    store.decide_and_charge(
        JobFacts(
            user=user,
            printer="printer000",
            pages=2,
            job_id=str(i),
            job_uuid=f"{tag}-{i}",
            host="cpu",
        ),
        rule,
        datetime.now(UTC),
    )


class ServerTimes:
    """What the PostgreSQL server spent: CPU of all its processes (the exited
    backends' through the postmaster's children's times), WAL flushes, and the
    statements run (pg_stat_statements, loaded by main)."""

    def __init__(self, server: Any, settings: StoreSettings) -> None:
        import psycopg

        self.postmaster = int((server.folder / "data" / "postmaster.pid").read_text().split()[0])
        self.su = psycopg.connect(
            host="127.0.0.1",
            port=server.port,
            user=server.superuser,
            password=server.superpassword,
            dbname=settings.name,
            autocommit=True,
        )
        self.su.execute("CREATE EXTENSION IF NOT EXISTS pg_stat_statements")

    def cpu(self) -> float:
        tick = os.sysconf("SC_CLK_TCK")
        total = 0
        for entry in os.listdir("/proc"):
            if not entry.isdigit():
                continue
            try:
                fields = Path(f"/proc/{entry}/stat").read_text().rsplit(")", 1)[1].split()
            except OSError:
                continue
            pid, ppid = int(entry), int(fields[1])
            if pid == self.postmaster:
                total += sum(int(f) for f in fields[11:15])  # own and reaped children's
            elif ppid == self.postmaster:
                total += int(fields[11]) + int(fields[12])
        return total / tick

    def mark(self) -> tuple[float, int, int, int]:
        time.sleep(0.5)  # the writers' backends exit and are reaped
        flushes = self.su.execute("SELECT wal_sync FROM pg_stat_wal").fetchone()
        sessions = self.su.execute(
            "SELECT sessions FROM pg_stat_database WHERE datname = current_database()"
        ).fetchone()
        calls = self.su.execute(
            "SELECT coalesce(sum(calls), 0) FROM pg_stat_statements "
            "WHERE toplevel AND query NOT LIKE '%%pg_stat%%'"
        ).fetchone()
        assert flushes is not None and calls is not None and sessions is not None
        return self.cpu(), int(flushes[0]), int(calls[0]), int(sessions[0])


def cpu_of(pids: list[int]) -> float:
    """CPU seconds the processes `pids` used so far."""
    total = 0
    for pid in pids:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        total += int(fields[11]) + int(fields[12])
    return total / os.sysconf("SC_CLK_TCK")


def per_charge(times: ServerTimes, before: tuple[float, int, int, int], n: int) -> str:
    cpu, flushes, calls, sessions = times.mark()
    if ARGS.top:  # the statements that took the server's time, since the last reset
        for row in times.su.execute(
            "SELECT calls, total_exec_time, left(regexp_replace(query, '\\s+', ' ', 'g'), 90)"
            " FROM pg_stat_statements ORDER BY total_exec_time DESC LIMIT %s",
            (ARGS.top,),
        ):
            print(f"      {row[0]:7d} calls {row[1] / max(row[0], 1):.3f} ms  {row[2]}")
    times.su.execute("SELECT pg_stat_statements_reset()")
    return (
        f"server CPU {(cpu - before[0]) / n * 1000:.2f} ms, "
        f"{(flushes - before[1]) / n:.2f} WAL flushes, "
        f"{(calls - before[2]) / n:.1f} statements, "
        f"{(sessions - before[3]) / n:.2f} new connections a charge"
    )


def one_writer(settings: StoreSettings, times: ServerTimes, n: int = 1000) -> None:
    """One writer, in this process: wall, client CPU and server CPU a charge on
    each path (less disturbed by a busy machine than a rate is)."""
    from pagetally.storage import pg_charge

    user = f"user{max(ARGS.writers) + 1:06d}"
    for path, env in PATHS.items():
        pg_charge.ENABLED = env["PAGETALLY_PG_FUNCTIONS"] == "1"
        pg_charge.ONE_TRIP = env["PAGETALLY_PG_ONE_TRIP"] == "1"
        store = open_store(settings)
        for i in range(50):
            _one(store, user, i, f"warm-{path}")
        mark = times.mark()
        c0, w0 = time.process_time(), time.perf_counter()
        for i in range(n):
            _one(store, user, i, f"cpu-{path}")
        client = (time.process_time() - c0) / n * 1000
        wall = (time.perf_counter() - w0) / n * 1000
        store.close()
        print(
            f"  one writer, {path:10s}: wall {wall:.2f} ms, client CPU {client:.2f} ms, "
            f"{per_charge(times, mark, n)} (load {os.getloadavg()[0]:.1f})",
            flush=True,
        )


def run_pool(fn: Any, args: list[tuple[Any, ...]], n: int) -> tuple[float, int, float]:
    """(charges a second, charges, the writers' CPU seconds)"""
    ctx = multiprocessing.get_context("spawn")
    with ctx.Manager() as manager:
        barrier = manager.Barrier(n)
        with ctx.Pool(n) as pool:
            results = pool.starmap(fn, [(a[0], a[1], barrier, *a[2:]) for a in args])
    total = sum(r[0] for r in results)
    return total / max(r[1] for r in results), total, sum(r[2] for r in results)


def measured(
    label: str,
    times: ServerTimes,
    fn: Any,
    args: list[tuple[Any, ...]],
    n: int,
    services: Sequence[int] = (),
) -> float:
    """`services`: pids of `pagetally serve` processes between writers and store."""
    mark = times.mark()
    load = os.getloadavg()[0]
    served = cpu_of(list(services))
    rate, total, cpu = run_pool(fn, args, n)
    if services:
        cpu += cpu_of(list(services)) - served
    print(
        f"  {label}: {rate:7.1f} charges/s; client CPU {cpu / total * 1000:.2f} ms"
        f"{' (writers and services)' if services else ''}, "
        f"{per_charge(times, mark, total)} (load {load:.1f} → {os.getloadavg()[0]:.1f})",
        flush=True,
    )
    return rate


def start_servers(
    settings: StoreSettings, base: Path, path: str
) -> list[tuple[subprocess.Popen[bytes], str]]:
    out = []
    for i in range(2):
        folder = base / f"server{i}-{path.replace(' ', '-')}"
        folder.mkdir()
        sock = str(folder / "s.sock")
        conf = folder / "pagetally.conf"
        conf.write_text(
            f"[global]\nstoragebackend: postgresql\nstorageserver: {settings.server}\n"
            f"storagename: {settings.name}\nstorageuser: {settings.user}\n"
            f"storageuserpw: {settings.password}\naccountingservice: {sock}\n"
            f"directory: {folder / 'spool'}\nlogger: stderr\n"
        )
        admin = folder / "pagetally-admin.conf"
        admin.write_text(
            f"[global]\nstorageadmin: {settings.admin_user}\n"
            f"storageadminpw: {settings.admin_password}\n"
        )
        admin.chmod(0o600)
        env = {**os.environ, **PATHS[path]}
        with open(folder / "serve.log", "wb") as log:
            proc = subprocess.Popen(
                [str(PAGETALLY), "--config", str(conf), "serve", "--no-jobs"],
                env=env,
                stdout=subprocess.DEVNULL,
                stderr=log,
            )
        deadline = time.monotonic() + 30
        while not os.path.exists(sock):
            if proc.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError((folder / "serve.log").read_text()[-2000:])
            time.sleep(0.1)
        out.append((proc, sock))
    return out


def check_exact(settings: StoreSettings, charged: dict[str, int]) -> None:
    """Each user's history holds every charge made, and the balance is the start
    less exactly the prices of those rows."""
    store = open_store(settings)
    try:
        for user, n in sorted(charged.items()):
            jobs = [j for j in store.history(HistoryFilter(user=user, since=START))]
            got = store.get_user(user).balance
            want = Decimal(1000) - sum((j.price for j in jobs), Decimal(0))
            assert len(jobs) == n, (user, len(jobs), n)
            assert got == want, (user, got, want)
    finally:
        store.close()


START = datetime.now(UTC)
ARGS = argparse.Namespace(writers=[16], top=0)


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    ap.add_argument("--users", type=int, default=100_000)
    ap.add_argument("--printers", type=int, default=100)
    ap.add_argument("--quotas-per-user", type=int, default=3)
    ap.add_argument("--jobs", type=int, default=1_000_000)
    ap.add_argument("--writers", type=lambda s: [int(x) for x in s.split(",")], default=[1, 4, 16])
    ap.add_argument("--seconds", type=float, default=10.0)
    ap.add_argument("--paths", type=lambda s: s.split(","), default=list(PATHS))
    ap.add_argument(
        "--server-setting",
        action="append",
        default=[],
        metavar="NAME=VALUE",
        help="a PostgreSQL setting (e.g. commit_delay=100)",
    )
    ap.add_argument("--top", type=int, default=0, help="show the N statements that took longest")
    ap.add_argument("--skip-servers", action="store_true", help="no two-print-server run")
    args = ap.parse_args()
    ARGS.writers, ARGS.top = args.writers, args.top
    from tests.servers import start_postgresql

    server = start_postgresql(
        durable=True, settings=["shared_preload_libraries=pg_stat_statements", *args.server_setting]
    )
    base = Path(tempfile.mkdtemp(prefix="pt-scale-"))
    rows: dict[tuple[str, str], float] = {}
    try:
        settings = server.new_database("scale")
        t = time.perf_counter()
        load(settings, args)
        print(
            f"loaded in {time.perf_counter() - t:.0f} s (machine load {os.getloadavg()[0]:.1f})",
            flush=True,
        )
        times = ServerTimes(server, settings)
        one_writer(settings, times)
        for n in args.writers:
            for path in args.paths:
                rows[(f"{n} writers", path)] = measured(
                    f"{n:2d} writers, {path:10s}",
                    times,
                    direct_writer,
                    [(settings, w, args.seconds, path) for w in range(n)],
                    n,
                )
        if not args.skip_servers:
            n = max(args.writers)
            for path in args.paths:
                servers = start_servers(settings, base, path)
                try:
                    socks = [s for _, s in servers]
                    rows[(f"two print servers, {n} writers", path)] = measured(
                        f"two print servers, {n} writers, {path:10s}",
                        times,
                        served_writer,
                        [(socks[w % 2], w, args.seconds) for w in range(n)],
                        n,
                        [p.pid for p, _ in servers],
                    )
                finally:
                    for proc, _ in servers:
                        proc.terminate()
                        proc.wait(30)
        times.su.close()
        store = open_store(settings)
        try:
            charged = {
                f"user{w:06d}": sum(
                    1 for _ in store.history(HistoryFilter(user=f"user{w:06d}", since=START))
                )
                for w in range(max(args.writers) + 2)
            }
        finally:
            store.close()
        check_exact(settings, charged)
        print(f"exact: {sum(charged.values())} charges, balances and history agree")
        print(f"\n| run | {' | '.join(args.paths)} |\n|---|{'---:|' * len(args.paths)}")
        for what in dict.fromkeys(r[0] for r in rows):
            print(f"| {what} | {' | '.join(f'{rows[(what, p)]:.0f}/s' for p in args.paths)} |")
    finally:
        server.stop()
        import shutil

        shutil.rmtree(base, ignore_errors=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
