"""Bulk commands on many names: `pagetally users add` with N new users in one
command, then `quotas set '*' -P '*'` and `quotas reset '*' -P '*'` over them.

    .venv/bin/python bench/bulk.py [--users 30000] [--printers 2] [--baseline DIR]

Each command is a whole `python -m pagetally.cli.main` process on a fresh SQLite
store (what an admin's shell or cron runs). `--baseline DIR` runs the same with
the `pagetally` package found in DIR first (e.g. `git archive OLD pagetally | tar
-x -C DIR`): before/after in one run. PyKota's TODO called 30,000 users in one
command impossible; before chunking, PageTally failed at 1,000 ("Expression tree
is too large"). Prints a Markdown table (seconds, or the error).
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path


def run(pkg: str | None, conf: Path, args: list[str]) -> str:
    env = dict(os.environ, PAGETALLY_CONFIG=str(conf))
    if pkg:
        env["PYTHONPATH"] = pkg
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
        return f"exit {done.returncode}: {done.stderr.strip().splitlines()[-1][:60]}"
    return f"{took:.1f}"


def scenario(pkg: str | None, users: int, printers: int) -> list[str]:
    with tempfile.TemporaryDirectory() as tmp:
        conf = Path(tmp) / "pagetally.conf"
        conf.write_text(f"[global]\nstoragebackend: sqlite\nstoragename: {tmp}/pt.db\n")
        run(pkg, conf, ["db", "upgrade"])
        run(pkg, conf, ["printers", "add", *[f"lp{i}" for i in range(printers)]])
        names = [f"user{i:06d}" for i in range(users)]
        return [
            run(pkg, conf, ["users", "add", *names]),
            run(pkg, conf, ["quotas", "set", "*", "-P", "*", "--soft", "50"]),
            run(pkg, conf, ["quotas", "reset", "*", "-P", "*"]),
            run(pkg, conf, ["users", "edit", *names, "--description", "bulk"]),
        ]


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--users", type=int, default=30000)
    ap.add_argument("--printers", type=int, default=2)
    ap.add_argument("--baseline", help="a folder holding an older `pagetally` package")
    ns = ap.parse_args()
    print(
        f"| package | users add ({ns.users}) | quotas set * | quotas reset * | users edit (names) |"
    )
    print("|---|---|---|---|---|")
    runs = [("baseline", ns.baseline)] if ns.baseline else []
    for label, pkg in [*runs, ("this", None)]:
        print(f"| {label} | " + " | ".join(scenario(pkg, ns.users, ns.printers)) + " |", flush=True)


if __name__ == "__main__":
    main()
