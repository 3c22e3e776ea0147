"""How long PageTally's commands take to start: whole process, as a shell sees it.

    .venv/bin/python bench/startup.py [--runs 15] [--ref REF] [--pkpgcounter CMD] [--only TEXT]...

A script that calls `pkpgcounter FILE` or `repykota` once per file or user pays
the interpreter's start and every import each time, so these are the figures
that matter to it (issue 9 item 8, issue 10 item 12: under 100 ms). Each command
is run `--runs` times as a separate process, in turns; the median wall time and
the median CPU time (user + system, from the child's rusage) are printed.

`pagetally ...` is timed through `pagetally.cli.launch:run`, the function the
`pagetally` console script calls (which answers a pure `--help` without Typer,
cli/fasthelp.py), and, on the rows marked `(main:run)`, through
`pagetally.cli.main:run`, the Typer command line itself (what `python -m
pagetally.cli.main` runs).

Every tree is timed as installed (bench/count.py's way): its package copied to a
temporary folder and byte-compiled there (an editable checkout under
PYTHONDONTWRITEBYTECODE compiles every module it imports on every run, which no
installed copy does), run by a fresh venv's interpreter (no .pth hook of this
venv's editable install) with this venv's site-packages on PYTHONPATH, from a
temporary directory. `--ref REF` also runs every command from the package of the
git ref REF (e.g. `main` or `HEAD~3`), in the same run and in turns with this
tree: before/after figures that saw the same machine.

Real commands (STORE_COMMANDS: listings, reports and PyKota's aliases) run on a
SQLite store made for the run by each tree (`db upgrade`, one printer, one
user), standard input
closed; the row `import sqlalchemy` is the floor that SQLAlchemy itself sets
under every command that opens a store.

pkpgcounter 3.51 (PyKota's, Python 2) is timed beside them on the same files
when `--pkpgcounter CMD` names it, or a `pkpgcounter` on PATH says 3.51; it is
skipped, saying so, when absent.

The machine may be shared: CPU time is steadier than wall time; the load
average is printed with the results.
"""

from __future__ import annotations

import argparse
import os
import shlex
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
from bench.count import _clean_python as clean_python  # noqa: E402
from bench.count import _site_packages  # noqa: E402
from bench.count import _trees as installed_trees  # noqa: E402


@dataclass(frozen=True)
class Case:
    """One command line: its label and the entry point its console script calls."""

    label: str
    entry: str  # module:function
    args: tuple[str, ...]
    pkpgcounter: bool = False  # also timed with PyKota's pkpgcounter


#: Every noun and tool of `pagetally` whose --help is timed (issue 10: every
#: command's start-up under 100 ms).
SUBCOMMANDS = (
    "users",
    "groups",
    "printers",
    "quotas",
    "billing-codes",
    "payments",
    "jobs",
    "allowances",
    "db",
    "journal",
    "setup",
    "report",
    "history",
    "dump",
    "count",
    "warn",
    "quote",
    "invoice",
    "banner",
    "import-pykota",
    "serve",
)
#: PyKota's names (argparse in front of `pagetally`).
ALIASES = {
    **{
        a: "pagetally.cli.aliases"
        for a in (
            "edpykota",
            "repykota",
            "pkusers",
            "pkprinters",
            "pkbcodes",
            "pkrefund",
            "dumpykota",
        )
    },
    **{
        a: "pagetally.cli.aliases_tools"
        for a in ("pykotme", "warnpykota", "pkinvoice", "pkbanner", "autopykota", "pkturnkey")
    },
}


#: Real commands on a SQLite store that holds one printer (`lp`), one user (`john`)
#: and, after the first `edpykota --add john`, his quota entry (issue 10 item 12:
#: every command, not only its help, starts in under 100 ms):
#: the label is what a shell runs; `pagetally` through its console script.
STORE_COMMANDS = (
    "pagetally users list",
    "pagetally users list --format csv",
    "pagetally report",
    "pagetally quotas list",
    "pagetally history",
    "pagetally printers list",
    "repykota",
    "edpykota --add john",
    "pkusers --list",
    "dumpykota",
    "pkprinters --list",
    "pkbcodes --list",
    "warnpykota",
)


