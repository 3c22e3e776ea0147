"""The web's history pages over the LDAP store: p50/p99, before and after, in one run.

    .venv/bin/python bench/web_ldap.py        # 1,000 jobs; 10,000 of 100,000 in the directory
    .venv/bin/python bench/web_ldap.py --jobs 1000 --others 0 --before /tmp/main-tree

A private slapd (tests/slapd.py, with the indexes docs/store.md lists, the
`pagetallyDate eq` index among them) gets one branch per size: user alice with
`--jobs` jobs over the last two years and `--others` jobs of 200 other users
over the same years (the directory's total is what an admin's search runs
over). Then each code tree (`--before` and this one) is
measured in a process of its own against the same directory (`--before`: a
tree of main's last commit, made with `git archive`): `pagetally web`'s
app (in-process, FastAPI's TestClient: the app and the store, no HTTP server)
over the LDAP store with its SQL side store, alice logged in and holding an API
token, root an admin token:

- `/history` (first page, newest first), its next page (the cursor),
  `/history?sort=price` (capped on the LDAP store: see docs/store.md);
- the API's `/api/v1/me/jobs` (first page and next) and, as root,
  `/api/v1/jobs?user=alice` and `/api/v1/jobs` (the admin's job search, of
  alice's jobs and of every job).

Each URL is asked `--requests` times (fewer for the slow ones: at most
`--seconds` each, at least 5 unless one took that long), after a
warm-up. The load average is printed
beside every figure.
"""

from __future__ import annotations

import argparse
import html
import json
import os
import re
import statistics
import subprocess
import sys
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent.parent


def _fill(uri: str, base: str, jobs: int, others: int) -> None:
    """`jobs` jobs of alice and `others` jobs of other users, as charges write them."""
    import ldap3

    from pagetally.storage.ldap_io import gtime
    from tests.slapd import ADMIN_DN, ADMIN_PASSWORD

    now = datetime.now(UTC)
    span = timedelta(days=730)
    conn = ldap3.Connection(ldap3.Server(uri), ADMIN_DN, ADMIN_PASSWORD, auto_bind=True)
    jobbase = f"ou=Jobs,ou=PyKota,{base}"
    total = jobs + others
    for i in range(total):
        mine = i < jobs
        count = jobs if mine else others
        at = i if mine else i - jobs
        date = now - span * (1 - (at + 0.5) / count)
        attrs = {
            "cn": f"{i:013x}bench",
            "pykotaUserName": "alice" if mine else f"user{i % 200:03d}",
            "pykotaPrinterName": "lp1",
            "pykotaJobId": str(i),
            "pykotaAction": "ALLOW",
            "pykotaJobSize": 1 + i % 13,
            "pykotaJobPrice": f"{(i % 40) / 10:.6f}",
            "pykotaTitle": f"report {i}.pdf",
            "pykotaHostName": "ws1",
            "pykotaCopies": 1,
            "pagetallyDate": gtime(date),
            "pagetallyNumber": i + 1,
            "pagetallyState": "done",
        }
        classes = ["pykotaObject", "pykotaJob", "pagetallyJob"]
        if not conn.add(f"cn={attrs['cn']},{jobbase}", classes, attrs):
            raise RuntimeError(f"cannot add job {i}: {conn.result}")
    conn.unbind()


def _directory(server: Any, jobs: int, others: int) -> dict[str, Any]:
    from pagetally.core.models import LimitBy, PriceTable, Printer, User
    from pagetally.storage import open_store

    settings = server.new_directory("bench")
    store = open_store(settings)
    store.upgrade()
    store.add_user(User("alice", limit_by=LimitBy.BALANCE))
    store.add_user(User("root", limit_by=LimitBy.BALANCE))
    store.add_printer(Printer("lp1", prices=PriceTable()))
    store.close()
    started = time.monotonic()
    _fill(server.uri, settings.name, jobs, others)
    print(f"  filled {jobs:,} + {others:,} jobs in {time.monotonic() - started:.0f} s", flush=True)
    return {
        "server": settings.server,
        "name": settings.name,
        "user": settings.user,
        "password": settings.password,
        "admin_user": settings.admin_user,
        "admin_password": settings.admin_password,
    }


