"""Web/API benchmark: a user's status and history pages with 1,000,000 jobs in the
store, and `pagetally report` at 100,000 users x 100 printers, before and after.

    .venv/bin/python bench/web.py                         # everything (tens of minutes)
    .venv/bin/python bench/web.py --jobs 100000 --engines sqlite --skip-report

    .venv/bin/python bench/web.py --skip-report --before /work/main   # before/after

Per engine (SQLite; PostgreSQL in a private server, tests/servers.py): a fresh
store gets `--users` users, 10 printers, two quota entries a user and `--jobs`
history rows, bulk-inserted through SQLAlchemy Core (executemany, not the charge
path). uvicorn serves the web app on 127.0.0.1 in a child process: `--before`'s
checkout first (one process, with its own .venv), then this code with each of
`--workers` processes, on the same store. 1 and 32 clients (`--clients`), each
its own keep-alive connection with its own user, API token and session cookie,
sending its next request when the last answer is read, request for `--seconds`
seconds (`--paths`):
- api: `/api/v1/me/status` (account, quota entries, groups' entries),
  `/api/v1/me/jobs?limit=50` (the newest page of the user's history) and the
  page after it (the cursor), `/api/v1/jobs?limit=50` (an admin's page of
  everyone's jobs);
- pages: the status page `/`, `/history` and its next page, and an admin's
  `/admin/dashboard`.
p50/p99 are of each request's wall time as the client saw it. The client
(`--client`) is bench/loadgen.py (a few processes of asyncio connections with
prebuilt requests), or `httpx`: one thread per client with httpx in this
process, as this bench had it before, which takes much more CPU per request
from the two cores the server runs on. Each row says the server's CPU time per
request (all its processes) and the client's, and the load average.

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
import re
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
sys.path.insert(0, str(Path(__file__).resolve().parent))

import loadgen  # bench/loadgen.py
from sqlalchemy import insert

from pagetally.core.tokens import TokenRole
from pagetally.storage import StoreSettings, open_store
from pagetally.storage.engine import make_engine
from pagetally.storage.schema import jobhistory, printers, userpquota, users
from tests.processes import stop_group
from tests.storage.fakejobs import history_row

ROOT = Path(__file__).resolve().parent.parent
NOW = datetime(2026, 12, 1, tzinfo=UTC)
PRINTERS = 10
#: the loaded history ends now and spans a year
END = datetime.now(UTC).replace(microsecond=0)
YEAR = timedelta(days=365)

#: the server of the code as it is: `workers` uvicorn processes (as `pagetally
#: web --workers`), each building the app with bench/webserve.py's factory
SERVE = """
import sys
sys.path[:0] = [{root!r}, {root!r} + "/bench"]
import os
os.environ["BENCH_STORE"] = {settings!r}
from pagetally.web.workers import serve_processes
serve_processes("webserve:app", "127.0.0.1", {port}, {workers})
"""

#: the server of another checkout (`--before`: the main branch), one process as it
#: served then, on the same store (its schema check told that one newer is its own:
#: the newer revisions add tables it does not read)
SERVE_BEFORE = """
import sys
sys.path.insert(0, {root!r})
import json
import pagetally.storage.sql_base as sql_base
from pagetally.storage import StoreSettings, open_store
from pagetally.web.app import create_app
from pagetally.web.serving import server
from pagetally.web.settings import WebSettings
sql_base.SCHEMA_REVISION = {revision!r}
settings = StoreSettings(**json.loads({settings!r}))
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
        for i, row in enumerate(rows, start):  # a year of jobs up to today (the dashboard's
            row["jobdate"] = END - (n_jobs - i) * (YEAR / n_jobs)  # 30 days hold 1/12 of them)
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


def serve(
    settings: StoreSettings, *, workers: int = 1, before: Path | None = None
) -> tuple[subprocess.Popen[bytes], int]:
    """uvicorn over `settings` in a child process (its own session): this code with
    `workers` processes, or `before`'s checkout with its own venv, one process."""
    import dataclasses
    import json

    import httpx

    from pagetally.storage.schema import SCHEMA_REVISION
    from tests.ports import free_port

    port = free_port()
    as_json = json.dumps(dataclasses.asdict(settings))
    if before is None:
        python = sys.executable
        code = SERVE.format(root=str(ROOT), settings=as_json, port=port, workers=workers)
    else:
        python = str(before / ".venv/bin/python")
        code = SERVE_BEFORE.format(
            root=str(before), settings=as_json, port=port, revision=SCHEMA_REVISION
        )
    proc = subprocess.Popen([python, "-c", code], start_new_session=True)
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            httpx.get(f"http://127.0.0.1:{port}/login", timeout=1)
            return proc, port
        except httpx.HTTPError:
            if proc.poll() is not None:
                break
            time.sleep(0.2)
    stop_group(proc)
    raise SystemExit("uvicorn did not start")


