"""Documents made by third-party programs: PDF, PostScript, DVI, text, images, Netpbm, office.

Each file comes with a count from an oracle that is not PageTally:
- PDF: real PDFs shipped in Debian packages (/usr/share/doc, /usr/share/cups/data),
  rewritten by qpdf with object and xref streams (pkpgcounter counted 0 there) and
  linearized, and written by Ghostscript's pdfwrite — counted by `qpdf --show-npages`.
- PostScript: groff man pages, enscript text (with and without copies), Ghostscript's
  ps2write — counted by Ghostscript's bbox device (times the copies enscript
  reports it asked for).
- DVI: plain TeX and e-TeX on a small document — counted by `dvitype`.
- Text: `pr` and the GPL — counted by enscript at 66 lines per page, no header,
  long lines cut (what the text parser does).
- Images: ImageMagick and tiffcp multi-page TIFF, Ghostscript's tiffg4 — counted by
  `tiffinfo`; PNG/JPEG/GIF/BMP by ImageMagick — counted by `identify`.
- Netpbm: several images in one file (netpbm tools, Ghostscript's pnmraw) —
  counted by `pamfile -allimages`.
- Office: LibreOffice's ODT, DOCX and DOC from the ODT CUPS ships and from text,
  ODS and XLSX from a CSV table, ODP and PPTX from a PDF (Impress' PDF import) —
  counted by converting them with LibreOffice to PDF and asking qpdf.
"""

from __future__ import annotations

import gzip
import re
import shutil
import subprocess
from collections.abc import Callable
from pathlib import Path

from tests.corpus import CorpusFile

GPL = Path("/usr/share/common-licenses/GPL-3")
ODT = Path("/usr/share/cups/data/form_english_in.odt")
MAN_PAGES = [Path("/usr/share/man/man1/groff.1.gz"), Path("/usr/share/man/man1/gs.1.gz")]
MAX_PDFS = 40
MAX_PDF_SIZE = 3 << 20
TIMEOUT = 300


def _run(argv: list[str], *, cwd: Path | None = None, stdin: bytes | None = None) -> bytes:
    res = subprocess.run(
        argv, input=stdin, capture_output=True, check=True, timeout=TIMEOUT, cwd=cwd
    )
    return res.stdout + res.stderr


def _qpdf(path: Path) -> int:
    return int(
        subprocess.run(
            ["qpdf", "--show-npages", str(path)], capture_output=True, text=True, check=True
        ).stdout
    )


def _bbox(path: Path) -> int:
    res = subprocess.run(
        ["gs", "-q", "-dSAFER", "-dBATCH", "-dNOPAUSE", "-sDEVICE=bbox", str(path)],
        capture_output=True,
        timeout=TIMEOUT,
        check=True,
    )
    return (res.stdout + res.stderr).count(b"%%BoundingBox:")


def _tiffinfo(path: Path) -> int:
    out = subprocess.run(["tiffinfo", str(path)], capture_output=True, text=True).stdout
    return len(re.findall(r"^TIFF Directory", out, re.MULTILINE))


def _identify(path: Path) -> int:
    out = _run(["identify", str(path)]).decode()
    return len([line for line in out.splitlines() if line.strip()])


def _pamfile(path: Path) -> int:
    out = _run(["pamfile", "-allimages", str(path)]).decode()
    return len(re.findall(r"Image \d+:", out))


def _dvitype(path: Path) -> int:
    out = _run(["dvitype", str(path)]).decode("latin-1")
    return out.count("beginning of page")


def _enscript_pages(report: bytes) -> tuple[int, int]:
    m = re.search(rb"\[ (\d+) pages? \* (\d+) cop", report)
    assert m, report
    return int(m.group(1)), int(m.group(2))


# --- PDF -------------------------------------------------------------------------


