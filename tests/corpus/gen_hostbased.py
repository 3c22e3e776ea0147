"""Host-based printer languages made by third-party drivers, with independent counts.

Sources: a 3-page PostScript file made by enscript from the GPL text every Debian
ships, and a 5-page PDF shipped by texlive-base (converted to PostScript by
poppler's pdftops for the foo2zjs wrappers). The oracle is the source's page
count (Ghostscript's bbox device, qpdf) times the copies asked for, and where a
foo2zjs decoder prints pages, its count must agree (checked here, so a generator
that drops pages fails loudly instead of making a wrong expectation).

Makers: the foo2zjs family wrappers (ZjStream incl. foo2hp2600, QPDL, HBPL2, LAVAFLOW, HIPERC,
XQX, OAKT, SLX, DDST), Ghostscript devices (ESC/Page, LIPS, Canon BJ/BJC, SFF)
and whole CUPS filter chains through cupsfilter (splix for QPDL, hpcups for
LIDIL).
"""

from __future__ import annotations

import re
import subprocess
from dataclasses import dataclass
from pathlib import Path

from tests.corpus import CorpusFile

GPL = Path("/usr/share/common-licenses/GPL-3")
PDF = Path("/usr/share/doc/texlive-doc/latex/mflogo/mflogo.pdf")
DRIVERD = "/usr/lib/cups/daemon/cups-driverd"


@dataclass(frozen=True)
class Job:
    """One file to make: its maker's argv (output on stdout unless `out_arg`)."""

    name: str
    fmt: str
    argv: tuple[str, ...]
    source: str  # "gpl" or "pdf"
    copies: int = 1
    decoder: tuple[str, str] | None = None  # (decoder, regex counting its pages)


def _run(argv: list[str], out: Path | None = None, timeout: float = 120) -> bytes:
    """Run a tool; its stdout goes to `out` (or is returned)."""
    if out is not None:
        with out.open("wb") as fh:
            subprocess.run(argv, stdout=fh, stderr=subprocess.DEVNULL, check=True, timeout=timeout)
        return b""
    return subprocess.run(argv, capture_output=True, check=True, timeout=timeout).stdout


def _bbox_pages(ps: Path) -> int:
    """Pages Ghostscript's bbox device sees."""
    res = subprocess.run(
        ["gs", "-q", "-dSAFER", "-dBATCH", "-dNOPAUSE", "-sDEVICE=bbox", str(ps)],
        capture_output=True,
        check=True,
        timeout=120,
    )
    return sum(1 for line in res.stderr.splitlines() if line.startswith(b"%%BoundingBox"))


def _decoder_pages(decoder: str, pattern: str, path: Path) -> int:
    """Pages a foo2zjs decoder prints for `path` (it reads standard input)."""
    with path.open("rb") as fh:
        res = subprocess.run([decoder], stdin=fh, capture_output=True, timeout=120)
    text = (res.stdout + res.stderr).decode("latin-1")
    return len(re.findall(pattern, text, re.MULTILINE))


def _ppd(uri: str, dest: Path) -> Path:
    """A PPD from a CUPS driver file (drv:///...)."""
    _run([DRIVERD, "cat", uri], dest)
    return dest


def _foo2(lang: str, src: str, *opts: str, copies: int = 1, name: str = "") -> Job:
    decoders = {
        "zjs": ("zjsdecode", r"^ZJT_START_PAGE"),
        "hp2600": ("zjsdecode", r"^ZJT_START_PAGE"),
        "qpdl": ("qpdldecode", r"^RECTYPE 0x0\b"),
        "hbpl2": ("hbpldecode", r"\[Page Start\]"),
        "lava": ("lavadecode", r"\[Page \d+\]"),
        "hiperc": ("hipercdecode", r"\), Page \d+"),
        "xqx": ("xqxdecode", r"^XQX_START_PAGE"),
        "slx": ("slxdecode", r"^SLT_START_PAGE"),
        "ddst": ("ddstdecode", r"PAGESTATUS=START"),
    }
    fmt = {"hbpl2": "hbpl", "hp2600": "zjs"}.get(lang, lang)
    stem = name or f"foo2{lang}-{src}{''.join(o.strip('-') for o in opts)}"
    return Job(
        name=f"{stem}.{lang}",
        fmt=fmt,
        argv=(f"foo2{lang}-wrapper", *opts),
        source=src,
        copies=copies,
        decoder=decoders.get(lang),
    )


