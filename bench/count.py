"""`pagetally count` and `pkpgcounter` against PyKota's pkpgcounter 3.51: whole process.

    .venv/bin/python bench/count.py [--runs 9] [--ref REF] [--pkpgcounter DIR]
                                    [--python2 EXE] [--only TEXT]

A script that calls a page counter once per file pays the interpreter's start,
every import and the count each time: this times exactly that, on small jobs of
each format both programs read (an empty file, PDF, PostScript, PCL 5, PCL XL,
ESC/P 2, TIFF, plain text; made here with enscript and Ghostscript), then on a
240-page document (the GPL 24 times) in PostScript, PDF, PCL 5 and PCL XL, where
the parsing, not the start, takes the time (3 runs of those). Each command runs
`--runs` times as its own process, the trees in turns; the median wall time and
the median CPU time (user + system, from the child's rusage) are printed, with
each program's page count (a count that differs from the generator's is marked).

Every tree is timed as installed: its package copied to a temporary folder and
byte-compiled there (an editable checkout under PYTHONDONTWRITEBYTECODE would
compile every module on every run, which no installed copy does), run by a fresh venv's
interpreter with this venv's site-packages on PYTHONPATH (so no .pth hook runs: not
the editable install's, not the machine's), through the function its pyproject's
console script names. `--ref REF` times the package of git ref REF the same way,
in the same run: before/after.
pkpgcounter 3.51 is copied and byte-compiled the same way and run by Python 2.7
(`--pkpgcounter DIR`: its unpacked source; default /tmp/raster-m/pkpg), or
skipped, saying so, when absent.
"""

from __future__ import annotations

import argparse
import os
import re
import shutil
import statistics
import subprocess
import sys
import sysconfig
import tempfile
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
GPL = Path("/usr/share/common-licenses/GPL-3")
GS = ["gs", "-q", "-dSAFER", "-dBATCH", "-dNOPAUSE"]
PY2_DEFAULT = "/root/.pyenv/versions/2.7.18/bin/python"
PKPG_DEFAULT = "/tmp/raster-m/pkpg"


@dataclass(frozen=True)
class Sample:
    label: str
    path: Path
    pages: int | None  # the generator's count (None: nothing to count)


@dataclass(frozen=True)
class Program:
    """A whole command: argv before the file, its environment."""

    name: str
    argv: list[str]
    env: dict[str, str]


def _run(argv: list[str], out: Path | None = None) -> bytes:
    if out is None:
        return subprocess.run(argv, capture_output=True, check=True, timeout=300).stdout
    with out.open("wb") as fh:
        subprocess.run(argv, stdout=fh, stderr=subprocess.PIPE, check=True, timeout=300)
    return b""


def samples(tmp: Path) -> list[Sample]:
    """Small jobs: ten pages of the GPL's text in each format (enscript, Ghostscript)."""
    text = tmp / "gpl.txt"
    lines = GPL.read_text().splitlines()[:600]  # 600 lines: 10 pages of 60 (enscript -L60)
    text.write_text("\n".join(lines) + "\n")
    ps = tmp / "ten.ps"
    done = subprocess.run(["enscript", "-B", "-L60", "-p", str(ps), str(text)],
                          capture_output=True, check=True)  # fmt: skip
    m = re.search(rb"\[ (\d+) pages", done.stderr)
    pages = int(m[1]) if m else 10
    empty = tmp / "empty"
    empty.write_bytes(b"")
    found = [Sample("empty file", empty, None), Sample("PostScript (enscript)", ps, pages)]
    plain = tmp / "plain.txt"
    plain.write_text("\n".join(lines[: 66 * 9]) + "\n")
    found.append(Sample("plain text (9 x 66 lines)", plain, 9))
    for label, device, dpi, name in (
        ("PDF (gs pdfwrite)", "pdfwrite", 72, "ten.pdf"),
        ("PCL 5 (gs ljet4, 300 dpi)", "ljet4", 300, "ten.pcl"),
        ("PCL XL (gs pxlmono, 300 dpi)", "pxlmono", 300, "ten.pxl"),
        ("ESC/P 2 (gs stcolor, 180 dpi)", "stcolor", 180, "ten.escp"),
        ("TIFF (gs tiffg4, 100 dpi)", "tiffg4", 100, "ten.tif"),
    ):
        out = tmp / name
        try:
            _run([*GS, f"-sDEVICE={device}", f"-r{dpi}", f"-sOutputFile={out}", str(ps)])
        except (OSError, subprocess.SubprocessError) as exc:
            print(f"{label}: not made ({exc})", file=sys.stderr)
            continue
        found.append(Sample(label, out, pages))
    big = tmp / "gpl-240.txt"  # the GPL 24 times, a form feed between: 240 pages
    big.write_text("\f".join([GPL.read_text()] * 24))
    big_ps = tmp / "big.ps"
    done = subprocess.run(["enscript", "-q", "-p", str(big_ps), str(big)],
                          capture_output=True, check=True)  # fmt: skip
    big_pages = len(re.findall(rb"(?m)^%%Page:", big_ps.read_bytes()))
    found.append(Sample(f"PostScript, {big_pages} pages (enscript)", big_ps, big_pages))
    for label, device, name in (
        ("PDF", "pdfwrite", "big.pdf"),
        ("PCL 5 (ljet4, 300 dpi)", "ljet4", "big.pcl"),
        ("PCL XL (pxlmono, 300 dpi)", "pxlmono", "big.pxl"),
    ):
        out = tmp / name
        _run([*GS, f"-sDEVICE={device}", "-r300", f"-sOutputFile={out}", str(big_ps)])
        found.append(Sample(f"{label}, {big_pages} pages", out, big_pages))
    return found