def store_cases() -> list[Case]:
    """STORE_COMMANDS, and the floor they stand on: SQLAlchemy's own import (Core
    and the SQLite dialect, all a SQLite store loads of it)."""
    found = [
        Case(
            "python -c 'import sqlalchemy' (+ SQLite dialect)",
            "sqlalchemy, sqlalchemy.dialects.sqlite.pysqlite",
            (),
        )
    ]
    for line in STORE_COMMANDS:
        prog, *args = line.split()
        if prog == "pagetally":
            found.append(Case(line, "pagetally.cli.launch:run", tuple(args)))
        else:
            found.append(Case(line, f"{ALIASES[prog]}:{prog}", tuple(args)))
    return found


def make_store(python: str, env: dict[str, str], tmp: Path) -> dict[str, str]:
    """A configuration naming a new SQLite store with one printer and one user in
    folder `tmp`, made by the `pagetally` of `env`'s tree; `env` with PAGETALLY_CONFIG
    naming it. Each tree has its own: one that knows a newer schema migrates a
    SQLite store on first use, and an older one then refuses it."""
    tmp.mkdir()
    conf = tmp / "pagetally.conf"
    conf.write_text(f"[global]\nstoragebackend: sqlite\nstoragename: {tmp / 'store.db'}\n")
    env = {**env, "PAGETALLY_CONFIG": str(conf)}
    for args in (("db", "upgrade"), ("printers", "add", "lp"), ("users", "add", "john")):
        argv = [*_wrapper(python, "pagetally.cli.launch:run", "pagetally"), *args]
        subprocess.run(
            argv, env=env, cwd=env["PAGETALLY_BENCH_CWD"], check=True, capture_output=True
        )
    return env


def cases(empty: Path, pdf: Path, pcl: Path) -> list[Case]:
    launch, main = "pagetally.cli.launch:run", "pagetally.cli.main:run"
    helps = [("--help",), (), *((n, "--help") for n in SUBCOMMANDS), ("users", "add", "--help")]
    return [
        # the floor every command stands on: the interpreter (its site, then this
        # venv's site-packages on PYTHONPATH) and Typer's import
        Case("python -c pass", "", ()),
        Case("python -c 'import typer'", "typer", ()),
        *(Case(" ".join(["pagetally", *a]), launch, a) for a in helps),
        *(Case(" ".join(["pagetally", *a, "(main:run)"]), main, a) for a in helps),
        Case("pagetally count EMPTY", launch, ("count", str(empty))),
        Case("pagetally count PDF", launch, ("count", str(pdf))),
        Case("pagetally count PCL", launch, ("count", str(pcl))),
        Case("pkpgcounter EMPTY", "pagetally.cli.count:pkpgcounter_main", (str(empty),), True),
        Case("pkpgcounter PDF", "pagetally.cli.count:pkpgcounter_main", (str(pdf),), True),
        Case("pkpgcounter PCL", "pagetally.cli.count:pkpgcounter_main", (str(pcl),), True),
        *(
            Case(f"{alias} --help", f"{module}:{alias}", ("--help",))
            for alias, module in ALIASES.items()
        ),
    ]


def _wrapper(python: str, entry: str, prog: str) -> list[str]:
    """`python -c` doing what the console script does (or a floor: nothing, or
    one import)."""
    if ":" not in entry:
        return [python, "-c", f"import {entry}" if entry else "pass"]
    module, func = entry.split(":")
    code = f"import sys; sys.argv[0] = {prog!r}; from {module} import {func}; sys.exit({func}())"
    return [python, "-c", code]


def timed(argv: Sequence[str], env: dict[str, str]) -> tuple[float, float, int]:
    """(wall s, CPU s, exit status) of one whole process."""
    started = time.perf_counter()
    proc = subprocess.Popen(
        list(argv),
        stdin=subprocess.DEVNULL,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        env=env,
        cwd=env["PAGETALLY_BENCH_CWD"],
    )
    _, status, usage = os.wait4(proc.pid, 0)
    wall = time.perf_counter() - started
    proc.returncode = os.waitstatus_to_exitcode(status)
    return wall, usage.ru_utime + usage.ru_stime, proc.returncode