def _gs(device: str, src: str, fmt: str, *opts: str, copies: int = 1) -> Job:
    tag = "".join("-" + o.lstrip("-").replace("=", "") for o in opts)
    return Job(
        name=f"gs-{device}-{src}{tag}.{fmt}",
        fmt=fmt,
        argv=("gs", "-q", "-dSAFER", "-dBATCH", "-dNOPAUSE", f"-sDEVICE={device}", *opts),
        source=src,
        copies=copies,
    )


def _jobs() -> list[Job]:
    r150 = "-r150"
    return [
        # foo2zjs family, from PostScript
        _foo2("zjs", "gpl"),
        _foo2("zjs", "pdf"),
        _foo2("zjs", "gpl", "-c"),
        _foo2("zjs", "gpl", "-n", "2", copies=2),
        _foo2("zjs", "gpl", "-z1"),
        _foo2("zjs", "gpl", "-z2"),
        _foo2("zjs", "gpl", "-z3", "-c"),
        _foo2("hp2600", "gpl", "-c"),
        _foo2("hp2600", "gpl", "-n", "2", copies=2),
        _foo2("qpdl", "gpl"),
        _foo2("qpdl", "pdf"),
        _foo2("qpdl", "gpl", "-n", "2", copies=2),
        _foo2("hbpl2", "gpl"),
        _foo2("hbpl2", "pdf"),
        _foo2("lava", "gpl"),
        _foo2("lava", "gpl", "-c"),
        _foo2("lava", "gpl", "-n", "2", copies=2),
        _foo2("hiperc", "gpl", "-Z1"),
        _foo2("hiperc", "gpl", "-c", "-Z1"),
        _foo2("xqx", "gpl"),
        _foo2("xqx", "pdf", "-c"),
        _foo2("xqx", "gpl", "-n", "2", copies=2),
        _foo2("oak", "gpl"),
        _foo2("oak", "gpl", "-c", "-n", "2", copies=2),
        _foo2("slx", "gpl"),
        _foo2("slx", "pdf", "-c"),
        _foo2("slx", "gpl", "-n", "2", copies=2),
        _foo2("ddst", "gpl"),
        _foo2("ddst", "pdf"),
        # Ghostscript devices
        _gs("escpage", "gpl", "escpage", r150),
        _gs("escpage", "pdf", "escpage", r150),
        _gs("escpage", "gpl", "escpage", r150, "-dNumCopies=2", copies=2),
        _gs("lp2000", "gpl", "escpage", r150),
        _gs("lp8000c", "gpl", "escpage", r150),
        _gs("lp8000c", "gpl", "escpage", r150, "-dNumCopies=2", copies=2),
        _gs("lp8300f", "pdf", "escpage", r150),
        _gs("eplmono", "gpl", "escpage", r150),
        _gs("alc4000", "pdf", "escpage", r150),
        _gs("lp9000c", "gpl", "escpage", r150),
        _gs("lips4", "gpl", "lips", r150),
        _gs("lips4", "pdf", "lips", r150, "-dNumCopies=2", copies=2),
        _gs("lips3", "gpl", "lips"),
        # LIPS IV vector mode: two resolutions, downloaded glyphs, colour, copies
        _gs("lips4v", "gpl", "lips", "-r300"),
        _gs("lips4v", "pdf", "lips", "-r600"),
        _gs("lips4v", "gpl", "lips", "-r300", "-dFontDL=true"),
        _gs("lips4v", "pdf", "lips", "-r600", "-dFontDL=true", "-dBitsPerPixel=24"),
        _gs("lips4v", "pdf", "lips", "-r300", "-dNumCopies=2", copies=2),
        _gs("bjc880j", "gpl", "lips"),
        _gs("bj10e", "gpl", "bjc", r150),
        _gs("bj10e", "pdf", "bjc", r150),
        _gs("bjc600", "gpl", "bjc"),
        _gs("bjc800", "pdf", "bjc"),
        _gs("bjccmyk", "gpl", "bjc"),
        _gs("cfax", "gpl", "sfax", r150),
        _gs("cfax", "pdf", "sfax", r150),
    ]