def _site_packages() -> str:
    return sysconfig.get_paths()["purelib"]


def _installed_copy(tree: Path, into: Path, python: str) -> Path:
    """`tree`'s pagetally package copied into `into` and byte-compiled by `python`."""
    shutil.copytree(tree / "pagetally", into / "pagetally",
                    ignore=shutil.ignore_patterns("__pycache__", "*.so"))  # fmt: skip
    subprocess.run([python, "-m", "compileall", "-q", str(into / "pagetally")], check=True)
    return into


def _script_entry(pyproject: str, script: str) -> str:
    m = re.search(rf'^{re.escape(script)}\s*=\s*"([^"]+)"', pyproject, re.M)
    if not m:
        raise SystemExit(f"no console script {script!r} in the tree's pyproject.toml")
    return m[1]


def _clean_python(tmp: Path) -> str:
    """A fresh venv's interpreter: no site-packages .pth hook (the editable install's,
    or anything the machine's own interpreter carries) runs at its start."""
    venv = tmp / "venv"
    if not venv.exists():
        base = getattr(sys, "_base_executable", sys.executable)
        subprocess.run([base, "-m", "venv", "--without-pip", str(venv)], check=True)
    return str(venv / "bin" / "python")


def _program(
    name: str, python: str, tree: Path, entry: str, prog: str, extra: list[str]
) -> Program:
    module, func = entry.split(":")
    code = (f"import re, sys; sys.argv[0] = {prog!r}; from {module} import {func}; "
            f"sys.exit({func}())")  # fmt: skip
    env = {k: v for k, v in os.environ.items() if not k.startswith("PYTHON")}
    env["PYTHONPATH"] = f"{tree}:{_site_packages()}"
    return Program(name, [python, "-c", code, *extra], env)


def _trees(tmp: Path, ref: str | None) -> dict[str, tuple[Path, str]]:
    """label → (installed copy, pyproject text) for REF (if given) and this tree."""
    found: dict[str, tuple[Path, str]] = {}
    python = os.path.realpath(sys.executable)
    if ref:
        src = tmp / "ref-src"
        src.mkdir()
        archive = subprocess.run(
            ["git", "-C", str(ROOT), "archive", ref, "pagetally", "pyproject.toml"],
            capture_output=True,
            check=True,
        ).stdout
        subprocess.run(["tar", "-x", "-C", str(src)], input=archive, check=True)
        dest = tmp / "ref"
        dest.mkdir()
        found[ref] = (_installed_copy(src, dest, python), (src / "pyproject.toml").read_text())
    dest = tmp / "this"
    dest.mkdir()
    pyproject = (ROOT / "pyproject.toml").read_text()
    found["this tree"] = (_installed_copy(ROOT, dest, python), pyproject)
    return found


def _pkpgcounter(tmp: Path, source: Path, python2: str) -> Program | None:
    if not (source / "bin" / "pkpgcounter").exists() or not os.access(python2, os.X_OK):
        return None
    dest = tmp / "pkpg"
    shutil.copytree(source, dest, ignore=shutil.ignore_patterns("*.pyc"))
    subprocess.run([python2, "-m", "compileall", "-q", str(dest / "pkpgpdls")], check=True,
                   capture_output=True)  # fmt: skip
    env = {k: v for k, v in os.environ.items() if not k.startswith("PYTHON")}
    env["PYTHONPATH"] = str(dest)
    return Program("pkpgcounter 3.51", [python2, str(dest / "bin" / "pkpgcounter")], env)


