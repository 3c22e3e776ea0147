"""Charges per second as writers are added, on PostgreSQL: before/after in one run,
and through two print servers.

    .venv/bin/python bench/scale.py                   # 100,000 users, 1,000,000 jobs
    .venv/bin/python bench/scale.py --users 20000 --jobs 300000 --seconds 5

One durable PostgreSQL (fsync on, tests/servers.py) is loaded as bench/store.py
loads it. Then, for "before" (PAGETALLY_PG_FUNCTIONS=0: the statement-by-
statement charge path of d701c18, a dozen round trips a job) and "after" (the
server-side functions of migration 0007, two round trips), `decide_and_charge`
with 1, 4 and 16 writer processes, each charging its own user on a printer in a
printer group (bench/store.py's writer), for `--seconds` each.

"two print servers": two `pagetally serve` processes (own config, socket and
connection pool each) on the same database; 16 writers, 8 a server, each doing
a print job's store work through its server's socket: snapshot, decide (core's
rules), charge (RemoteStore, what the backend does), for "before" and "after".

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


def _mode_env(after: bool) -> None:
    os.environ["PAGETALLY_PG_FUNCTIONS"] = "1" if after else "0"


def direct_writer(settings: StoreSettings, worker: int, barrier: Any, seconds: float,
                  after: bool) -> tuple[int, float]:
    _mode_env(after)  # read when pagetally.storage.pg_charge is first imported (below)
    return writer(settings, worker, barrier, seconds)


def served_writer(socket: str, worker: int, barrier: Any, seconds: float) -> tuple[int, float]:
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
    start = time.perf_counter()
    deadline = start + seconds
    try:
        while time.perf_counter() < deadline:
            facts = JobFacts(user=user, printer="printer000", pages=2, job_id=str(done),
                             job_uuid=f"served-{worker}-{done}-{time.time()}",
                             host=f"ps{worker % 2}")
            now = datetime.now(UTC)
            snap = store.snapshot(facts.user, facts.printer, facts.billing_code)
            store.charge(ChargeRequest(facts=facts, decision=decide(snap, facts, rules, now),
                                       date=now))
            done += 1
    finally:
        store.close()
    return done, time.perf_counter() - start


def _one(store: Any, user: str, i: int, tag: str) -> None:
    from store import rule

    store.decide_and_charge(JobFacts(user=user, printer="printer000", pages=2, job_id=str(i),
                                     job_uuid=f"{tag}-{i}", host="cpu"), rule, datetime.now(UTC))


def cpu_per_charge(settings: StoreSettings, n: int = 1000) -> None:
    """The client's CPU a charge, one writer: with 16 writers on two cores this,
    not the locks, bounds the rate, and it is less disturbed by a busy machine
    than a rate is."""
    from pagetally.storage import pg_charge

    user = f"user{max(ARGS.writers) + 1:06d}"
    for after in (False, True):
        pg_charge.ENABLED = after
        store = open_store(settings)
        for i in range(50):
            _one(store, user, i, f"warm-{after}")
        c0, w0 = time.process_time(), time.perf_counter()
        for i in range(n):
            _one(store, user, i, f"cpu-{after}")
        client = (time.process_time() - c0) / n * 1000
        wall = (time.perf_counter() - w0) / n * 1000
        store.close()
        print(f"  one writer, {'after ' if after else 'before'}: client CPU {client:.2f} ms, "
              f"wall {wall:.2f} ms a charge (load {os.getloadavg()[0]:.1f})", flush=True)


def run_pool(fn: Any, args: list[tuple[Any, ...]], n: int) -> tuple[float, int]:
    ctx = multiprocessing.get_context("spawn")
    with ctx.Manager() as manager:
        barrier = manager.Barrier(n)
        with ctx.Pool(n) as pool:
            results = pool.starmap(fn, [(a[0], a[1], barrier, *a[2:]) for a in args])
    total = sum(done for done, _ in results)
    return total / max(secs for _, secs in results), total


def start_servers(settings: StoreSettings, base: Path, after: bool) -> list[
        tuple[subprocess.Popen[bytes], str]]:
    out = []
    for i in range(2):
        folder = base / f"server{i}-{'after' if after else 'before'}"
        folder.mkdir()
        sock = str(folder / "s.sock")
        conf = folder / "pagetally.conf"
        conf.write_text(f"[global]\nstoragebackend: postgresql\nstorageserver: {settings.server}\n"
                        f"storagename: {settings.name}\nstorageuser: {settings.user}\n"
                        f"storageuserpw: {settings.password}\naccountingservice: {sock}\n"
                        f"directory: {folder / 'spool'}\nlogger: stderr\n")
        admin = folder / "pagetally-admin.conf"
        admin.write_text(f"[global]\nstorageadmin: {settings.admin_user}\n"
                         f"storageadminpw: {settings.admin_password}\n")
        admin.chmod(0o600)
        env = {**os.environ, "PAGETALLY_PG_FUNCTIONS": "1" if after else "0"}
        with open(folder / "serve.log", "wb") as log:
            proc = subprocess.Popen([str(PAGETALLY), "--config", str(conf), "serve",
                                     "--no-jobs"], env=env, stdout=subprocess.DEVNULL, stderr=log)
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
ARGS = argparse.Namespace(writers=[16])


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    ap.add_argument("--users", type=int, default=100_000)
    ap.add_argument("--printers", type=int, default=100)
    ap.add_argument("--quotas-per-user", type=int, default=3)
    ap.add_argument("--jobs", type=int, default=1_000_000)
    ap.add_argument("--writers", type=lambda s: [int(x) for x in s.split(",")], default=[1, 4, 16])
    ap.add_argument("--seconds", type=float, default=10.0)
    ap.add_argument("--skip-servers", action="store_true", help="no two-print-server run")
    args = ap.parse_args()
    ARGS.writers = args.writers
    from tests.servers import start_postgresql

    server = start_postgresql(durable=True)
    base = Path(tempfile.mkdtemp(prefix="pt-scale-"))
    rows: list[tuple[str, str, float]] = []
    try:
        settings = server.new_database("scale")
        t = time.perf_counter()
        load(settings, args)
        print(f"loaded in {time.perf_counter() - t:.0f} s (machine load {os.getloadavg()[0]:.1f})",
              flush=True)
        cpu_per_charge(settings)
        for n in args.writers:
            for after in (False, True):
                label = "after " if after else "before"
                rate, _ = run_pool(direct_writer, [(settings, w, args.seconds, after)
                                                   for w in range(n)], n)
                rows.append((f"{n} writers", label, rate))
                print(f"  {n:2d} writers {label}: {rate:7.1f} charges/s "
                      f"(load {os.getloadavg()[0]:.1f})", flush=True)
        if not args.skip_servers:
            n = max(args.writers)
            for after in (False, True):
                label = "after " if after else "before"
                servers = start_servers(settings, base, after)
                try:
                    socks = [s for _, s in servers]
                    rate, _ = run_pool(served_writer, [(socks[w % 2], w, args.seconds)
                                                       for w in range(n)], n)
                finally:
                    for proc, _ in servers:
                        proc.terminate()
                        proc.wait(30)
                rows.append((f"two print servers, {n} writers", label, rate))
                print(f"  two print servers, {n} writers {label}: {rate:7.1f} charges/s "
                      f"(load {os.getloadavg()[0]:.1f})", flush=True)
        store = open_store(settings)
        try:
            charged = {f"user{w:06d}": sum(1 for _ in store.history(
                HistoryFilter(user=f"user{w:06d}", since=START)))
                for w in range(max(args.writers) + 2)}
        finally:
            store.close()
        check_exact(settings, charged)
        print(f"exact: {sum(charged.values())} charges, balances and history agree")
        print("\n| run | before (d701c18 path) | after |\n|---|---:|---:|")
        for what in dict.fromkeys(r[0] for r in rows):
            b = next(r[2] for r in rows if r[0] == what and r[1] == "before")
            a = next(r[2] for r in rows if r[0] == what and r[1] == "after ")
            print(f"| {what} | {b:.0f}/s | {a:.0f}/s |")
    finally:
        server.stop()
        import shutil

        shutil.rmtree(base, ignore_errors=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
