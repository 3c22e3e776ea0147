"""Counting speed of two revisions in one run: before/after a parser change.

    .venv/bin/python bench/pdl_compare.py [--before 0c9bb38] [--rounds 3] FILE...

Each revision's `pagetally` (`--before` from git, exported to a temporary folder;
the working tree as "after") counts every FILE in its own process, in
alternation, a few rounds; the best CPU time of each is kept (the machine is
shared: CPU time and the best of several are the least disturbed). Prints a
Markdown table: pages, MB/s before and after. Without FILE it uses the bench
files bench/pdl.py makes for PCL and PCL XL (corpus/bench/).
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
DEFAULT_FILES = [ROOT / "corpus/bench/big-ljet4.prn", ROOT / "corpus/bench/big-pxlmono.prn"]

_TIMER = """
import json, sys, time
sys.path.insert(0, sys.argv[1])
from pagetally.pdl import analyse
out = {}
for name in sys.argv[2:]:
    analyse(name)  # warm: imports, page cache
    best = None
    for _ in range(3):
        t = time.process_time()
        a = analyse(name)
        dt = time.process_time() - t
        best = dt if best is None else min(best, dt)
    out[name] = [a.pages, best]
print(json.dumps(out))
"""


def _time(tree: Path, files: list[Path]) -> dict[str, list[float]]:
    res = subprocess.run(
        [sys.executable, "-c", _TIMER, str(tree), *map(str, files)],
        capture_output=True, check=True, text=True, timeout=1800,
    )  # fmt: skip
    data: dict[str, list[float]] = json.loads(res.stdout)
    return data


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--before", default="0c9bb38", help="git revision to compare with")
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("files", nargs="*", type=Path)
    args = ap.parse_args(argv)
    files = args.files or DEFAULT_FILES
    with tempfile.TemporaryDirectory(prefix="pagetally-before-") as tmp:
        archive = subprocess.run(
            ["git", "-C", str(ROOT), "archive", args.before, "pagetally"],
            capture_output=True, check=True,
        ).stdout  # fmt: skip
        subprocess.run(["tar", "-x", "-C", tmp], input=archive, check=True)
        best: dict[tuple[str, str], list[float]] = {}
        for _ in range(args.rounds):
            for label, tree in (("before", Path(tmp)), ("after", ROOT)):
                for name, (pages, seconds) in _time(tree, files).items():
                    key = (label, name)
                    if key not in best or seconds < best[key][1]:
                        best[key] = [pages, seconds]
    print(f"| file | MB | pages before | pages after | MB/s before ({args.before}) | MB/s after |")
    print("|---|---|---|---|---|---|")
    for f in files:
        mb = f.stat().st_size / 1e6
        b, a = best[("before", str(f))], best[("after", str(f))]
        speeds = f"{mb / b[1]:.0f} | {mb / a[1]:.0f}"
        print(f"| {f.name} | {mb:.1f} | {b[0]:.0f} | {a[0]:.0f} | {speeds} |")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
