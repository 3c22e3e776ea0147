"""Benchmark PageTally's page counting and ink analysis against the independent tools.

    .venv/bin/python bench/pdl.py [--only pdf,pclxl] [--tool-timeout 90] [--no-ink]
                                  [--baseline DIR]

For every format the registry has a parser for and this script can generate a
job of 10 MB or more (third-party generators: qpdf, enscript, Ghostscript's
printer devices, the foo2zjs drivers; cached under corpus/bench/), it times
`pagetally.pdl.analyse` and, on the same file in the same run, the independent
tools (qpdf --show-npages, pdfinfo, Ghostscript's pdfpagecount / nullpage / bbox,
GhostPCL when installed, the foo2zjs decoders), and checks every count against
the generator's own. Then it times colour and ink analysis per page against
Ghostscript's inkcov and ink_cov devices alone. Prints Markdown tables.

Timings are the best of a few runs in this process (imports excluded); tools are
timed as whole processes. The machine is shared, so expect some noise.

`--baseline DIR` also times, in the same run and on the same files, the
`pagetally` package found in DIR (e.g. `git archive BASE pagetally | tar -x -C DIR`),
in a child process timed the same way: before/after figures for a change.
"""

from __future__ import annotations

import argparse
import json
import math
import re
import shutil
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from pagetally.errors import PdlError  # noqa: E402
from pagetally.pdl import analyse, registry  # noqa: E402
from pagetally.pdl.ink import device_coverage, page_inks  # noqa: E402

BENCH = ROOT / "corpus" / "bench"
TARGET = 10_000_000  # bytes: every benchmark file is at least this big
MANUAL = Path("/usr/share/doc/printer-driver-foo2zjs/manual.pdf")  # 95 pages
COLOUR_PDF = Path("/usr/share/doc/texlive-doc/texlive/texlive-en/texlive-en.pdf")
GPL = Path("/usr/share/common-licenses/GPL-3")
GS = ["gs", "-q", "-dSAFER", "-dBATCH", "-dNOPAUSE"]


@dataclass
class Tool:
    """An independent page counter: argv with {} for the file, and how to read its answer."""

    name: str
    argv: list[str]
    pages: Callable[[bytes, bytes], int | None]


@dataclass
class BenchFile:
    fmt: str  # parser name
    path: Path
    pages: int  # the generator's (or an oracle's) count
    origin: str
    tools: list[Tool] = field(default_factory=list)


# --- independent tools -------------------------------------------------------------------


def _int_out(out: bytes, _err: bytes) -> int | None:
    m = re.search(rb"\d+", out)
    return int(m[0]) if m else None


def _pdfinfo(out: bytes, _err: bytes) -> int | None:
    m = re.search(rb"^Pages:\s+(\d+)", out, re.M)
    return int(m[1]) if m else None


def _none(_out: bytes, _err: bytes) -> int | None:
    return None


def _pattern(regex: bytes) -> Callable[[bytes, bytes], int | None]:
    def count(out: bytes, err: bytes) -> int | None:
        return len(re.findall(regex, out + err, re.M))

    return count


PDF_TOOLS = [
    Tool("qpdf --show-npages", ["qpdf", "--show-npages", "{}"], _int_out),
    Tool("pdfinfo", ["pdfinfo", "{}"], _pdfinfo),
    Tool(
        "gs pdfpagecount",
        [
            *GS[:2],
            "-dNODISPLAY",
            "--permit-file-read={}",
            "-c",
            "({}) (r) file runpdfbegin pdfpagecount = quit",
        ],
        _int_out,
    ),
]
TEXT_TOOLS = [
    Tool(
        "enscript -B -c -L66",
        ["enscript", "-B", "-c", "-L66", "-p", "/dev/null", "{}"],
        lambda _o, err: int(m[1]) if (m := re.search(rb"\[ (\d+) pages", err)) else None,
    )
]
DVI_TOOLS = [Tool("dvitype", ["dvitype", "{}"], _pattern(rb"beginning of page"))]
PS_TOOLS = [
    Tool("gs -sDEVICE=nullpage", [*GS, "-sDEVICE=nullpage", "{}"], _none),
]  # (the bbox device counts pages too, but takes ~45 ms a page: minutes on 10 MB)


