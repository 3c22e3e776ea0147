"""PCL3/4/5, PCL3GUI, PCL XL and ESC/P(2) files made by Ghostscript, with independent counts.

Sources (made or shipped by third parties): a PostScript file that enscript makes
from the GPL text (counted by Ghostscript's bbox device), a man page set by groff
(bbox), and real PDFs from /usr/share/doc (counted by qpdf). Every Ghostscript
printer device of these families renders them at -r150 (cdj970 at its default
resolution) to standard output — `stcolor` rewrites a named output file on every
page, so a file would hold only the last page. The expected count is the
source's page count times the copies asked for with -dNumCopies (devices with a
copies command write it into the job, the others render every page again).

`big_file(fmt, outdir)` makes one file of 10 MB or more per main format for
bench/pdl.py; it is not part of `generate` (too big for every test run).
"""

from __future__ import annotations

import gzip
import subprocess
from pathlib import Path

from tests.corpus import CorpusFile

GPL = Path("/usr/share/common-licenses/GPL-3")
MAN = Path("/usr/share/man/man1/groff.1.gz")
PDF_SPEC = Path("/usr/share/doc/shared-mime-info/shared-mime-info-spec.pdf")
PDF_MANUAL = Path("/usr/share/doc/printer-driver-foo2zjs/manual.pdf")

# Device → parser name expected to recognise its output.
DEVICES = {
    "ljet4": "pcl",
    "laserjet": "pcl",
    "ljet4pjl": "pcl",
    "deskjet": "pcl",
    "cdj550": "pcl",
    "cdj970": "pcl",  # PCL3GUI, default resolution only
    "lj5mono": "pclxl",  # Ghostscript writes PCL XL for the LaserJet 5
    "pxlmono": "pclxl",
    "pxlcolor": "pclxl",
    "epson": "escp",
    "eps9high": "escp",
    "escp": "escp",
    "stcolor": "escp",
}
DEFAULT_RESOLUTION = {"cdj970"}
# (device, source, copies) beyond "every device × the enscript text".
EXTRA = [
    ("ljet4", "spec", 1),
    ("pxlmono", "spec", 1),
    ("pxlcolor", "man", 1),
    ("stcolor", "spec", 1),
    ("escp", "man", 1),
    ("cdj550", "man", 1),
    ("ljet4", "gpl", 3),  # ESC &l3X
    ("ljet4pjl", "man", 2),
    ("pxlmono", "gpl", 2),  # PageCopies 2 on every EndPage
    ("lj5mono", "man", 3),
    ("deskjet", "gpl", 2),  # pages rendered twice
    ("epson", "gpl", 2),
    # not stcolor: it ignores -dNumCopies (one rendering only)
]
# Big files for the benchmark: device and how many times the 95-page manual repeats.
BIG = {"pcl": ("ljet4", 6), "pclxl": ("pxlmono", 6), "escp": ("stcolor", 4)}


def _run(argv: list[str], out: Path | None = None, timeout: float = 300) -> bytes:
    """Run a tool (argument list, no shell); stdout to `out` or returned."""
    if out is not None:
        with out.open("wb") as fh:
            subprocess.run(argv, stdout=fh, stderr=subprocess.DEVNULL, check=True, timeout=timeout)
        return b""
    return subprocess.run(argv, capture_output=True, check=True, timeout=timeout).stdout


def _bbox_pages(path: Path) -> int:
    """Pages Ghostscript's bbox device sees in a PostScript or PDF file."""
    res = subprocess.run(
        ["gs", "-q", "-dSAFER", "-dBATCH", "-dNOPAUSE", "-sDEVICE=bbox", str(path)],
        capture_output=True,
        check=True,
        timeout=300,
    )
    return sum(1 for line in res.stderr.splitlines() if line.startswith(b"%%BoundingBox"))


def _qpdf_pages(path: Path) -> int:
    return int(_run(["qpdf", "--show-npages", str(path)]).strip())


def _sources(outdir: Path) -> dict[str, tuple[Path, int, str]]:
    """name → (file, pages, oracle) for every source document."""
    gpl = outdir / "src-gpl.ps"
    _run(["enscript", "-q", "-p", str(gpl), str(GPL)])
    man = outdir / "src-man.ps"
    man_roff = outdir / "src-man.roff"
    man_roff.write_bytes(gzip.decompress(MAN.read_bytes()))
    _run(["groff", "-man", "-Tps", str(man_roff)], out=man)
    spec = outdir / "src-spec.pdf"
    _run(["qpdf", "--empty", "--pages", str(PDF_SPEC), "1-6", "--", str(spec)])
    return {
        "gpl": (gpl, _bbox_pages(gpl), "gs bbox"),
        "man": (man, _bbox_pages(man), "gs bbox"),
        "spec": (spec, _qpdf_pages(spec), "qpdf"),
    }


def render(device: str, source: Path, out: Path, copies: int = 1) -> None:
    """Ghostscript's `device` renders `source` into `out` (through stdout)."""
    argv = ["gs", "-q", "-dSAFER", "-dBATCH", "-dNOPAUSE", f"-sDEVICE={device}"]
    if device not in DEFAULT_RESOLUTION:
        argv.append("-r150")
    if copies > 1:
        argv.append(f"-dNumCopies={copies}")
    argv += ["-sOutputFile=-", str(source)]
    _run(argv, out=out)


def generate(outdir: Path) -> list[CorpusFile]:
    """Render every job; expected pages = source pages × copies."""
    sources = _sources(outdir)
    jobs = [(dev, "gpl", 1) for dev in DEVICES] + EXTRA
    files: list[CorpusFile] = []
    for device, src, copies in jobs:
        path, pages, oracle = sources[src]
        out = outdir / f"{device}-{src}-x{copies}.prn"
        render(device, path, out, copies)
        asked = f" -dNumCopies={copies}" if copies > 1 else ""
        files.append(
            CorpusFile(
                path=out,
                format=DEVICES[device],
                pages=pages * copies,
                oracle=oracle + (f" × {copies} copies" if copies > 1 else ""),
                generator=f"gs -sDEVICE={device}{asked}",
            )
        )
    return files


def big_file(fmt: str, outdir: Path) -> CorpusFile:
    """One job of 10 MB or more in `fmt` ("pcl", "pclxl", "escp") for the benchmark.

    The 95-page foo2zjs manual, repeated by qpdf, rendered by the format's main
    Ghostscript device; the count is qpdf's. Reused when already made.
    """
    device, times = BIG[fmt]
    outdir.mkdir(parents=True, exist_ok=True)
    src = outdir / f"big-source-x{times}.pdf"
    out = outdir / f"big-{device}.prn"
    if not src.exists():
        _run(["qpdf", "--empty", "--pages", *[str(PDF_MANUAL)] * times, "--", str(src)])
    pages = _qpdf_pages(src)
    if not out.exists() or out.stat().st_size < 10_000_000:
        render(device, src, out)
    return CorpusFile(
        path=out, format=fmt, pages=pages, oracle="qpdf", generator=f"gs -sDEVICE={device}"
    )