def steps(which: str) -> list[loadgen.Step]:
    """The requests of each client's round: "api" (status, the newest page of
    their jobs and the next one, an admin's page of everyone's), "pages" (the
    status page, the history page and the next one, the admin dashboard), or
    both ("all")."""
    api = [
        loadgen.Step("API /api/v1/me/status", "/api/v1/me/status"),
        loadgen.Step("API /api/v1/me/jobs?limit=50", "/api/v1/me/jobs?limit=50"),
        loadgen.Step("API jobs, next page", "/api/v1/me/jobs?limit=50", next_of=_api_next),
        loadgen.Step("API /api/v1/jobs?limit=50 (admin)", "/api/v1/jobs?limit=50", admin=True),
    ]
    pages = [
        loadgen.Step("page /", "/", page=True),
        loadgen.Step("page /history", "/history", page=True),
        loadgen.Step("page /history, next", "/history", page=True, next_of=_history_next),
        loadgen.Step("page /admin/dashboard", "/admin/dashboard", page=True, admin=True),
    ]
    return {"api": api, "pages": pages, "all": api + pages}[which]


def _api_next(body: bytes) -> str | None:
    import json

    cursor = json.loads(body)["next"]
    return None if cursor is None else f"/api/v1/me/jobs?limit=50&after={cursor}"


_NEXT = re.compile(rb'href="(/history\?[^"]+)" rel="next"')


def _history_next(body: bytes) -> str | None:
    m = _NEXT.search(body)
    return None if m is None else m.group(1).decode().replace("&amp;", "&")


def credentials(secrets: list[str], n: int, n_users: int) -> list[loadgen.Client]:
    """Client k: user k's token and session cookie; the admin's for admin steps."""
    from pagetally.web.sessions import COOKIE, Sessions

    sessions = Sessions("bench", 24 * 3600)
    admin_cookie = sessions.new("user000000")[1]
    out = []
    for k in range(n):
        user = f"user{((k + 1) * 7919 + 1) % n_users:06d}"
        out.append(
            loadgen.Client(
                token=f"Authorization: Bearer {secrets[1 + k % (len(secrets) - 1)]}",
                admin_token=f"Authorization: Bearer {secrets[0]}",
                cookie=f"Cookie: {COOKIE}={sessions.new(user)[1]}",
                admin_cookie=f"Cookie: {COOKIE}={admin_cookie}",
            )
        )
    return out


def run_httpx(
    port: int, clients: list[loadgen.Client], plan: list[loadgen.Step], seconds: float
) -> tuple[dict[str, list[float]], float]:
    """The first client: one Python thread per client with httpx in this process
    (its CPU shared with the benchmark's own work)."""
    import httpx

    times: dict[str, list[float]] = {s.label: [] for s in plan}
    lock = threading.Lock()
    barrier = threading.Barrier(len(clients))
    used = resource.getrusage(resource.RUSAGE_SELF)

    def client(who: loadgen.Client) -> None:
        mine: dict[str, list[float]] = {s.label: [] for s in plan}
        with httpx.Client(base_url=f"http://127.0.0.1:{port}", timeout=60) as http:
            barrier.wait()
            end = time.perf_counter() + seconds
            while time.perf_counter() < end:
                for step in plan:
                    name, _, value = who.header(step).partition(": ")
                    headers = {name: value}
                    url = step.path
                    if step.next_of is not None:
                        found = step.next_of(http.get(url, headers=headers).content)
                        if found is None:
                            continue
                        url = found
                    t = time.perf_counter()
                    r = http.get(url, headers=headers)
                    mine[step.label].append(time.perf_counter() - t)
                    assert r.status_code == 200, (url, r.status_code, r.text[:200])
        with lock:
            for k, v in mine.items():
                times[k] += v

    threads = [threading.Thread(target=client, args=(c,)) for c in clients]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    after = resource.getrusage(resource.RUSAGE_SELF)
    return times, after.ru_utime + after.ru_stime - used.ru_utime - used.ru_stime