def _ghostpcl_tools() -> list[Tool]:
    exe = shutil.which("gpcl6") or shutil.which("pcl6")
    if exe is None:
        return []
    return [Tool("gpcl6 -sDEVICE=nullpage", [exe, "-dNOPAUSE", "-sDEVICE=nullpage", "{}"], _none)]


# foo2zjs family: wrapper language → (parser name, decoder, page-start pattern).
FOO2 = {
    "zjs": ("zjs", "zjsdecode", rb"^ZJT_START_PAGE"),
    "qpdl": ("qpdl", "qpdldecode", rb"^RECTYPE 0x0\b"),
    "hbpl2": ("hbpl", "hbpldecode", rb"\[Page Start\]"),
    "lava": ("lava", "lavadecode", rb"\[Page \d+\]"),
    "hiperc": ("hiperc", "hipercdecode", rb"\), Page \d+"),
    "xqx": ("xqx", "xqxdecode", rb"^XQX_START_PAGE"),
    "slx": ("slx", "slxdecode", rb"^SLT_START_PAGE"),
    "ddst": ("ddst", "ddstdecode", rb"PAGESTATUS=START"),
    "oak": ("oak", "", b""),
}
# Ghostscript printer devices → (parser name, resolution, independent tools).
GS_DEVICES: dict[str, tuple[str, int, list[Tool]]] = {
    "escpage": ("escpage", 150, []),
    "lp8000": ("escpage", 300, []),  # no form feeds: pages leave at the reset
    "ln03": ("sixel", 300, []),
    "lips4": ("lips", 150, []),
    "bj10e": ("bjc", 150, []),
    "cfax": ("sfax", 150, []),
    "pxlcolor": ("pclxl", 150, []),
    "pwgraster": ("pwg", 150, []),
    "urf": ("urf", 150, []),
    "cups": ("cupsraster", 100, []),
    "pclm": ("pclm", 150, []),
    "xpswrite": ("xps", 150, []),
    "gdi": ("spl1", 300, []),
    "hl7x0": ("hbp", 300, []),
    "tiffg4": (
        "tiff",
        300,
        [Tool("tiffinfo", ["tiffinfo", "{}"], _pattern(rb"^TIFF Directory"))],
    ),
    "pnmraw": (
        "pnm",
        100,
        [Tool("pnmfile -allimages", ["pnmfile", "-allimages", "{}"], _pattern(rb"^.+$"))],
    ),
}


# --- generators ------------------------------------------------------------------------


def _run(argv: list[str], out: Path | None = None, timeout: float = 900) -> bytes:
    if out is not None:
        with out.open("wb") as fh:
            subprocess.run(argv, stdout=fh, stderr=subprocess.PIPE, check=True, timeout=timeout)
        return b""
    return subprocess.run(argv, capture_output=True, check=True, timeout=timeout).stdout


def _cached(name: str, make: Callable[[Path], int]) -> tuple[Path, int]:
    """A file under corpus/bench made once by `make(path) -> pages`, its count kept beside it."""
    BENCH.mkdir(parents=True, exist_ok=True)
    path = BENCH / name
    meta = BENCH / (name + ".json")
    if path.exists() and meta.exists() and path.stat().st_size >= TARGET:
        return path, int(json.loads(meta.read_text())["pages"])
    pages = make(path)
    meta.write_text(json.dumps({"pages": pages}))
    return path, pages


def _big_pdf(path: Path, object_streams: bool) -> int:
    """The foo2zjs manual, as many distinct copies as 10 MB takes, joined by qpdf."""
    copies_dir = BENCH / "manual-copies"
    copies_dir.mkdir(exist_ok=True)
    n = math.ceil(TARGET * 1.15 / (MANUAL.stat().st_size * 0.6))
    files = []
    for i in range(n):  # distinct files: qpdf shares objects of one file used twice
        copy = copies_dir / f"m{i:03d}.pdf"
        if not copy.exists():
            shutil.copyfile(MANUAL, copy)
        files.append(str(copy))
    mode = "generate" if object_streams else "disable"
    _run(["qpdf", f"--object-streams={mode}", "--empty", "--pages", *files, "--", str(path)])
    return int(_run(["qpdf", "--show-npages", str(path)]).strip())


def _big_ps(path: Path) -> int:
    """enscript's DSC PostScript of the GPL repeated; enscript's own page count."""
    text = GPL.read_text()
    src = BENCH / "gpl-many.txt"
    src.write_text("\f".join([text] * 240))
    done = subprocess.run(
        ["enscript", "-p", str(path), str(src)], capture_output=True, check=True, timeout=600
    )
    m = re.search(rb"\[ (\d+) pages", done.stderr)
    if not m:
        raise RuntimeError(f"enscript gave no page count: {done.stderr[-200:]!r}")
    return int(m[1])