def _pdfs(out: Path) -> list[CorpusFile]:
    found = sorted(
        p
        for root in (Path("/usr/share/doc"), Path("/usr/share/cups/data"))
        for p in root.rglob("*.pdf")
        if p.is_file() and p.stat().st_size <= MAX_PDF_SIZE
    )[:MAX_PDFS]
    files: list[CorpusFile] = []
    for i, src in enumerate(found):
        dest = out / f"debian-{i:02d}-{src.name}"
        shutil.copyfile(src, dest)
        files.append(CorpusFile(dest, "pdf", _qpdf(dest), "qpdf", f"Debian package ({src})"))
    for i, src in enumerate(found[:: max(1, len(found) // 6)]):
        for flag, tag in (("--object-streams=generate", "objstm"), ("--linearize", "linear")):
            dest = out / f"qpdf-{tag}-{i:02d}.pdf"
            _run(["qpdf", flag, str(src), str(dest)])
            files.append(CorpusFile(dest, "pdf", _qpdf(dest), "qpdf", f"qpdf {flag}"))
    return files


# --- PostScript ------------------------------------------------------------------


def _postscript(out: Path) -> list[CorpusFile]:
    files: list[CorpusFile] = []
    for man in MAN_PAGES:
        if not man.exists():
            continue
        dest = out / f"groff-{man.name.removesuffix('.gz')}.ps"
        dest.write_bytes(_run(["groff", "-man", "-Tps"], stdin=gzip.decompress(man.read_bytes())))
        files.append(CorpusFile(dest, "postscript", _bbox(dest), "gs bbox", "groff -man -Tps"))
    for copies in (1, 2):
        dest = out / f"enscript-gpl-{copies}.ps"
        report = _run(["enscript", f"-n{copies}", "-p", str(dest), str(GPL)])
        pages, ncopies = _enscript_pages(report)
        assert pages == _bbox(dest)
        files.append(
            CorpusFile(
                dest,
                "postscript",
                pages * ncopies,
                "gs bbox × enscript copies",
                f"enscript -n{copies}",
            )
        )
    two_up = out / "enscript-2up.ps"
    _run(["enscript", "-q", "-2r", "-p", str(two_up), str(GPL)])
    files.append(CorpusFile(two_up, "postscript", _bbox(two_up), "gs bbox", "enscript -2r"))
    sources = [p.path for p in files if p.path.name.startswith("groff")][:1]
    sources += [Path("/usr/share/cups/data/default-testpage.pdf")]
    for i, src in enumerate(sources):
        dest = out / f"ps2write-{i}.ps"
        _run(
            [
                "gs",
                "-q",
                "-dSAFER",
                "-dBATCH",
                "-dNOPAUSE",
                "-sDEVICE=ps2write",
                f"-sOutputFile={dest}",
                str(src),
            ]
        )
        files.append(CorpusFile(dest, "postscript", _bbox(dest), "gs bbox", "gs ps2write"))
        pdf = out / f"pdfwrite-{i}.pdf"
        _run(
            [
                "gs",
                "-q",
                "-dSAFER",
                "-dBATCH",
                "-dNOPAUSE",
                "-sDEVICE=pdfwrite",
                f"-sOutputFile={pdf}",
                str(dest),
            ]
        )
        files.append(CorpusFile(pdf, "pdf", _qpdf(pdf), "qpdf", "gs pdfwrite"))
    return files


# --- DVI -------------------------------------------------------------------------

PLAIN_TEX = r"""
\parindent=0pt
\def\para{The quick brown fox jumps over the lazy dog. }
\count1=0
\loop\advance\count1 by 1
  \para\para\para\para\para\para\para\para\endgraf
  \ifnum\count1<%d\repeat
\vfill\eject
Last page.
\bye
"""


def _dvi(out: Path) -> list[CorpusFile]:
    files: list[CorpusFile] = []
    for engine, paragraphs in (("tex", 12), ("tex", 200), ("etex", 90)):
        work = out / f"{engine}-{paragraphs}"
        work.mkdir(exist_ok=True)
        (work / "doc.tex").write_text(PLAIN_TEX % paragraphs)
        _run([engine, "-interaction=batchmode", "doc.tex"], cwd=work)
        dest = out / f"{engine}-{paragraphs}.dvi"
        shutil.copyfile(work / "doc.dvi", dest)
        shutil.rmtree(work)
        files.append(CorpusFile(dest, "dvi", _dvitype(dest), "dvitype", engine))
    return files


# --- text ------------------------------------------------------------------------


def _enscript_text_pages(path: Path) -> int:
    report = _run(["enscript", "-B", "-c", "-L66", "-p", "/dev/null", str(path)])
    return _enscript_pages(report)[0]


def _text(out: Path) -> list[CorpusFile]:
    files: list[CorpusFile] = []
    gpl = out / "gpl.txt"
    shutil.copyfile(GPL, gpl)
    files.append(CorpusFile(gpl, "text", _enscript_text_pages(gpl), "enscript -L66", "GPL-3"))
    for length in (30, 50):
        dest = out / f"pr-f-l{length}.txt"
        dest.write_bytes(_run(["pr", "-f", f"-l{length}", str(GPL)]))
        files.append(
            CorpusFile(
                dest,
                "text",
                _enscript_text_pages(dest),
                "enscript -L66",
                f"pr -f -l{length} (form feeds)",
            )
        )
    return files


# --- images ----------------------------------------------------------------------


def _images(out: Path) -> list[CorpusFile]:
    files: list[CorpusFile] = []
    magick = out / "magick-multi.tiff"
    _run(["convert", "rose:", "logo:", "wizard:", "granite:", str(magick)])
    files.append(CorpusFile(magick, "tiff", _tiffinfo(magick), "tiffinfo", "ImageMagick"))
    singles = []
    for i, name in enumerate(("rose:", "netscape:", "granite:")):
        single = out / f"single-{i}.tif"
        _run(["convert", name, "-compress", "lzw", str(single)])
        singles.append(str(single))
    joined = out / "tiffcp-joined.tif"
    _run(["tiffcp", *singles, str(joined)])
    files.append(CorpusFile(joined, "tiff", _tiffinfo(joined), "tiffinfo", "tiffcp"))
    big_endian = out / "magick-msb.tiff"
    _run(["convert", "rose:", "logo:", "-endian", "MSB", str(big_endian)])
    files.append(
        CorpusFile(big_endian, "tiff", _tiffinfo(big_endian), "tiffinfo", "ImageMagick -endian MSB")
    )
    g4 = out / "gs-tiffg4.tif"
    _run(
        [
            "gs",
            "-q",
            "-dSAFER",
            "-dBATCH",
            "-dNOPAUSE",
            "-sDEVICE=tiffg4",
            "-r100",
            f"-sOutputFile={g4}",
            "/usr/share/doc/printer-driver-foo2zjs/manual.pdf"
            if Path("/usr/share/doc/printer-driver-foo2zjs/manual.pdf").exists()
            else "/usr/share/cups/data/default-testpage.pdf",
        ]
    )
    files.append(CorpusFile(g4, "tiff", _tiffinfo(g4), "tiffinfo", "gs tiffg4"))
    for ext in ("png", "jpg", "bmp", "gif"):
        dest = out / f"rose.{ext}"
        _run(["convert", "rose:", str(dest)])
        files.append(CorpusFile(dest, "image", _identify(dest), "identify", "ImageMagick"))
    anim = out / "animated.gif"
    _run(["convert", "-delay", "20", "rose:", "logo:", "wizard:", "-resize", "64x64", str(anim)])
    files.append(CorpusFile(anim, "image", _identify(anim), "identify", "ImageMagick"))
    return files


# --- Netpbm ----------------------------------------------------------------------


def _netpbm(out: Path) -> list[CorpusFile]:
    files: list[CorpusFile] = []
    parts = {
        "pbm": _run(["pbmtext", "PageTally"]),
        "pgm": _run(["pgmramp", "-lr", "40", "20"]),
        "ppm": _run(["ppmmake", "red", "12", "7"]),
    }
    plain = {k: _run(["pnmtopnm", "-plain"], stdin=v) for k, v in parts.items()}
    mixes: dict[str, list[bytes]] = {
        "raw-3": [parts["pbm"], parts["pgm"], parts["ppm"]],
        "raw-pbm-4": [parts["pbm"]] * 4,
        "plain-3": [plain["pbm"], plain["pgm"], plain["ppm"]],
        "mixed-6": [
            parts["ppm"],
            plain["pgm"],
            parts["pbm"],
            plain["ppm"],
            parts["pgm"],
            plain["pbm"],
        ],
    }
    for name, chunks in mixes.items():
        dest = out / f"netpbm-{name}.pnm"
        dest.write_bytes(b"".join(chunks))
        files.append(CorpusFile(dest, "pnm", _pamfile(dest), "pamfile -allimages", "netpbm"))
    for device in ("pnmraw", "pgmraw", "pbmraw"):
        dest = out / f"gs-{device}.pnm"
        _run(
            [
                "gs",
                "-q",
                "-dSAFER",
                "-dBATCH",
                "-dNOPAUSE",
                f"-sDEVICE={device}",
                "-r20",
                f"-sOutputFile={dest}",
                str(_gpl_ps_source(out)),
            ]
        )
        files.append(CorpusFile(dest, "pnm", _pamfile(dest), "pamfile -allimages", f"gs {device}"))
    return files


def _gpl_ps_source(out: Path) -> Path:
    """A short PostScript source (4 pages of the GPL) for raster devices."""
    dest = out / "gpl-4pages-source.ps"
    if not dest.exists():
        _run(["enscript", "-q", "-a", "1-4", "-p", str(dest), str(GPL)])
    return dest


# --- office ----------------------------------------------------------------------


def _soffice(out: Path, fmt: str, sources: list[Path], infilter: str = "") -> None:
    profile = (out.parent / "lo-profile").as_uri()
    args = [f"--infilter={infilter}"] if infilter else []
    _run(
        [
            "soffice",
            f"-env:UserInstallation={profile}",
            "--headless",
            "--norestore",
            *args,
            "--convert-to",
            fmt,
            "--outdir",
            str(out),
            *map(str, sources),
        ]
    )


def _office(out: Path) -> list[CorpusFile]:
    work = out / "lo-src"
    work.mkdir(exist_ok=True)
    form = work / "form.odt"
    shutil.copyfile(ODT, form)
    text = work / "gpl.txt"
    shutil.copyfile(GPL, text)
    table = work / "table.csv"
    table.write_text("\n".join(",".join(str(r * c) for c in range(14)) for r in range(300)))
    slides = work / "slides.pdf"
    shutil.copyfile(Path("/usr/share/cups/data/default-testpage.pdf"), slides)
    _soffice(work, "odt", [text])
    _soffice(work, "docx", [form, text])
    _soffice(work, "doc", [form, text])
    _soffice(work, "ods", [table])  # LibreOffice Calc
    _soffice(work, "xlsx", [work / "table.ods"])
    _soffice(work, "odp", [slides], infilter="impress_pdf_import")  # LibreOffice Impress
    _soffice(work, "pptx", [work / "slides.odp"])
    docs = [
        "form.odt",
        "gpl.odt",
        "form.docx",
        "gpl.docx",
        "form.doc",
        "gpl.doc",
        "table.ods",
        "table.xlsx",
        "slides.odp",
        "slides.pptx",
    ]
    final = []
    for name in docs:
        doc = work / name
        dest = out / f"lo-{doc.stem}-{doc.suffix[1:]}{doc.suffix}"  # unique stems: one PDF each
        shutil.copyfile(doc, dest)
        final.append(dest)
    oracle = out / "lo-oracle"
    oracle.mkdir(exist_ok=True)
    _soffice(oracle, "pdf", final)
    kinds = {
        ".odt": "odf",
        ".ods": "odf",
        ".odp": "odf",
        ".docx": "ooxml",
        ".xlsx": "ooxml",
        ".pptx": "ooxml",
        ".doc": "msword",
    }
    files = [
        CorpusFile(
            d,
            kinds[d.suffix],
            _qpdf(oracle / f"{d.stem}.pdf"),
            "LibreOffice → PDF, qpdf",
            "LibreOffice",
        )
        for d in final
    ]
    shutil.rmtree(work)
    shutil.rmtree(oracle)
    shutil.rmtree(out / "lo-profile", ignore_errors=True)
    return files


STEPS: list[Callable[[Path], list[CorpusFile]]] = [
    _pdfs,
    _postscript,
    _dvi,
    _text,
    _images,
    _netpbm,
    _office,
]


def generate(outdir: Path) -> list[CorpusFile]:
    files: list[CorpusFile] = []
    for step in STEPS:
        files.extend(step(outdir))
    return files
