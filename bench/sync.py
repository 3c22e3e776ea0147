"""Directory sync at size: `pagetally sync` from passwd/group files of N users
(one group per 100 users, every user also in one big group) on a fresh SQLite
store with 2 printers: the first run (everything added, with initial balances
and quota entries), the second (in step: nothing to change), and a run after
1% left (reported and disabled).

    .venv/bin/python bench/sync.py [--users 30000]

Each run is a whole `python -m pagetally.cli.main` process, as cron runs it.
Prints a Markdown table of seconds.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path


def run(conf: Path, args: list[str]) -> tuple[float, str]:
    env = dict(os.environ, PAGETALLY_CONFIG=str(conf))
    start = time.perf_counter()
    done = subprocess.run(
        [sys.executable, "-m", "pagetally.cli.main", *args],
        env=env,
        capture_output=True,
        text=True,
        check=False,
        cwd=conf.parent,
    )
    took = time.perf_counter() - start
    if done.returncode:
        raise SystemExit(f"{args} exit {done.returncode}: {done.stderr[-500:]}")
    return took, (done.stdout.strip().splitlines() or [""])[-1]


def files(folder: Path, users: int, leave: int = 0) -> list[str]:
    """passwd and group files; the first `leave` users gone from both (the
    groups otherwise as they were)."""
    everyone = [f"u{i:06d}" for i in range(users)]
    gone = set(everyone[:leave])
    names = everyone[leave:]
    (folder / "passwd").write_text(
        "".join(f"{n}:x:{10000 + int(n[1:])}:100::/home/{n}:/bin/sh\n" for n in names)
    )
    groups = [
        f"g{k:04d}:x:{20000 + k}:"
        + ",".join(n for n in everyone[k * 100 : (k + 1) * 100] if n not in gone)
        for k in range((users + 99) // 100)
    ]
    (folder / "group").write_text("\n".join(["all:x:100:" + ",".join(names), *groups]) + "\n")
    return ["sync", "--passwd", str(folder / "passwd"), "--group", str(folder / "group")]


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--users", type=int, default=30000)
    ns = ap.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        conf = folder / "pagetally.conf"
        conf.write_text(
            f"[global]\nstoragename: {folder / 'p.db'}\nsyncuidmin: 10000\n"
            "syncgidmin: 100\nsyncbalance: 5.00\nsyncsoftlimit: 100\n"
            "syncleavers: disable\n"
        )
        run(conf, ["db", "upgrade"])
        for name in ("lp", "colour"):
            run(conf, ["printers", "add", name])
        args = files(folder, ns.users)
        rows = [("first run", *run(conf, args)), ("second run", *run(conf, args))]
        args = files(folder, ns.users, leave=ns.users // 100)
        rows.append(("1% left", *run(conf, [*args, "--quiet"])))
        print(f"| {ns.users:,} users | seconds | last line |\n|---|---|---|")
        for what, took, last in rows:
            print(f"| {what} | {took:.1f} | {last[:70]} |")


if __name__ == "__main__":
    main()