def _big_dvi(path: Path) -> int:
    """Plain TeX typesets a long generated text; its log says how many pages."""
    words = " ".join(f"word{i % 97} text{i % 13}" for i in range(400))
    src = BENCH / "plain-tex.tex"
    paragraphs = "\n\n".join(f"{n}. {words}" for n in range(1700))
    src.write_text(f"\\hsize=6.5in \\vsize=9in\n{paragraphs}\n\\bye\n")
    subprocess.run(
        ["tex", "-interaction=batchmode", src.name], cwd=BENCH, capture_output=True, timeout=900
    )
    log = (BENCH / "plain-tex.log").read_text(errors="replace")
    m = re.search(r"Output written on plain-tex\.dvi \((\d+) pages", log)
    if not m:
        raise RuntimeError("tex wrote no DVI")
    if path.name != "plain-tex.dvi":
        shutil.move(BENCH / "plain-tex.dvi", path)
    return int(m[1])


def _big_text(path: Path) -> int:
    """The GPL's text 290 times, form feeds between; enscript paginates it as the
    text parser does (66 lines a page, no headers, long lines cut) and says how many."""
    text = GPL.read_text()
    path.write_text("\f".join([text] * 290))
    done = subprocess.run(
        ["enscript", "-B", "-c", "-L66", "-p", "/dev/null", str(path)],
        capture_output=True, check=True, timeout=600,
    )  # fmt: skip
    m = re.search(rb"\[ (\d+) pages", done.stderr)
    if not m:
        raise RuntimeError(f"enscript gave no page count: {done.stderr[-200:]!r}")
    return int(m[1])


def _lidil(src: Path, out: Path) -> None:
    """HP LIDIL through a whole CUPS filter chain: the dense job as PDF, hpcups."""
    pdf = out.with_suffix(".src.pdf")
    _run([*GS, "-sDEVICE=pdfwrite", f"-sOutputFile={pdf}", str(src)])
    ppd = out.with_suffix(".ppd")
    _run(["/usr/lib/cups/daemon/cups-driverd", "cat", "drv:///hpcups.drv/hp-deskjet_3650.ppd"],
         out=ppd)  # fmt: skip
    _run(["cupsfilter", "-e", "-p", str(ppd), "-m", "printer/foo", "-o", "OutputMode=DraftRGB",
          str(pdf)], out=out)  # fmt: skip


def _gutenprint(uri: str, src: Path, out: Path) -> None:
    """A Gutenprint chain (Economy quality) through cupsfilter, PPD from cups-driverd."""
    ppd = BENCH / (uri.split("//")[1].split("/")[0] + ".ppd")
    if not ppd.exists():
        _run(["/usr/lib/cups/daemon/cups-driverd", "cat", uri], out=ppd)
    _run(["cupsfilter", "-e", "-p", str(ppd), "-m", "printer/foo", "-o", "StpQuality=Economy",
          str(src)], out=out)  # fmt: skip


def _dense_ps(pages: int) -> Path:
    """A PostScript job whose pages are dense colour patterns (raster that compresses badly)."""
    path = BENCH / f"dense-{pages}.ps"
    if path.exists():
        return path
    body = [f"%!PS-Adobe-3.0\n%%Pages: {pages}\n%%EndComments\n"]
    for n in range(1, pages + 1):
        body.append(
            f"%%Page: {n} {n}\n/n {n} def\n"
            "0 6 780 { /y exch def 0 6 590 { /x exch def\n"
            "  x y add n mul 37 mod 37 div x 590 div y 780 div setrgbcolor\n"
            "  x y 6 6 rectfill } for } for\nshowpage\n"
        )
    body.append("%%EOF\n")
    path.write_text("".join(body))
    return path


def _grow(render: Callable[[Path, Path], None], path: Path, start: int = 4) -> int:
    """Render the dense job with enough pages for 10 MB: try `start` pages, then scale."""
    pages = start
    for _ in range(3):
        render(_dense_ps(pages), path)
        size = path.stat().st_size
        if size >= TARGET:
            return pages
        pages = min(4000, math.ceil(pages * TARGET * 1.15 / max(size, 1)))
    raise RuntimeError(f"{path.name}: only {size} bytes with {pages} pages")


