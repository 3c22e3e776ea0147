"""Driverless and CUPS raster formats made by third-party generators, with counts.

Sources: the 5-page PDF shipped by texlive-base (qpdf counts it) and a 3-page
PostScript file made by enscript from the GPL (Ghostscript's bbox device counts
it). Makers: Ghostscript's devices (pwgraster, urf, appleraster, cups with
several cupsColorSpace / cupsBitsPerColor / cupsColorOrder settings, pclm,
pclm8, xpswrite, gdi, samsunggdi, hl7x0) and whole CUPS filter chains through
cupsfilter (gstoraster to PWG Raster; CUPS' sample.drv DeskJet PPD to CUPS
Raster in grey, CMY banded and KCMY banded). Where the generator decides the
colour (a grey colour space or PPD choice: no colour page), the colour count
is recorded.
"""

from __future__ import annotations

import subprocess
from pathlib import Path

from tests.corpus import CorpusFile
from tests.corpus.gen_hostbased import DRIVERD, GPL, PDF, _bbox_pages, _run

GS = ("gs", "-q", "-dSAFER", "-dBATCH", "-dNOPAUSE")

# (file stem, parser, device, options, colour pages: "none", "all" or None unknown)
_GS_JOBS: list[tuple[str, str, str, tuple[str, ...], str | None]] = [
    ("pwgraster", "pwg", "pwgraster", ("-r150",), "none"),
    ("pwgraster-srgb", "pwg", "pwgraster", ("-r100", "-dcupsColorSpace=19"), "all"),
    ("urf", "urf", "urf", ("-r150",), "none"),
    ("appleraster", "urf", "appleraster", ("-r100",), "none"),
    ("cups-k", "cupsraster", "cups", ("-r150",), "none"),
    ("cups-rgb", "cupsraster", "cups", ("-r100", "-dcupsColorSpace=1", "-dcupsBitsPerColor=8"), "all"),  # noqa: E501
    ("cups-cmyk-banded", "cupsraster", "cups", ("-r100", "-dcupsColorSpace=6", "-dcupsColorOrder=1"), "all"),  # noqa: E501
    ("cups-cmyk-planar", "cupsraster", "cups", ("-r100", "-dcupsColorSpace=6", "-dcupsColorOrder=2"), "all"),  # noqa: E501
    ("cups-sgray16", "cupsraster", "cups", ("-r100", "-dcupsColorSpace=18", "-dcupsBitsPerColor=16"), "none"),  # noqa: E501
    ("pclm", "pclm", "pclm", ("-r150",), None),
    ("pclm8", "pclm", "pclm8", ("-r100",), None),
    ("xpswrite", "xps", "xpswrite", (), None),
    ("gdi", "spl1", "gdi", (), None),
    ("samsunggdi", "spl1", "samsunggdi", ("-r300",), None),
    ("hl7x0", "hbp", "hl7x0", (), None),
]  # fmt: skip

# CUPS' own sample DeskJet driver: its ColorModel choices pick the raster's colour space.
_PPD_CHOICES = (("Gray", "none"), ("RGB", "all"), ("CMYK", "all"))


def generate(outdir: Path) -> list[CorpusFile]:
    """Make every file into `outdir`; return them with their independent counts."""
    work = outdir / "src"
    work.mkdir(parents=True, exist_ok=True)
    gpl_ps = work / "gpl.ps"
    _run(["enscript", "-q", "-a", "1-3", "-p", str(gpl_ps), str(GPL)])
    pdf_pages = int(_run(["qpdf", "--show-npages", str(PDF)]).strip())
    sources = [(gpl_ps, _bbox_pages(gpl_ps), "gs bbox", "gpl"), (PDF, pdf_pages, "qpdf", "pdf")]

    made: list[CorpusFile] = []
    for src, pages, oracle, tag in sources:
        for stem, fmt, device, opts, colour in _GS_JOBS:
            out = outdir / f"gs-{stem}-{tag}.{fmt}"
            subprocess.run(
                [*GS, f"-sDEVICE={device}", *opts, f"-sOutputFile={out}", str(src)],
                check=True,
                capture_output=True,
                timeout=180,
            )
            made.append(
                CorpusFile(
                    out, fmt, pages, oracle, f"gs -sDEVICE={device} {' '.join(opts)}".strip(),
                    _colour(colour, pages),
                )
            )  # fmt: skip

    # Whole CUPS filter chains, from the PDF.
    out = outdir / "cupsfilter-pwg-pdf.pwg"
    _run(["cupsfilter", "-e", "-m", "image/pwg-raster", str(PDF)], out)
    made.append(CorpusFile(out, "pwg", pdf_pages, "qpdf", "cupsfilter -m image/pwg-raster"))
    ppd = work / "deskjet.ppd"
    _run([DRIVERD, "cat", "drv:///sample.drv/deskjet.ppd"], ppd)
    for choice, colour in _PPD_CHOICES:
        out = outdir / f"cupsfilter-deskjet-{choice}-pdf.cupsraster"
        argv = ["cupsfilter", "-e", "-p", str(ppd), "-m", "application/vnd.cups-raster"]
        _run([*argv, "-o", f"ColorModel={choice}", str(PDF)], out)
        made.append(
            CorpusFile(
                out, "cupsraster", pdf_pages, "qpdf",
                f"cupsfilter sample.drv deskjet ColorModel={choice}", _colour(colour, pdf_pages),
            )
        )  # fmt: skip
    return made


def _colour(colour: str | None, pages: int) -> int | None:
    return {"none": 0, "all": pages}.get(colour or "")
