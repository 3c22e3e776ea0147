"""Web/API benchmark: a user's status and history pages with 1,000,000 jobs in the
store, and `pagetally report` at 100,000 users x 100 printers, before and after.

    .venv/bin/python bench/web.py                         # everything (tens of minutes)
    .venv/bin/python bench/web.py --jobs 100000 --engines sqlite --skip-report

Per engine (SQLite; PostgreSQL in a private server, tests/servers.py): a fresh
store gets `--users` users, 10 printers, two quota entries a user and `--jobs`
history rows, bulk-inserted through SQLAlchemy Core (executemany, not the charge
path). uvicorn serves the web app (create_app, one process) on 127.0.0.1 in a
child process; 1 and 32 client threads (each its own keep-alive connection,
its own user and API token) request for `--seconds` seconds:
- `/api/v1/me/status` (account, quota entries, groups' entries),
- `/api/v1/me/jobs?limit=50` (the newest page of the user's history) and the
  page after it (the cursor), and
- `/api/v1/jobs?limit=50` (an admin's newest page of everyone's jobs).
p50/p99 are of each request's wall time as the client saw it (the clients run
on the same machine: on 2 cores they take CPU from the server).

The report part loads 100,000 users x 100 printers x 3 quota entries (bench/store.py's
loader) into SQLite and times `pagetally report` (table and CSV, whole processes)
as it was (tests/cli/report_before.py, object by object) and as it is now: the
best wall time and the CPU time of that process (what a busy machine inflates
least).
"""

from __future__ import annotations

import argparse
import contextlib
import hashlib
import os
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Iterator
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from sqlalchemy import insert

from pagetally.core.tokens import TokenRole
from pagetally.storage import StoreSettings, open_store
from pagetally.storage.engine import make_engine
from pagetally.storage.schema import jobhistory, printers, userpquota, users
from tests.storage.fakejobs import history_row

ROOT = Path(__file__).resolve().parent.parent
NOW = datetime(2026, 12, 1, tzinfo=UTC)
PRINTERS = 10

SERVE = """
import sys
sys.path.insert(0, {root!r})
from pagetally.storage import StoreSettings, open_store
from pagetally.web.app import create_app
from pagetally.web.serving import server
from pagetally.web.settings import WebSettings
settings = StoreSettings(**{settings!r})
app = create_app(WebSettings(admins=frozenset({{"user000000"}}), secret="bench"),
                 open_store(settings))
server(app, "127.0.0.1", {port}).run()
"""


def load(settings: StoreSettings, n_users: int, n_jobs: int) -> None:
    store = open_store(settings)
    store.upgrade()
    store.close()
    engine = make_engine(settings, readonly=False)
    t = time.perf_counter()
    with engine.begin() as conn:
        conn.execute(
            insert(users),
            [
                {
                    "username": f"user{i:06d}",
                    "balance": Decimal(100),
                    "lifetimepaid": Decimal(100),
                    "limitby": "balance",
                    "description": "",
                    "overcharge": Decimal(1),
                    "email": None,
                }
                for i in range(n_users)
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
                for i in range(PRINTERS)
            ],
        )
        uid = {r.username: r.id for r in conn.execute(users.select())}
        pid = {r.printername: r.id for r in conn.execute(printers.select())}
        conn.execute(
            insert(userpquota),
            [
                {
                    "userid": uid[f"user{u:06d}"],
                    "printerid": pid[f"printer{(u + k) % PRINTERS:03d}"],
                    "pagecounter": u % 300,
                    "lifepagecounter": u % 3000,
                    "softlimit": 200,
                    "hardlimit": 250,
                    "warncount": 0,
                }
                for u in range(n_users)
                for k in range(2)
            ],
        )
    batch = 20_000
    for start in range(0, n_jobs, batch):
        rows = [history_row(i, n_users, PRINTERS) for i in range(start, min(n_jobs, start + batch))]
        with engine.begin() as conn:
            conn.execute(insert(jobhistory), rows)
        if start and start % 200_000 == 0:
            print(f"  {start:,} jobs ({time.perf_counter() - t:.0f} s)", flush=True)
    with engine.connect() as conn:
        conn.exec_driver_sql("ANALYZE")
        conn.commit()
    engine.dispose()
    print(
        f"  {n_users:,} users, {n_jobs:,} jobs loaded in {time.perf_counter() - t:.0f} s",
        flush=True,
    )


