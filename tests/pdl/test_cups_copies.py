"""Copies, number-up, duplex and page ranges as CUPS' own filters write them.

A PostScript printer's queue runs the job through cups-filters' pstops (PostScript
in) or pdftopdf + pdftops (PDF in), with the job's options: copies (`-n`), collate,
number-up, sides, page-ranges. What reaches the printer is one PostScript program
whose copies are either `/#copies`-style settings or pages written again, and
whose duplex copies may carry blank back sides. dvips -c and -C do the same from
TeX. Each output here is made by the real binaries (cupsfilter with the sample
generic PostScript PPD, dvips), and PageTally's count must equal the pages an
independent run prints: Ghostscript on `pbmraw`, a device that renders every copy
as an image of its own, and the count worked out from the options.
"""

from __future__ import annotations

import math
import re
import shutil
import subprocess
from pathlib import Path

import pytest

from pagetally.pdl import analyse

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(
        not (shutil.which("cupsfilter") and shutil.which("gs") and shutil.which("dvips")),
        reason="needs cupsfilter (cups-filters), Ghostscript and dvips",
    ),
]

DRIVERD = Path("/usr/lib/cups/daemon/cups-driverd")
PAGES = 3
SOURCE_PS = (
    "%!PS-Adobe-3.0\n%%Pages: 3\n%%EndComments\n"
    + "".join(
        f"%%Page: {n} {n}\n/Helvetica findfont 40 scalefont setfont 100 400 moveto "
        f"(Page {n}) show showpage\n"
        for n in range(1, PAGES + 1)
    )
    + "%%EOF\n"
)
TEX = "One\\vfill\\eject Two\\vfill\\eject Three\\bye\n"

# (cupsfilter options, pages printed). Copies and collated duplex copies of an
# odd page count: pstops adds a blank back side so the next copy starts a sheet.
OPTIONS = [
    ([], 3),
    (["-n", "2"], 6),
    (["-n", "2", "-o", "Collate=True"], 6),
    (["-o", "number-up=2"], 2),
    (["-n", "3", "-o", "number-up=2"], 6),
    (["-n", "3", "-o", "number-up=4"], 3),
    (["-n", "2", "-o", "Collate=True", "-o", "sides=two-sided-long-edge"], 8),
    (["-n", "2", "-o", "sides=two-sided-long-edge"], 6),
    (["-n", "2", "-o", "Collate=True", "-o", "number-up=2", "-o", "sides=two-sided-long-edge"], 4),
    (["-n", "2", "-o", "Collate=True", "-o", "page-ranges=2-3"], 4),
]


@pytest.fixture(scope="module")
def sources(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    folder = tmp_path_factory.mktemp("cups-copies")
    ps = folder / "three.ps"
    ps.write_text(SOURCE_PS)
    pdf = folder / "three.pdf"
    subprocess.run(["gs", "-q", "-dSAFER", "-dBATCH", "-dNOPAUSE", "-sDEVICE=pdfwrite",
                    f"-sOutputFile={pdf}", str(ps)], check=True, timeout=60)  # fmt: skip
    ppd = folder / "generic.ppd"
    if DRIVERD.exists():
        done = subprocess.run([str(DRIVERD), "cat", "drv:///sample.drv/generic.ppd"],
                              capture_output=True, timeout=60)  # fmt: skip
        ppd.write_bytes(done.stdout)
    if not ppd.exists() or b"*Duplex" not in ppd.read_bytes():
        pytest.skip("the sample generic PostScript PPD (cups-driverd) is not available")
    tex = folder / "three.tex"
    tex.write_text(TEX)
    subprocess.run(["tex", "-interaction=batchmode", tex.name], cwd=folder,
                   capture_output=True, timeout=120)  # fmt: skip
    return {"ps": ps, "pdf": pdf, "ppd": ppd, "dvi": folder / "three.dvi", "dir": folder}


def _printed(path: Path) -> int:
    """Pages Ghostscript prints on pbmraw, where each copy is an image of its own."""
    done = subprocess.run(["gs", "-q", "-dSAFER", "-dBATCH", "-dNOPAUSE", "-sDEVICE=pbmraw",
                           "-r4", "-sOutputFile=-", str(path)],
                          capture_output=True, check=True, timeout=120)  # fmt: skip
    data, pos, images = done.stdout, 0, 0
    while pos < len(data):  # P4 <width> <height> then the rows, a byte per 8 pixels
        header = re.compile(rb"P4\s+(?:#[^\n]*\n\s*)*(\d+)\s+(\d+)\s").match(data, pos)
        assert header is not None, f"not a PBM image at offset {pos}"
        width, height = int(header[1]), int(header[2])
        pos = header.end() + (width + 7) // 8 * height
        images += 1
    return images


# pstops takes every case; pdftopdf + pdftops (slower) the copies, n-up and duplex ones.
CASES = [("ps", o, n) for o, n in OPTIONS] + [("pdf", *OPTIONS[i]) for i in (1, 4, 6)]


@pytest.mark.parametrize(("source", "options", "pages"), CASES,
                         ids=[f"{s} {' '.join(o) or 'plain'}" for s, o, _ in CASES])  # fmt: skip
def test_cups_filter_output_for_a_postscript_printer(
    sources: dict[str, Path], source: str, options: list[str], pages: int
) -> None:
    # pstops (PostScript in) or pdftopdf + pdftops (PDF in): the data the printer gets.
    out = sources["dir"] / f"out-{source}-{'_'.join(options) or 'plain'}.ps"
    with out.open("wb") as fh:
        subprocess.run(["cupsfilter", "-p", str(sources["ppd"]), "-m",
                        "application/vnd.cups-postscript", *options, str(sources[source])],
                       stdout=fh, stderr=subprocess.DEVNULL, check=True, timeout=120)  # fmt: skip
    assert _printed(out) == pages
    assert analyse(out).pages == pages


@pytest.mark.parametrize(("options", "copies", "collated"), [
    ([], 1, 1), (["-c", "2"], 2, 1), (["-C", "2"], 1, 2), (["-c", "3", "-C", "2"], 3, 2),
])  # fmt: skip
def test_dvips_copies(
    sources: dict[str, Path], options: list[str], copies: int, collated: int
) -> None:
    # dvips -c N: the program asks for N copies of each page; -C N: it writes the
    # pages N times.
    out = sources["dir"] / f"dvips{'_'.join(options)}.ps"
    subprocess.run(["dvips", "-q", *options, "-o", str(out), str(sources["dvi"])],
                   cwd=sources["dir"], capture_output=True, check=True, timeout=120)  # fmt: skip
    pages = PAGES * copies * collated
    assert _printed(out) == pages
    analysis = analyse(out)
    assert analysis.pages == pages
    assert analysis.copies == copies


def test_the_expected_counts_follow_from_the_options() -> None:
    # The table above, worked out: sheets of n-up, copies, a blank back side per
    # collated duplex copy of an odd number of sides.
    for options, pages in OPTIONS:
        text = " ".join(options)
        copies = int(options[options.index("-n") + 1]) if "-n" in options else 1
        nup = int(text.split("number-up=")[1].split()[0]) if "number-up=" in text else 1
        selected = 2 if "page-ranges=2-3" in text else PAGES
        sides = math.ceil(selected / nup)
        if "two-sided" in text and "Collate=True" in text and copies > 1:
            sides += sides % 2
        assert sides * copies == pages, options
