"""The HTML pages' speed at scale: a user's status page, their history page and
the next one, an admin's job search and dashboard, with `--jobs` jobs in the store
(default 1,000,000), SQLite and PostgreSQL, 1 and 32 concurrent clients.

    .venv/bin/python bench/web_pages.py                       # both engines
    .venv/bin/python bench/web_pages.py --engines sqlite --jobs 100000 --seconds 5

The store is loaded and served as bench/web.py does (its `loaded_server`: bulk
inserts, uvicorn in a child process on 127.0.0.1); each client logs in with a
session cookie signed with the bench server's key, then requests the pages in
turn for `--seconds`. p50/p99 are each request's wall time as the client saw it.
"""

from __future__ import annotations

import argparse
import re
import sys
import threading
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from web import loaded_server, table_line  # bench/web.py

from pagetally.web.sessions import COOKIE, Sessions

PATHS = ["/", "/history", "next history page", "/admin/jobs", "/admin/dashboard"]
_NEXT = re.compile(r'href="(/history\?[^"]+)" rel="next"')


def run_clients(port: int, n_users: int, clients: int, seconds: float) -> dict[str, list[float]]:
    import httpx

    sessions = Sessions("bench", 3600)
    times: dict[str, list[float]] = {p: [] for p in PATHS}
    lock = threading.Lock()
    barrier = threading.Barrier(clients)

    def client(k: int) -> None:
        user = f"user{(k * 7919 + 1) % n_users:06d}"
        mine: dict[str, list[float]] = {p: [] for p in PATHS}
        own = {COOKIE: sessions.new(user)[1]}
        admin = {COOKIE: sessions.new("user000000")[1]}
        with httpx.Client(base_url=f"http://127.0.0.1:{port}", timeout=60) as http:
            http.get("/", cookies=own)
            barrier.wait()
            end = time.perf_counter() + seconds
            while time.perf_counter() < end:
                for path in PATHS:
                    url = path
                    if path == "next history page":
                        m = _NEXT.search(http.get("/history", cookies=own).text)
                        if m is None:
                            continue
                        url = m.group(1).replace("&amp;", "&")
                    t = time.perf_counter()
                    r = http.get(url, cookies=admin if path.startswith("/admin") else own)
                    mine[path].append(time.perf_counter() - t)
                    assert r.status_code == 200, (url, r.status_code, r.text[:200])
        with lock:
            for p in PATHS:
                times[p] += mine[p]

    threads = [threading.Thread(target=client, args=(k,)) for k in range(clients)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return times


def bench(engine: str, args: argparse.Namespace) -> list[str]:
    lines: list[str] = []
    with loaded_server(engine, args.users, args.jobs) as (_settings, _proc, port):
        for clients in args.clients:
            times = run_clients(port, args.users, clients, args.seconds)
            for path in PATHS:
                if times[path]:
                    line = table_line(engine, clients, path, times[path])
                    print(line, flush=True)
                    lines.append(line)
    return lines


def main() -> int:
    ap = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    ap.add_argument("--engines", default="sqlite,postgresql")
    ap.add_argument("--users", type=int, default=10_000)
    ap.add_argument("--jobs", type=int, default=1_000_000)
    ap.add_argument("--clients", type=lambda s: [int(x) for x in s.split(",")], default=[1, 32])
    ap.add_argument("--seconds", type=float, default=15.0)
    args = ap.parse_args()
    out = [
        "| engine | clients | page | requests | p50 ms | p99 ms | mean ms |",
        "|---|---|---|---|---|---|---|",
    ]
    for engine in args.engines.split(","):
        out += bench(engine, args)
    print("\n".join(out))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