def bench_files(only: set[str] | None) -> tuple[list[BenchFile], list[str]]:
    """Every benchmark file for the formats the registry knows (made or reused)."""
    known = set(registry.names())
    files: list[BenchFile] = []
    skipped: list[str] = []

    def want(fmt: str) -> bool:
        return fmt in known and (only is None or fmt in only)

    def add(
        fmt: str, name: str, make: Callable[[Path], int], origin: str, tools: list[Tool]
    ) -> None:
        try:
            path, pages = _cached(name, make)
        except (subprocess.SubprocessError, OSError, RuntimeError) as exc:
            skipped.append(f"{fmt} ({name}): cannot generate: {exc}")
            return
        files.append(BenchFile(fmt, path, pages, origin, tools))

    if want("pdf"):
        add("pdf", "manual-x.pdf", lambda p: _big_pdf(p, False), "qpdf (no object streams)",
            PDF_TOOLS)  # fmt: skip
        add("pdf", "manual-x-objstm.pdf", lambda p: _big_pdf(p, True),
            "qpdf (object + xref streams)", PDF_TOOLS)  # fmt: skip
    if want("postscript"):
        add("postscript", "gpl-enscript.ps", _big_ps, "enscript", PS_TOOLS)
    for fmt in ("pcl", "pclxl", "escp"):
        if want(fmt):
            try:
                from tests.corpus import gen_pcl

                made = gen_pcl.big_file(fmt, BENCH)
                tools = _ghostpcl_tools() if fmt != "escp" else []
                files.append(BenchFile(fmt, made.path, made.pages, made.generator, tools))
            except Exception as exc:  # another helper's generator: report, do not stop
                skipped.append(f"{fmt}: tests.corpus.gen_pcl.big_file failed: {exc}")
    for device, (fmt, dpi, tools) in GS_DEVICES.items():
        if want(fmt) and shutil.which("gs"):

            def render(src: Path, out: Path, device: str = device, dpi: int = dpi) -> None:
                _run([*GS, f"-sDEVICE={device}", f"-r{dpi}", f"-sOutputFile={out}", str(src)])

            tools = _ghostpcl_tools() if fmt == "pclxl" else tools
            add(fmt, f"dense-{device}.prn", lambda p, r=render: _grow(r, p),
                f"gs -sDEVICE={device} -r{dpi}", tools)  # fmt: skip
    for fmt, uri in (("escp", "gutenprint.5.3://escp2-c88/expert"),
                     ("bjc", "gutenprint.5.3://bjc-i560/expert")):  # fmt: skip
        if want(fmt) and shutil.which("cupsfilter"):
            add(fmt, f"dense-gutenprint-{fmt}.prn",
                lambda p, u=uri: _grow(lambda src, out: _gutenprint(u, src, out), p),
                f"cupsfilter {uri}", [])  # fmt: skip
    if want("lidil") and shutil.which("cupsfilter"):
        add("lidil", "dense-hpcups.lidil", lambda p: _grow(_lidil, p), "cupsfilter hpcups", [])
    if want("text") and shutil.which("enscript"):
        add("text", "gpl-290.txt", _big_text, "enscript -L66 count", TEXT_TOOLS)
    if want("dvi") and shutil.which("tex"):
        add("dvi", "plain-tex.dvi", _big_dvi, "tex (plain)", DVI_TOOLS)
    for lang, (fmt, decoder, pattern) in FOO2.items():
        wrapper = f"foo2{lang}-wrapper"
        if not want(fmt) or not shutil.which(wrapper):
            continue

        def foo2(src: Path, out: Path, wrapper: str = wrapper) -> None:
            _run([wrapper, str(src)], out=out)

        tools = []
        if decoder and shutil.which(decoder):
            tools = [Tool(decoder, ["sh", "-c", f'{decoder} < "$0"', "{}"], _pattern(pattern))]
        add(fmt, f"dense-foo2{lang}.{lang}", lambda p, r=foo2: _grow(r, p), wrapper, tools)
        if lang in ("hiperc", "qpdl"):  # colour: four planes a page; colour models' records

            def colour(src: Path, out: Path, wrapper: str = wrapper, lang: str = lang) -> None:
                extra = ["-C", "10", "-z2"] if lang == "qpdl" else []
                _run([wrapper, "-c", *extra, str(src)], out=out)

            add(fmt, f"dense-foo2{lang}-colour.{lang}", lambda p, r=colour: _grow(r, p),
                f"{wrapper} -c", tools)  # fmt: skip
    for fmt in sorted(known - {f.fmt for f in files}):
        if only is None or fmt in only:
            skipped.append(f"{fmt}: no 10 MB generator in this benchmark")
    return files, skipped