def timed(argv: Sequence[str], env: dict[str, str], cwd: Path) -> tuple[float, float, bytes]:
    """(wall s, CPU s, stdout) of one whole process; stdin is empty."""
    started = time.perf_counter()
    proc = subprocess.Popen(list(argv), stdout=subprocess.PIPE, stderr=subprocess.DEVNULL,
                            stdin=subprocess.DEVNULL, env=env, cwd=cwd)  # fmt: skip
    assert proc.stdout is not None
    out = proc.stdout.read()
    _, _status, usage = os.wait4(proc.pid, 0)
    wall = time.perf_counter() - started
    proc.returncode = 0
    return wall, usage.ru_utime + usage.ru_stime, out


def _pages(out: bytes) -> int | None:
    """The count from `pagetally count` ("FILE: 10 pages (…)") or pkpgcounter ("10")."""
    m = re.search(rb": (\d+) pages? \(", out) or re.fullmatch(rb"\s*(\d+)\s*", out)
    return int(m[1]) if m else None


def main(argv: Sequence[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0] if __doc__ else None)
    ap.add_argument("--runs", type=int, default=9)
    ap.add_argument("--ref", help="git ref whose tree is timed too (before/after)")
    ap.add_argument("--pkpgcounter", type=Path, default=Path(PKPG_DEFAULT),
                    help="pkpgcounter 3.51's unpacked source folder")  # fmt: skip
    ap.add_argument("--python2", default=PY2_DEFAULT, help="Python 2.7 for pkpgcounter")
    ap.add_argument("--only", help="only the samples whose label contains this text")
    args = ap.parse_args(argv)

    with tempfile.TemporaryDirectory(prefix="pagetally-count-bench-") as tmpdir:
        tmp = Path(tmpdir)
        jobs = tmp / "jobs"
        jobs.mkdir()
        todo = [s for s in samples(jobs) if not args.only or args.only in s.label]
        programs: list[Program] = []
        python = _clean_python(tmp)
        for label, (tree, pyproject) in _trees(tmp, args.ref).items():
            entry = _script_entry(pyproject, "pagetally")
            programs.append(_program(f"pagetally count ({label})", python, tree, entry,
                                     "pagetally", ["count"]))  # fmt: skip
            entry = _script_entry(pyproject, "pkpgcounter")
            programs.append(_program(f"pkpgcounter ({label})", python, tree, entry,
                                     "pkpgcounter", []))  # fmt: skip
        pkpg = _pkpgcounter(tmp, args.pkpgcounter, args.python2)
        if pkpg is not None:
            programs.append(pkpg)
        print(f"Whole process, median of {args.runs} runs: wall ms / CPU ms [pages]\n")
        print("| job | KB | pages | " + " | ".join(p.name for p in programs) + " |")
        print("|---|---:|---:|" + "---|" * len(programs))
        for sample in todo:
            runs: dict[str, list[tuple[float, float, bytes]]] = {p.name: [] for p in programs}
            big = sample.path.stat().st_size > 5_000_000  # seconds a run: fewer runs
            for _ in range(min(args.runs, 3) if big else args.runs):
                for p in programs:
                    runs[p.name].append(timed([*p.argv, str(sample.path)], p.env, tmp))
            cells = []
            for p in programs:
                got = runs[p.name]
                wall = statistics.median(r[0] for r in got) * 1000
                cpu = statistics.median(r[1] for r in got) * 1000
                n = _pages(got[-1][2])
                mark = "" if n == sample.pages or sample.pages is None else " ✗"
                cells.append(f"{wall:.0f} / {cpu:.0f} [{'–' if n is None else n}{mark}]")
            kb = sample.path.stat().st_size / 1000
            expected = "–" if sample.pages is None else str(sample.pages)
            print(f"| {sample.label} | {kb:,.0f} | {expected} | " + " | ".join(cells) + " |",
                  flush=True)  # fmt: skip
        if pkpg is None:
            print(f"\npkpgcounter 3.51: not found in {args.pkpgcounter} (or no {args.python2})")
        print(f"\nload average: {' '.join(f'{x:.2f}' for x in os.getloadavg())}")


if __name__ == "__main__":
    main()