def _tree_env(tree: Path, cwd: Path) -> dict[str, str]:
    """PYTHONPATH names the tree's installed copy, then this venv's packages; the
    process runs elsewhere (`-c` puts its working directory first on sys.path)."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("PYTHON")}
    env["PYTHONPATH"] = f"{tree}:{_site_packages()}"
    env["PAGETALLY_BENCH_CWD"] = str(cwd)
    env["COLUMNS"] = "100"
    return env


def _check_tree(python: str, tree: Path, env: dict[str, str]) -> None:
    """The package imported is the tree's own (not the editable install's)."""
    out = subprocess.run(
        [python, "-c", "import pagetally; print(pagetally.__file__)"],
        env=env,
        cwd=env["PAGETALLY_BENCH_CWD"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout.strip()
    if not out.startswith(str(tree)):
        sys.exit(f"PYTHONPATH={tree} imports pagetally from {out}: cannot compare")


def find_pkpgcounter(given: str | None) -> list[str] | None:
    """PyKota's pkpgcounter 3.51 as an argument list, or None (with a note)."""
    if given:
        return shlex.split(given)
    exe = shutil.which("pkpgcounter", path=os.defpath + ":/usr/local/bin")
    if exe is None or Path(exe).resolve().parent == Path(sys.executable).resolve().parent:
        return None
    try:
        version = subprocess.run(
            [exe, "--version"], capture_output=True, text=True, timeout=30
        ).stdout.strip()
    except (OSError, subprocess.TimeoutExpired):
        return None
    return [exe] if version.startswith("3.51") else None


def samples(tmp: Path) -> tuple[Path, Path, Path]:
    """An empty file, a 10-page PDF and a 10-page PCL 5 job."""
    from tests.pdl._pdfmake import simple_pdf  # the test suite's own PDF writer

    empty = tmp / "empty"
    empty.write_bytes(b"")
    pdf = tmp / "ten.pdf"
    pdf.write_bytes(simple_pdf(10))
    pcl = tmp / "ten.pcl"
    pcl.write_bytes(b"\x1bE" + b"\x1b&l0O" + b"page text\x0c" * 10 + b"\x1bE")
    return empty, pdf, pcl


def main(argv: Sequence[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--runs", type=int, default=15)
    ap.add_argument("--ref", help="git ref whose tree is timed too (before/after)")
    ap.add_argument("--pkpgcounter", help="PyKota's pkpgcounter 3.51 command line")
    ap.add_argument(
        "--only", action="append", help="only the cases whose label contains this text (repeatable)"
    )
    args = ap.parse_args(argv)

    with tempfile.TemporaryDirectory(prefix="pagetally-startup-") as tmpdir:
        tmp = Path(tmpdir)
        empty, pdf, pcl = samples(tmp)
        trees = {name: tree for name, (tree, _) in installed_trees(tmp, args.ref).items()}
        python = clean_python(tmp)
        envs = {name: _tree_env(tree, tmp) for name, tree in trees.items()}
        for name, tree in trees.items():
            _check_tree(python, tree, envs[name])
        envs = {
            name: make_store(python, env, tmp / f"store-{i}")
            for i, (name, env) in enumerate(envs.items())
        }
        pkpg = find_pkpgcounter(args.pkpgcounter)
        todo = [
            c
            for c in [*cases(empty, pdf, pcl), *store_cases()]
            if not args.only or any(text in c.label for text in args.only)
        ]
        columns = list(trees) + (["pkpgcounter 3.51"] if pkpg else [])
        print(f"Whole-process start-up, median of {args.runs} runs: wall ms / CPU ms\n")
        print("| command | " + " | ".join(columns) + " |")
        print("|---|" + "---|" * len(columns))
        for case in todo:
            runs: dict[str, list[tuple[float, float, int]]] = {c: [] for c in columns}
            for _ in range(args.runs):
                for name in trees:
                    argv_ = [*_wrapper(python, case.entry, case.label.split()[0]), *case.args]
                    runs[name].append(timed(argv_, envs[name]))
                if pkpg and case.pkpgcounter:
                    runs["pkpgcounter 3.51"].append(
                        timed([*pkpg, *case.args], {**envs["this tree"], "PYTHONPATH": ""})
                    )
            cells = []
            for column in columns:
                got = runs[column]
                if not got:
                    cells.append("–")
                    continue
                wall = statistics.median(r[0] for r in got) * 1000
                cpu = statistics.median(r[1] for r in got) * 1000
                codes = sorted({r[2] for r in got})
                note = "" if codes in ([0], [2]) or "EMPTY" in case.label else f" (exit {codes})"
                cells.append(f"{wall:.0f} / {cpu:.0f}{note}")
            print(f"| `{case.label}` | " + " | ".join(cells) + " |", flush=True)
        if not pkpg:
            print("\npkpgcounter 3.51: not found (give --pkpgcounter CMD): not timed")
        print(f"\nload average: {' '.join(f'{x:.2f}' for x in os.getloadavg())}")


if __name__ == "__main__":
    main()