# --- timing ------------------------------------------------------------------------------


def _best(fn: Callable[[], object], budget: float = 1.5, runs: int = 5) -> tuple[float, object]:
    """Best wall time of up to `runs` calls within about `budget` seconds, and the last result."""
    best = math.inf
    result: object = None
    spent = 0.0
    for _ in range(runs):
        t0 = time.perf_counter()
        result = fn()
        dt = time.perf_counter() - t0
        best, spent = min(best, dt), spent + dt
        if spent > budget:
            break
    return best, result


def _run_tool(tool: Tool, path: Path, timeout: float) -> tuple[float | None, int | None, str]:
    argv = [a.replace("{}", str(path)) for a in tool.argv]

    def call() -> subprocess.CompletedProcess[bytes]:
        return subprocess.run(argv, capture_output=True, timeout=timeout, check=False)

    try:
        elapsed, done = _best(call, budget=min(timeout, 3.0), runs=3)
    except subprocess.TimeoutExpired:
        return None, None, f"> {timeout:.0f} s"
    assert isinstance(done, subprocess.CompletedProcess)
    return elapsed, tool.pages(done.stdout, done.stderr), ""


_BASELINE = """
import json, sys, time
from pagetally.errors import PdlError
from pagetally.pdl import analyse
best, spent, out = float("inf"), 0.0, {}
for _ in range(5):
    t0 = time.perf_counter()
    try:
        out = {"pages": analyse(sys.argv[1]).pages}
    except PdlError as exc:
        out = {"error": str(exc)[:80]}
    dt = time.perf_counter() - t0
    best, spent = min(best, dt), spent + dt
    if spent > 1.5:
        break
print(json.dumps({**out, "seconds": best}))
"""


def _baseline(root: Path, path: Path) -> str:
    """`s (MB/s) [pages]` of the baseline package on `path`, timed in a child process."""
    done = subprocess.run([sys.executable, "-c", _BASELINE, str(path)], capture_output=True,
                          text=True, timeout=900, check=False, cwd=root,
                          env={"PYTHONPATH": str(root), "PATH": "/usr/bin:/bin"})  # fmt: skip
    try:
        got = json.loads(done.stdout.strip().splitlines()[-1])
    except (ValueError, IndexError):
        return f"failed: {done.stderr.strip()[-80:]}"
    size = path.stat().st_size
    result = f"[{got['pages']}]" if "pages" in got else f"error: {got['error']}"
    return f"{got['seconds']:.3f} s ({_mbps(size, got['seconds'])}) {result}"


def _mbps(size: int, seconds: float | None) -> str:
    if not seconds:
        return "—"
    rate = size / 1e6 / seconds
    return f"{rate:,.0f}" if rate >= 10 else f"{rate:.1f}"


def count_table(
    files: list[BenchFile], tool_timeout: float, baseline: Path | None = None
) -> list[str]:
    rows = [
        "| format | file (generator) | MB | pages | PageTally s | MB/s | pages/s | exact "
        "| independent tool: s (MB/s) [pages] |",
        "|---|---|---:|---:|---:|---:|---:|:-:|---|",
    ]
    if baseline is not None:
        rows[0] += " baseline: s (MB/s) [pages] |"
        rows[1] += "---|"
    for f in files:
        size = f.path.stat().st_size
        try:
            elapsed, result = _best(lambda f=f: analyse(f.path))
            pages = getattr(result, "pages", None)
            fmt = getattr(result, "format", "?")
        except PdlError as exc:
            rows.append(f"| {f.fmt} | {f.path.name} | {size / 1e6:.1f} | {f.pages} | error: {exc} "
                        "| | | ✗ | |")  # fmt: skip
            if baseline is not None:
                rows[-1] += f" {_baseline(baseline, f.path)} |"
            continue
        tools = []
        for tool in f.tools:
            t, n, note = _run_tool(tool, f.path, tool_timeout)
            shown = note or f"{t:.2f} s ({_mbps(size, t)})" + (f" [{n}]" if n is not None else "")
            tools.append(f"{tool.name}: {shown}")
        if not f.tools and f.fmt in ("pcl", "pclxl"):
            tools.append("gpcl6: not installed")
        exact = "✓" if pages == f.pages else f"✗ {pages}"
        rows.append(
            f"| {fmt} | {f.path.name} ({f.origin}) | {size / 1e6:.1f} | {f.pages} "
            f"| {elapsed:.3f} | {_mbps(size, elapsed)} | {f.pages / elapsed:,.0f} | {exact} "
            f"| {'; '.join(tools) or '—'} |"
        )
        if baseline is not None:
            rows[-1] += f" {_baseline(baseline, f.path)} |"
        print(rows[-1], file=sys.stderr, flush=True)
    return rows