def tokens(settings: StoreSettings, n: int, n_users: int) -> list[str]:
    store = open_store(settings)
    try:
        out = []
        for i in range(n):
            user = f"user{(i * 7919 + 1) % n_users:06d}" if i else "user000000"
            out.append(
                store.add_api_token(user, TokenRole.ADMIN if i == 0 else TokenRole.USER, NOW)[1]
            )
        return out
    finally:
        store.close()


def serve(settings: StoreSettings) -> tuple[subprocess.Popen[bytes], int]:
    import httpx

    from tests.ports import free_port

    port = free_port()
    import dataclasses

    code = SERVE.format(root=str(ROOT), settings=dataclasses.asdict(settings), port=port)
    proc = subprocess.Popen([sys.executable, "-c", code])
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            httpx.get(f"http://127.0.0.1:{port}/login", timeout=1)
            return proc, port
        except httpx.HTTPError:
            time.sleep(0.2)
    proc.kill()
    raise SystemExit("uvicorn did not start")


def run_clients(
    port: int, secrets: list[str], paths: list[str], clients: int, seconds: float
) -> dict[str, list[float]]:
    import httpx

    times: dict[str, list[float]] = {p: [] for p in paths}
    lock = threading.Lock()
    barrier = threading.Barrier(clients)

    def client(k: int) -> None:
        secret = secrets[1 + k % (len(secrets) - 1)]
        admin = secrets[0]
        mine: dict[str, list[float]] = {p: [] for p in paths}
        with httpx.Client(base_url=f"http://127.0.0.1:{port}", timeout=30) as http:
            http.get("/api/v1/me", headers={"Authorization": f"Bearer {secret}"})
            barrier.wait()
            end = time.perf_counter() + seconds
            while time.perf_counter() < end:
                for path in paths:
                    who = admin if path.startswith("/api/v1/jobs") else secret
                    headers = {"Authorization": f"Bearer {who}"}
                    url = path
                    if path == "next page":
                        first = http.get("/api/v1/me/jobs?limit=50", headers=headers).json()
                        url = f"/api/v1/me/jobs?limit=50&after={first['next']}"
                    t = time.perf_counter()
                    r = http.get(url, headers=headers)
                    mine[path].append(time.perf_counter() - t)
                    assert r.status_code == 200, (url, r.status_code, r.text[:200])
        with lock:
            for p in paths:
                times[p] += mine[p]

    threads = [threading.Thread(target=client, args=(k,)) for k in range(clients)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return times


def cpu_seconds(pid: int) -> float:
    """The user + system CPU time a process has used so far (Linux /proc)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))] * 1000


@contextlib.contextmanager
def loaded_server(
    engine: str, n_users: int, n_jobs: int
) -> Iterator[tuple[StoreSettings, subprocess.Popen[bytes], int]]:
    """A store of `engine` (SQLite in a temporary folder, or a private PostgreSQL)
    loaded with `n_users` and `n_jobs`, served by uvicorn in a child process:
    (settings, process, port); all of it stopped and removed afterwards."""
    server = None
    proc = None
    folder = tempfile.mkdtemp(prefix="pt-web-bench-")
    try:
        if engine == "sqlite":
            settings = StoreSettings(name=f"{folder}/bench.db")
        else:
            from tests.servers import start_postgresql

            server = start_postgresql()
            settings = server.new_database("bench")
        load(settings, n_users, n_jobs)
        proc, port = serve(settings)
        yield settings, proc, port
    finally:
        if proc is not None:
            proc.terminate()
            proc.wait(10)
        if server is not None:
            server.stop()
        shutil.rmtree(folder, ignore_errors=True)


def table_line(engine: str, clients: int, path: str, v: list[float], *extra: str) -> str:
    """One Markdown row: requests, p50, p99 and mean in ms, then `extra` columns."""
    cells = [
        engine,
        str(clients),
        path,
        str(len(v)),
        f"{pct(v, 0.5):.1f}",
        f"{pct(v, 0.99):.1f}",
        f"{statistics.mean(v) * 1000:.1f}",
        *extra,
    ]
    return "| " + " | ".join(cells) + " |"


def web_bench(engine: str, args: argparse.Namespace) -> list[str]:
    lines = []
    with loaded_server(engine, args.users, args.jobs) as (settings, proc, port):
        secrets = tokens(settings, 33, args.users)
        paths = [
            "/api/v1/me/status",
            "/api/v1/me/jobs?limit=50",
            "next page",
            "/api/v1/jobs?limit=50",
        ]
        for clients in args.clients:
            used = cpu_seconds(proc.pid)
            times = run_clients(port, secrets, paths, clients, args.seconds)
            # the server's CPU per request answered (the first page of "next page" too)
            served = sum(len(v) for v in times.values()) + len(times["next page"])
            if served == 0:  # a client failed (above); e.g. under 50 jobs a user: no next page
                raise SystemExit("no request was answered: give each user over 50 jobs")
            per = (cpu_seconds(proc.pid) - used) / served * 1000
            for path in paths:
                line = table_line(engine, clients, path, times[path], f"{per:.1f}")
                print(line, flush=True)
                lines.append(line)
    return lines


BEFORE = """
import sys, typer
sys.path.insert(0, {root!r})
from pagetally.cli.env import Env
from tests.cli import report_before
app = typer.Typer(add_completion=False)
app.callback()(lambda: None)
report_before.register(app)
sys.argv = ["pagetally", "report", *{args!r}]
app(obj=Env(config_path={conf!r}))
"""


def report_bench(args: argparse.Namespace) -> list[str]:
    sys.path.insert(0, str(ROOT / "bench"))
    from store import load as load_quotas  # bench/store.py's loader

    folder = tempfile.mkdtemp(prefix="pt-report-bench-")
    db = f"{folder}/report.db"
    conf = f"{folder}/pagetally.conf"
    Path(conf).write_text(f"[global]\nstoragebackend: sqlite\nstoragename: {db}\n")
    ns = argparse.Namespace(users=args.report_users, printers=100, quotas_per_user=3, jobs=0)
    load_quotas(StoreSettings(name=db), ns)
    lines = []
    env = {**os.environ, "PAGETALLY_CONFIG": conf}
    for fmt in ("table", "csv"):
        report = [sys.executable, "-m", "pagetally.cli.main", "-C", conf, "report", "--format", fmt]
        runs = [
            (
                "before",
                [
                    sys.executable,
                    "-c",
                    BEFORE.format(root=str(ROOT), conf=conf, args=["--format", fmt]),
                ],
                ROOT,
            ),
            *[(f"{tree}", report, Path(tree)) for tree in args.compare_tree],
            ("after", report, ROOT),
        ]
        outputs = set()
        for label, cmd, cwd in runs:
            best = cpu = float("inf")
            out = b""
            for _ in range(args.repeat):
                t = time.perf_counter()
                used = resource.getrusage(resource.RUSAGE_CHILDREN)
                out = subprocess.run(cmd, check=True, capture_output=True, env=env, cwd=cwd).stdout
                best = min(best, time.perf_counter() - t)
                after = resource.getrusage(resource.RUSAGE_CHILDREN)
                cpu = min(cpu, after.ru_utime + after.ru_stime - used.ru_utime - used.ru_stime)
            n_lines = out.count(b"\n")
            outputs.add(hashlib.sha256(out).hexdigest())
            line = (
                f"| report --format {fmt} | {label} | {best:.2f} s | {cpu:.2f} s | "
                f"{n_lines:,} lines | {os.getloadavg()[0]:.2f} |"
            )
            print(line, flush=True)
            lines.append(line)
        if len(outputs) != 1:
            raise SystemExit(f"report --format {fmt}: the outputs differ")
    import shutil

    shutil.rmtree(folder, ignore_errors=True)
    return lines


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    ap.add_argument("--engines", default="sqlite,postgresql")
    ap.add_argument("--users", type=int, default=10_000)
    ap.add_argument("--jobs", type=int, default=1_000_000)
    ap.add_argument("--clients", type=lambda s: [int(x) for x in s.split(",")], default=[1, 32])
    ap.add_argument("--seconds", type=float, default=15.0)
    ap.add_argument("--report-users", type=int, default=100_000)
    ap.add_argument("--repeat", type=int, default=2)
    ap.add_argument("--skip-web", action="store_true")
    ap.add_argument("--skip-report", action="store_true")
    ap.add_argument(
        "--compare-tree",
        action="append",
        default=[],
        metavar="PATH",
        help="also time `pagetally report` of the checkout at PATH (e.g. main's), same venv",
    )
    args = ap.parse_args()
    lines: list[str] = []
    if not args.skip_report:
        print("== pagetally report", flush=True)
        lines += [
            "| what | version | best wall time | its CPU time | output | load (1 min) |",
            "|---|---|---|---|---|---|",
        ]
        lines += report_bench(args)
    if not args.skip_web:
        lines += [
            "",
            "| store | clients | request | n | p50 ms | p99 ms | mean ms | server CPU ms/request |",
            "|---|---|---|---|---|---|---|---|",
        ]
        for engine in args.engines.split(","):
            print(f"== {engine}", flush=True)
            lines += web_bench(engine, args)
    print("\n".join(lines))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