def cpu_seconds(pid: int) -> float:
    """The user + system CPU time a process and its live descendants have used
    so far (Linux /proc)."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        children = Path(f"/proc/{pid}/task/{pid}/children").read_text().split()
    except FileNotFoundError:
        return 0.0
    own = (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
    return own + sum(cpu_seconds(int(c)) for c in children)


def pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))] * 1000


@contextlib.contextmanager
def loaded_store(engine: str, n_users: int, n_jobs: int) -> Iterator[StoreSettings]:
    """A store of `engine` (SQLite in a temporary folder, or a private PostgreSQL)
    loaded with `n_users` and `n_jobs`; removed afterwards."""
    server = None
    folder = tempfile.mkdtemp(prefix="pt-web-bench-")
    try:
        if engine == "sqlite":
            settings = StoreSettings(name=f"{folder}/bench.db")
        else:
            from tests.servers import start_postgresql

            server = start_postgresql()
            settings = server.new_database("bench")
        load(settings, n_users, n_jobs)
        yield settings
    finally:
        if server is not None:
            server.stop()
        shutil.rmtree(folder, ignore_errors=True)


@contextlib.contextmanager
def loaded_server(
    engine: str, n_users: int, n_jobs: int
) -> Iterator[tuple[StoreSettings, subprocess.Popen[bytes], int]]:
    """`loaded_store` served by this code (one process): (settings, process, port)."""
    with loaded_store(engine, n_users, n_jobs) as settings:
        proc, port = serve(settings)
        try:
            yield settings, proc, port
        finally:
            stop_group(proc)


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


def measure(
    engine: str, label: str, port: int, pid: int, secrets: list[str], args: argparse.Namespace
) -> list[str]:
    """Each client count's rows for the server `pid` on `port`."""
    lines = []
    plan = steps(args.paths)
    for kind in args.client.split(","):
        for clients in args.clients:
            who = credentials(secrets, clients, args.users)
            used = cpu_seconds(pid)
            if kind == "httpx":
                times, client_cpu = run_httpx(port, who, plan, args.seconds)
            else:
                times, client_cpu = loadgen.run(port, who, plan, args.seconds)
            # the server's CPU per request answered (the untimed first page of a "next" too)
            served = sum(len(times[s.label]) * (2 if s.next_of else 1) for s in plan)
            if served == 0:
                raise SystemExit("no request was answered")
            per = (cpu_seconds(pid) - used) / served * 1000
            load = f"{os.getloadavg()[0]:.1f}"
            for step in plan:
                if times[step.label]:
                    line = table_line(
                        engine,
                        clients,
                        step.label,
                        times[step.label],
                        label,
                        kind,
                        f"{per:.2f}",
                        f"{client_cpu / served * 1000:.2f}",
                        load,
                    )
                    print(line, flush=True)
                    lines.append(line)
    return lines


def web_bench(engine: str, args: argparse.Namespace) -> list[str]:
    lines = []
    with loaded_store(engine, args.users, args.jobs) as settings:
        secrets = tokens(settings, 33, args.users)
        runs: list[tuple[str, Path | None, int]] = []
        if args.before:
            runs.append(("before (1 process)", Path(args.before), 1))
        runs += [(f"after ({n} process{'es' if n > 1 else ''})", None, n) for n in args.workers]
        for label, before, workers in runs:
            proc, port = serve(settings, workers=workers, before=before)
            try:
                lines += measure(engine, label, port, proc.pid, secrets, args)
            finally:
                stop_group(proc)
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
    ap.add_argument("--clients", type=_ints, default=[1, 32])
    ap.add_argument("--seconds", type=float, default=15.0)
    ap.add_argument("--paths", choices=("api", "pages", "all"), default="all")
    ap.add_argument("--client", default="light", help="light, httpx or both: light,httpx")
    ap.add_argument("--workers", type=_ints, default=[2], help="server processes (after)")
    ap.add_argument("--before", help="a checkout (with its .venv) served first: e.g. /work/main")
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
            "| store | clients | request | n | p50 ms | p99 ms | mean ms | server | client "
            "| server CPU ms/request | client CPU ms/request | load |",
            "|---|---|---|---|---|---|---|---|---|---|---|---|",
        ]
        for engine in args.engines.split(","):
            print(f"== {engine}", flush=True)
            lines += web_bench(engine, args)
    print("\n".join(lines))
    return 0


def _ints(text: str) -> list[int]:
    return [int(x) for x in text.split(",")]


if __name__ == "__main__":
    raise SystemExit(main())
