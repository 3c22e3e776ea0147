"""Real printer drivers outside PCL, run as users run them, with the source's count.

Families (the `generator` field reads "family: command", for the tally):
- gutenprint-escp2, gutenprint-canon, gutenprint-pcl: whole CUPS chains through
  `cupsfilter` with Gutenprint's own PPDs (`cups-driverd cat gutenprint.5.3://…`),
  a few models each, at several quality settings;
- epson-escpr: Epson's ESC/P-R driver; its filter fetches its PPD from a CUPS
  server by queue name (cupsGetPPD), so a private cupsd on 127.0.0.1 holds the
  queues and the filter is run with the queue's name as argv[0], as cupsd would;
- brlaser: Brother lasers through cupsfilter;
- cups-rastertoepson: CUPS' own 9- and 24-pin Epson/Okidata driver (sample.drv);
- foo2: every foo2zjs-family wrapper, in colour (`-c`) where the driver has it
  (colour QPDL, HBPL2 and LAVA need `-C 10`: Debian ships no CRD files);
- netpbm: the printer converters on one rendered page (and three concatenated,
  where each output ends its page with a form feed);
- ghostscript: devices and settings the older corpus leaves out (stcolor and
  escpage at other resolutions and ditherings, lp8000, bj10v, the sixel devices,
  lips4v), fed PostScript: Ghostscript 10's PDF interpreter reopens some devices'
  output file per page (stcolor from a PDF holds the last page only).

The source is a 3-page PostScript file written here (black text, colour shapes,
grey text), distilled to PDF for the CUPS chains; oracle: qpdf on the PDF and
Ghostscript's bbox device on the PostScript, which must agree. `refused=True`
marks outputs whose page count the data cannot give (Printronix rows with no page
break, raw G3): PageTally must refuse them, never count.
"""

from __future__ import annotations

import os
import subprocess
import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

from tests.corpus import CorpusFile

DRIVERD = "/usr/lib/cups/daemon/cups-driverd"
ESCPR_DRIVER = "/usr/lib/cups/driver/escpr"
ESCPR_WRAPPER = "/usr/lib/cups/filter/epson-escpr-wrapper"
ESCPR_PPD = "escpr:0/cups/model/epson-inkjet-printer-escpr/Epson-{}-epson-escpr-en.ppd"
WORKERS = 2  # CI has two cores

SOURCE_PS = """%!PS-Adobe-3.0
%%Pages: 3
%%EndComments
/Helvetica findfont 14 scalefont setfont
%%Page: 1 1
0 setgray 72 720 moveto (Page one: black text only.) show
72 700 moveto (The quick brown fox jumps over the lazy dog.) show
72 100 moveto (bottom of page one) show
showpage
%%Page: 2 2
1 0 0 setrgbcolor 72 500 200 150 rectfill
0 0 1 setrgbcolor 300 400 150 200 rectfill
0 setgray 72 720 moveto (Page two: colour shapes.) show
showpage
%%Page: 3 3
0 setgray 72 720 moveto (Page three: black text again.) show
0.5 setgray 72 300 300 20 rectfill
showpage
%%EOF
"""


@dataclass(frozen=True)
class Job:
    """One output to make: `make(out, src)` writes it; `fmt` is the parser expected."""

    family: str
    name: str
    fmt: str
    make: Callable[[Path, Sources], None]
    what: str  # the generator, for people
    pages: int | None = None  # None: the source's pages
    refused: bool = False


@dataclass(frozen=True)
class Sources:
    work: Path
    ps: Path
    pdf: Path
    pbm: Path  # page 1 rendered, one image
    ppm: Path  # page 2 rendered, one image
    escpr_env: dict[str, str]  # CUPS_SERVER of the private cupsd


def _run(
    argv: list[str],
    out: Path,
    env: dict[str, str] | None = None,
    stdin: Path | None = None,
    timeout: float = 300,
) -> None:
    with out.open("wb") as fh, stdin.open("rb") if stdin else open(os.devnull, "rb") as inp:
        subprocess.run(
            argv,
            stdin=inp,
            stdout=fh,
            stderr=subprocess.DEVNULL,
            env=env,
            check=True,
            timeout=timeout,
        )


_PPD_LOCK = threading.Lock()


def _ppd(work: Path, uri: str) -> Path:
    """The PPD of a driver URI, fetched once (two jobs may want it at once)."""
    name = uri.replace("://", "_").replace("/", "_").replace(":", "_") + ".ppd"
    path = work / name
    with _PPD_LOCK:
        if not path.exists():
            tool = ESCPR_DRIVER if uri.startswith("escpr:") else DRIVERD
            part = path.with_suffix(".part")
            _run([tool, "cat", uri], part)
            part.rename(path)
    return path