def _cupsfilter(outdir: Path, name: str, ppd: Path, src: Path, *opts: str) -> Path:
    out = outdir / name
    argv = ["cupsfilter", "-e", "-p", str(ppd), "-m", "printer/foo", *opts, str(src)]
    _run(argv, out)
    return out


def generate(outdir: Path) -> list[CorpusFile]:
    """Make every file into `outdir`; return them with their independent counts."""
    work = outdir / "src"
    work.mkdir(parents=True, exist_ok=True)
    gpl_ps = work / "gpl.ps"
    _run(["enscript", "-q", "-a", "1-3", "-p", str(gpl_ps), str(GPL)])
    pdf_ps = work / "mflogo.ps"
    _run(["pdftops", str(PDF), str(pdf_ps)])
    pdf_pages = int(_run(["qpdf", "--show-npages", str(PDF)]).strip())
    sources = {
        "gpl": (gpl_ps, _bbox_pages(gpl_ps), "gs bbox"),
        "pdf": (pdf_ps, pdf_pages, "qpdf"),
    }
    if sources["pdf"][1] != _bbox_pages(pdf_ps):
        raise RuntimeError("pdftops changed the page count of the source PDF")

    made: list[CorpusFile] = []
    for job in _jobs():
        src, pages, oracle = sources[job.source]
        out = outdir / job.name
        if job.argv[0] == "gs":
            _run([*job.argv, f"-sOutputFile={out}", str(src)])
        else:
            _run([*job.argv, str(src)], out)
        if job.decoder:
            seen = _decoder_pages(*job.decoder, out)
            if seen != pages:
                raise RuntimeError(
                    f"{job.decoder[0]} sees {seen} pages in {out}, source has {pages}"
                )
            oracle = f"{oracle} + {job.decoder[0]}"
        maker = job.argv[:1] + job.argv[5:] if job.argv[0] == "gs" else job.argv
        made.append(
            CorpusFile(
                path=out,
                format=job.fmt,
                pages=pages * job.copies,
                oracle=oracle if job.copies == 1 else f"{oracle} x {job.copies} copies",
                generator=" ".join(maker),
            )
        )

    # Whole CUPS filter chains: splix (QPDL) and hpcups (LIDIL), from the PDF.
    for model in ("ml2010", "ml1610", "clp500"):
        ppd = _ppd(f"drv:///splix-samsung.drv/{model}.ppd", work / f"{model}.ppd")
        out = _cupsfilter(outdir, f"splix-{model}-pdf.qpdl", ppd, PDF)
        made.append(CorpusFile(out, "qpdl", pdf_pages, "qpdf", f"cupsfilter splix {model}"))
    ppd = _ppd("drv:///hpcups.drv/hp-deskjet_3650.ppd", work / "dj3650.ppd")
    for mode in ("DraftGray", "DraftRGB"):
        out = _cupsfilter(
            outdir, f"hpcups-dj3650-{mode}.lidil", ppd, PDF, "-o", f"OutputMode={mode}"
        )
        made.append(CorpusFile(out, "lidil", pdf_pages, "qpdf", f"cupsfilter hpcups {mode}"))
    return made