def _measure(tree: str, given: dict[str, Any], requests: int, seconds: float) -> None:
    """In a process of its own: the app of `tree` over the directory `given`."""
    sys.path.insert(0, tree)
    from fastapi.testclient import TestClient

    from pagetally.config import load_config
    from pagetally.core.tokens import TokenRole
    from pagetally.storage import StoreSettings, open_store
    from pagetally.web.app import create_app, web_store
    from tests.web.conftest import login
    from tests.web.site import NOW, SETTINGS, pw_hash

    assert sys.modules["pagetally"].__file__.startswith(tree), "the wrong tree"  # type: ignore[union-attr]
    folder = Path(f"/tmp/ldapweb-bench-{os.getpid()}")
    folder.mkdir(exist_ok=True)
    conf = folder / "pagetally.conf"
    conf.write_text(f"[global]\nwebstore: sqlite:///{folder}/web.db\n")
    store = open_store(StoreSettings(backend="ldap", **given))
    web = web_store(store, load_config(str(conf)))
    for name in ("alice", "root"):
        web.set_web_password_hash(name, pw_hash(), NOW)
    _, mine = web.add_api_token("alice", TokenRole.USER, NOW)
    _, admin = web.add_api_token("root", TokenRole.ADMIN, NOW)
    app = create_app(SETTINGS, web, now=lambda: NOW)  # type: ignore[arg-type]
    alice = login(TestClient(app), "alice")
    api = TestClient(app)

    codes: set[int] = set()

    def timed(client: TestClient, url: str, token: str | None = None) -> list[float]:
        headers = {"Authorization": f"Bearer {token}"} if token else {}
        out: list[float] = []
        codes.clear()
        for n in range(requests + 1):
            t0 = time.perf_counter()
            r = client.get(url, headers=headers)
            ms = (time.perf_counter() - t0) * 1000
            # a sort the directory cannot serve may be refused (400, saying why)
            assert r.status_code == 200 or ("sort=" in url and r.status_code == 400), (
                url,
                r.status_code,
                r.text[:300],
            )
            codes.add(r.status_code)
            if n >= 1:
                out.append(ms)
            if out and (len(out) >= 5 or out[0] > seconds * 1000) and sum(out) > seconds * 1000:
                break  # enough time spent: at least 5 samples, or 1 that alone took it
        return out

    first = api.get("/api/v1/me/jobs", headers={"Authorization": f"Bearer {mine}"}).json()
    page = alice.get("/history").text
    found = re.search(r'href="([^"]*)" rel="next"', page)
    assert found, "no next page"
    nxt = html.unescape(found.group(1))
    urls = [
        ("/history", alice, "/history", None),
        ("/history next page", alice, nxt, None),
        ("/history?sort=price", alice, "/history?sort=price", None),
        ("API /me/jobs", api, "/api/v1/me/jobs", mine),
        ("API /me/jobs next", api, f"/api/v1/me/jobs?after={first['next']}", mine),
        ("API /jobs?user=alice (admin)", api, "/api/v1/jobs?user=alice", admin),
        ("API /jobs (admin, every job)", api, "/api/v1/jobs", admin),
    ]
    results = {}
    for label, client, url, token in urls:
        samples = timed(client, url, token)
        p99 = (
            statistics.quantiles(samples, n=100, method="inclusive")[98]
            if len(samples) > 1
            else samples[0]
        )
        if codes != {200}:
            label += f" (answered {sorted(codes)})"
        results[label] = (statistics.median(samples), p99, len(samples), os.getloadavg()[0])
    print(json.dumps(results))
    web.close()


def _run(tree: str, given: dict[str, Any], requests: int, seconds: float) -> dict[str, Any]:
    out = subprocess.run(
        [
            *(sys.executable, __file__, "--measure", tree, json.dumps(given)),
            *("--requests", str(requests), "--seconds", str(seconds)),
        ],
        capture_output=True,
        text=True,
        cwd=tree,
        env={**os.environ, "PYTHONPATH": tree},
    )
    if out.returncode != 0:
        return {"error": out.stderr[-1500:]}
    result: dict[str, Any] = json.loads(out.stdout.strip().splitlines()[-1])
    return result


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--jobs", type=int, nargs="+", default=[1000, 10000])
    ap.add_argument(
        "--others",
        type=int,
        nargs="+",
        default=[0, 90000],
        help="other users' jobs in the directory, for each --jobs",
    )
    ap.add_argument(
        "--before",
        default="/tmp/ldapweb-before",
        help="the code tree to compare with (e.g. main's last commit: "
        "mkdir /tmp/ldapweb-before && git archive main | tar -x -C /tmp/ldapweb-before)",
    )
    ap.add_argument("--requests", type=int, default=40)
    ap.add_argument("--seconds", type=float, default=20.0, help="most time per URL")
    ap.add_argument("--measure", nargs=2, help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.measure:
        _measure(args.measure[0], json.loads(args.measure[1]), args.requests, args.seconds)
        return
    sys.path.insert(0, str(HERE))
    from tests.slapd import start_slapd

    server = start_slapd()
    try:
        for jobs, others in zip(args.jobs, args.others, strict=True):
            print(f"alice with {jobs:,} jobs, {jobs + others:,} in the directory:")
            given = _directory(server, jobs, others)
            for name, tree in (("before", args.before), ("after", str(HERE))):
                got = _run(tree, given, args.requests, args.seconds)
                if "error" in got:
                    print(f"  {name}: failed\n{got['error']}")
                    continue
                for label, (p50, p99, n, load) in got.items():
                    print(
                        f"  {name:6} {label:32} p50 {p50:8.1f} ms  p99 {p99:8.1f} ms"
                        f"  (n={n}, load {load:.1f})",
                        flush=True,
                    )
    finally:
        server.stop()


if __name__ == "__main__":
    main()