def _cupsfilter(uri: str, *opts: str) -> Callable[[Path, Sources], None]:
    def make(out: Path, src: Sources) -> None:
        ppd = _ppd(src.work, uri)
        _run(["cupsfilter", "-e", "-p", str(ppd), "-m", "printer/foo", *opts, str(src.pdf)], out)

    return make


def _escpr(model: str, *opts: str) -> Callable[[Path, Sources], None]:
    """CUPS raster from cupsfilter piped into the ESC/P-R filter, as cupsd runs it."""

    def make(out: Path, src: Sources) -> None:
        queue = model.lower().replace("_", "-")
        ppd = _ppd(src.work, ESCPR_PPD.format(model))
        raster = subprocess.Popen(
            [
                "cupsfilter",
                "-e",
                "-p",
                str(ppd),
                "-m",
                "application/vnd.cups-raster",
                *opts,
                str(src.pdf),
            ],
            stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL,
        )
        with out.open("wb") as fh:
            filt = subprocess.run(
                [queue, "1", "user", "title", "1", ""],
                executable=ESCPR_WRAPPER,
                stdin=raster.stdout,
                stdout=fh,
                stderr=subprocess.DEVNULL,
                env=src.escpr_env,
                timeout=300,
                check=False,
            )
        assert raster.stdout is not None
        raster.stdout.close()
        if raster.wait(timeout=300) or filt.returncode:
            raise RuntimeError(f"epson-escpr failed for {model} ({filt.returncode})")

    return make


def _foo2(lang: str, *opts: str) -> Callable[[Path, Sources], None]:
    def make(out: Path, src: Sources) -> None:
        _run([f"foo2{lang}-wrapper", *opts, str(src.ps)], out)

    return make


def _gs(device: str, *opts: str) -> Callable[[Path, Sources], None]:
    def make(out: Path, src: Sources) -> None:
        _run(
            [
                "gs",
                "-q",
                "-dSAFER",
                "-dBATCH",
                "-dNOPAUSE",
                f"-sDEVICE={device}",
                *opts,
                f"-sOutputFile={out}",
                str(src.ps),
            ],
            Path(os.devnull),
        )

    return make


def _netpbm(tool: str, image: str, times: int = 1) -> Callable[[Path, Sources], None]:
    def make(out: Path, src: Sources) -> None:
        one = out.with_suffix(".one")
        _run([tool], one, stdin=src.pbm if image == "pbm" else src.ppm)
        out.write_bytes(one.read_bytes() * times)
        one.unlink()

    return make