def _gs_device_seconds(device: str, path: Path) -> float:
    argv = [*GS, f"-sDEVICE={device}", "-r72", "-sOutputFile=/dev/null", str(path)]
    return _best(lambda: subprocess.run(argv, capture_output=True, check=True), runs=2)[0]


def ink_table() -> list[str]:
    """Seconds per page: colour verdict / CMYK coverage against gs inkcov and ink_cov alone."""
    samples: list[tuple[str, Path, str]] = [
        ("PDF, text (foo2zjs manual)", MANUAL, "pdf"),
        ("PDF, colour (TeX Live guide)", COLOUR_PDF, "pdf"),
    ]
    ps = BENCH / "gpl-10.ps"
    if not ps.exists():
        BENCH.mkdir(parents=True, exist_ok=True)
        _run(["enscript", "-q", "-p", str(ps), str(GPL)])
    samples.append(("PostScript, text (enscript)", ps, "postscript"))
    rows = [
        "| job (72 DPI) | pages | colour pages | verdict ms/page | CMYK ms/page "
        "| CMYK via ink_cov ms/page | gs inkcov alone | gs ink_cov alone |",
        "|---|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for label, path, fmt in samples:
        if not path.exists():
            continue
        t_verdict, inks = _best(lambda p=path, f=fmt: page_inks(p, f), runs=2)
        t_cmyk, _ = _best(lambda p=path, f=fmt: page_inks(p, f, colorspace="CMYK"), runs=2)
        t_dev, _ = _best(
            lambda p=path, f=fmt: page_inks(p, f, colorspace="CMYK", cmyk="device"), runs=2
        )
        assert isinstance(inks, tuple)
        n = len(inks)
        colour = sum(1 for p in inks if p.color)
        t_inkcov = _gs_device_seconds("inkcov", path)
        t_ink_cov = _gs_device_seconds("ink_cov", path)
        assert len(device_coverage(path)) == n
        ms = [1000 * t / n for t in (t_verdict, t_cmyk, t_dev, t_inkcov, t_ink_cov)]
        rows.append(
            f"| {label} | {n} | {colour} | {ms[0]:.1f} | {ms[1]:.1f} | {ms[2]:.1f} "
            f"| {ms[3]:.1f} | {ms[4]:.1f} |"
        )
        print(rows[-1], file=sys.stderr, flush=True)
    return rows


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    ap.add_argument("--only", help="comma-separated parser names (default: all)")
    ap.add_argument("--tool-timeout", type=float, default=90.0, help="seconds per tool run")
    ap.add_argument("--no-ink", action="store_true", help="skip the ink benchmark")
    ap.add_argument("--ink-only", action="store_true", help="only the ink benchmark")
    ap.add_argument("--baseline", type=Path, help="a folder holding another pagetally package "
                    "to time on the same files (before/after)")  # fmt: skip
    args = ap.parse_args(argv)
    only = set(args.only.split(",")) if args.only else None
    started = time.perf_counter()
    lines: list[str] = []
    if not args.ink_only:
        files, skipped = bench_files(only)
        print(f"files ready in {time.perf_counter() - started:.0f} s", file=sys.stderr)
        lines += [
            "### Page counting (files of 10 MB or more)",
            "",
            *count_table(files, args.tool_timeout, args.baseline),
        ]
        if skipped:
            lines += ["", "Not benchmarked: " + "; ".join(skipped)]
    if not args.no_ink:
        lines += ["", "### Colour and ink analysis, time per page", "", *ink_table()]
    lines += ["", f"Total run time: {time.perf_counter() - started:.0f} s."]
    print("\n".join(lines))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