def _jobs() -> list[Job]:
    jobs: list[Job] = []

    def gp(family: str, fmt: str, model: str, *settings: str) -> None:
        for setting in settings:
            opts = [o for kv in setting.split() for o in ("-o", kv)]
            tag = setting.replace("StpQuality=", "").replace("ColorModel=", "").replace(" ", "-")
            jobs.append(
                Job(
                    family,
                    f"{model}-{tag}.{fmt}",
                    fmt,
                    _cupsfilter(f"gutenprint.5.3://{model}/expert", *opts),
                    f"cupsfilter gutenprint {model} {setting}",
                )
            )

    eco, std = "StpQuality=Economy", "StpQuality=Standard"
    gray = f"{eco} ColorModel=Gray"
    # Gutenprint ESC/P2: new-style rows (ESC i) on recent models, ESC . on older ones;
    # Canon: BJL control blocks, PIXMA's IVEC XML wrapper (MG2100, G4000); PCL:
    # DeskJets and LaserJets
    for family, fmt, models in (
        ("gutenprint-escp2", "escp", (("escp2-c88", (eco, std, gray)), ("escp2-r3000", (eco,)),
                                      ("escp2-600", (eco,)), ("escp2-740", ("StpQuality=Draft",)),
                                      ("escp2-9600", (eco,)), ("escp2-et2750", (eco,)),
                                      ("escp2-photo", (eco,)))),
        ("gutenprint-canon", "bjc", (("bjc-30", (eco,)), ("bjc-4300", (eco,)),
                                     ("bjc-6000", (eco, gray)), ("bjc-i560", (eco,)),
                                     ("bjc-PIXMA-iP4200", (eco,)), ("bjc-MP150-series", (eco,)),
                                     ("bjc-MG2100-series", (eco,)), ("bjc-PIXMA-G4000", (eco,)))),
        ("gutenprint-pcl", "pcl", (("pcl-340", (eco,)), ("pcl-500", (eco,)), ("pcl-600", (eco,)),
                                   ("pcl-850", (eco, gray)), ("hp-lj_4000", (eco, std)))),
    ):  # fmt: skip
        for model, settings in models:
            gp(family, fmt, model, *settings)
    # CUPS' own rastertoepson (9- and 24-pin ESC/P) at two resolutions each
    for model, res in (
        ("epson9", "60x72dpi"),
        ("epson9", "120x72dpi"),
        ("epson24", "180dpi"),
        ("epson24", "60dpi"),
        ("okidata9", "120x72dpi"),
        ("okidat24", "180dpi"),
    ):
        jobs.append(Job("cups-rastertoepson", f"cups-{model}-{res}.escp", "escp",
                        _cupsfilter(f"drv:///sample.drv/{model}.ppd", "-o", f"Resolution={res}"),
                        f"cupsfilter sample.drv {model} {res}"))  # fmt: skip
    # Epson ESC/P-R
    # (not Ink=MONO: epson-escpr 1.7.17 then writes page 1 and an empty page, whatever
    # the source holds, so the source's count is no oracle for it)
    for model, opts in (
        ("ET-2750_Series", ()),
        ("L3150_Series", ("-o", "MediaType=PLAIN_HIGH")),
        ("Artisan_1430", ()),
    ):
        tag = "-".join([model, *opts[1::2]]).replace("=", "")
        jobs.append(
            Job(
                "epson-escpr",
                f"escpr-{tag}.escpr",
                "escpr",
                _escpr(model, *opts),
                f"epson-escpr {model} {' '.join(opts)}",
            )
        )
    # brlaser (Brother: PJL + PCL)
    for model, opts in (
        ("br1200", ()),
        ("br2270dw", ("-o", "Duplex=DuplexNoTumble")),
        ("br5030", ("-o", "Resolution=300dpi")),
    ):
        tag = "-".join([model, *opts[1::2]]).replace("=", "")
        jobs.append(
            Job(
                "brlaser",
                f"brlaser-{tag}.pcl",
                "pcl",
                _cupsfilter(f"drv:///brlaser.drv/{model}.ppd", *opts),
                f"cupsfilter brlaser {model} {' '.join(opts)}",
            )
        )
    # foo2zjs family: every wrapper, colour where the driver has it
    for lang, fmt, variants in (
        ("zjs", "zjs", ((), ("-c",), ("-z3", "-c"))),
        ("hp2600", "zjs", (("-c",),)),
        (
            "qpdl",
            "qpdl",
            ((), ("-c", "-C", "10"), ("-c", "-C", "10", "-z2"), ("-c", "-C", "10", "-z3")),
        ),
        ("hbpl2", "hbpl", ((), ("-c", "-C", "10"))),
        ("lava", "lava", ((), ("-c", "-C", "10"))),
        ("hiperc", "hiperc", (("-r", "600x600"), ("-c", "-r", "600x600"))),
        ("xqx", "xqx", ((), ("-c",))),
        ("oak", "oak", ((), ("-c",))),
        ("slx", "slx", ((), ("-c",))),
        ("ddst", "ddst", ((),)),
    ):
        for opts in variants:
            tag = "".join(o.strip("-") for o in opts)
            jobs.append(
                Job(
                    "foo2",
                    f"foo2{lang}{'-' + tag if tag else ''}.{fmt}",
                    fmt,
                    _foo2(lang, *opts),
                    f"foo2 {lang}-wrapper {' '.join(opts)}",
                )
            )
    # netpbm's printer converters: one page; three outputs one after the other
    for tool, image, fmt, times in (
        ("pbmtoepson", "pbm", "escp", 1),
        ("pbmtoepson", "pbm", "escp", 3),
        ("pbmto10x", "pbm", "escp", 1),
        ("pbmtoescp2", "pbm", "escp", 1),
        ("pbmtolj", "pbm", "pcl", 1),
        ("pbmtolj", "pbm", "pcl", 3),
        ("ppmtolj", "ppm", "pcl", 1),
        ("ppmtopj", "ppm", "pcl", 1),
        ("ppmtopjxl", "ppm", "pcl", 1),
        ("pbmtoln03", "pbm", "sixel", 1),
    ):
        jobs.append(
            Job(
                "netpbm",
                f"{tool}-x{times}.{fmt}",
                fmt,
                _netpbm(tool, image, times),
                f"netpbm {tool} x{times}",
                pages=times,
            )
        )
    jobs.append(
        Job(
            "netpbm",
            "pbmtoptx.ptx",
            "printronix",
            _netpbm("pbmtoptx", "pbm"),
            "netpbm pbmtoptx",
            pages=1,
            refused=True,
        )
    )
    # Ghostscript devices and settings the older corpus leaves out
    for device, fmt, opts in (
        ("stcolor", "escp", ("-r180",)),
        ("stcolor", "escp", ("-r360", "-sDithering=fsmono")),
        ("stcolor", "escp", ("-r360", "-sDithering=fsrgb")),
        ("stcolor", "escp", ("-r720",)),
        ("escpage", "escpage", ("-r300",)),
        ("escpage", "escpage", ("-r600",)),
        ("lp8000", "escpage", ()),
        ("bj10v", "escp", ()),
        ("bj10v", "escp", ("-r180",)),
        ("bj10vh", "escp", ()),
        ("jetp3852", "escp", ()),
        ("ln03", "sixel", ()),
        ("la50", "sixel", ()),
        ("la75", "sixel", ()),
        ("la75plus", "sixel", ()),
    ):
        tag = "".join(o.lstrip("-").replace("=", "") for o in opts)
        jobs.append(
            Job(
                "ghostscript",
                f"gs-{device}{'-' + tag if tag else ''}.{fmt}",
                fmt,
                _gs(device, *opts),
                f"ghostscript gs -sDEVICE={device} {' '.join(opts)}",
            )
        )
    jobs.append(
        Job(
            "ghostscript",
            "gs-lips4v.lips",
            "lips",
            _gs("lips4v"),
            "ghostscript gs -sDEVICE=lips4v",
        )
    )
    return jobs


def _sources(work: Path, escpr_env: dict[str, str]) -> tuple[Sources, int, str]:
    ps = work / "doc.ps"
    ps.write_text(SOURCE_PS)
    pdf = work / "doc.pdf"
    subprocess.run(["ps2pdf", str(ps), str(pdf)], check=True, timeout=120)
    pages = int(
        subprocess.run(
            ["qpdf", "--show-npages", str(pdf)], capture_output=True, check=True, text=True
        ).stdout
    )
    bbox = subprocess.run(
        ["gs", "-q", "-dSAFER", "-dBATCH", "-dNOPAUSE", "-sDEVICE=bbox", str(ps)],
        capture_output=True,
        check=True,
        timeout=120,
    )
    if pages != bbox.stderr.count(b"%%BoundingBox"):
        raise RuntimeError("qpdf and Ghostscript disagree on the source's pages")
    pbm, ppm = work / "page1.pbm", work / "page2.ppm"
    for device, res, page, out in (("pbmraw", "-r100", 1, pbm), ("ppmraw", "-r75", 2, ppm)):
        subprocess.run(
            [
                "gs",
                "-q",
                "-dSAFER",
                "-dBATCH",
                "-dNOPAUSE",
                f"-sDEVICE={device}",
                res,
                f"-dFirstPage={page}",
                f"-dLastPage={page}",
                f"-sOutputFile={out}",
                str(pdf),
            ],
            check=True,
            timeout=120,
        )
    return Sources(work, ps, pdf, pbm, ppm, escpr_env), pages, "qpdf + gs bbox"


def generate(outdir: Path) -> list[CorpusFile]:
    """Make every output into `outdir` (two at a time); return them with their counts."""
    from tests.cups.cupsd import private_cupsd  # a cupsd only for the ESC/P-R PPDs

    work = outdir / "src"
    work.mkdir(parents=True, exist_ok=True)
    jobs = _jobs()
    with private_cupsd("pagetally-escpr-", lambda base: "[global]\n") as cupsd:
        for job in jobs:
            if job.family == "epson-escpr":
                model = job.what.split()[1]
                ppd = _ppd(work, ESCPR_PPD.format(model))
                cupsd.run(
                    "lpadmin",
                    "-p",
                    model.lower().replace("_", "-"),
                    "-E",
                    "-v",
                    "file:///dev/null",
                    "-P",
                    str(ppd),
                )
        src, pages, oracle = _sources(work, cupsd.env())

        def make(job: Job) -> CorpusFile:
            out = outdir / job.name
            job.make(out, src)
            expected = pages if job.pages is None else job.pages
            return CorpusFile(
                path=out,
                format=job.fmt,
                pages=expected,
                oracle=oracle if job.pages is None else "one image a page",
                generator=f"{job.family}: {job.what}",
                refused=job.refused,
            )

        with ThreadPoolExecutor(WORKERS) as pool:
            return list(pool.map(make, jobs))
