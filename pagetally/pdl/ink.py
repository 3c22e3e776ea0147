"""Per-page colour verdict and ink coverage, by rendering the job.

`page_inks(path, fmt, colorspace=..., resolution=...)` is the public entry point
(`pagetally.pdl.analyse(color=True)` calls it). How each job is rendered:

- PDF and PostScript (EPS, binary DOS EPS, PJL-wrapped): Ghostscript renders each
  page to RGB (ppmraw) on a pipe, with `-dUseFastColor` so that equal C=M=Y and
  DeviceGray/RGB greys stay exactly neutral, and `raster.py` sums it in strips
  with NumPy. `cmyk="device"` takes CMYK coverage from Ghostscript's `ink_cov`
  device instead (its ICC separation, what a CMYK printer would lay down), the
  verdict still coming from the raster.
- PCL and PCL XL: GhostPCL (`gpcl6`) the same way when installed; it is packaged
  neither by Debian nor on PyPI, so otherwise AnalysisUnavailable.
- Images (TIFF pages, PNG, JPEG, GIF, BMP, ...): Pillow, frame by frame.
- Netpbm (every image of a multi-image PNM file): read directly.
- DVI: dvips (secure mode, no font generation) to PostScript, then Ghostscript.
- OpenDocument and Word: LibreOffice (headless) to PDF, then Ghostscript.
- Plain text: enscript, paginated as the text parser counts, then Ghostscript.
- ESC/P 2 and DeskJet PCL 3 (planes named by ESC *r-3U/-4U): colour verdicts (no
  coverage) from the job's own rows (`escp.page_colours`, `_pclcolour.page_colours`):
  a page is colour when a magenta, cyan or yellow row holds a dot.
- Anything else (host-based raster languages, unknown plug-in formats):
  AnalysisUnavailable, naming the format.

Coverage keys and formulas are pkpgcounter's, per colour space (see raster.py):
BW {B}, RGB {R, G, B}, CMY {C, M, Y}, CMYK {C, M, Y, K}, GC {G, C}; `INK_NAMES`
gives PyKota's ink names for `coefficient_<ink>`. The colour verdict needs no
colour space (colorspace=None gives the verdicts alone, all a colour/mono price needs).
Subprocesses run through pagetally.proc (argument lists, their own process group
killed whole, time, output and memory bounds), with -dSAFER and a private
temporary directory removed afterwards. Only PdlError subclasses escape.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import tempfile
import time
import warnings
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING, BinaryIO, Literal, cast

from pagetally import proc
from pagetally.errors import (
    AnalysisUnavailable,
    CorruptData,
    EncryptedData,
    InvalidInput,
    LimitReached,
    PdlError,
    TruncatedData,
)
from pagetally.pdl import pjl
from pagetally.pdl.base import PageInk
from pagetally.pdl.raster import (
    COLORSPACES,
    DEFAULT_TOLERANCE,
    PageSums,
    Tolerance,
    iter_pnm,
)

if TYPE_CHECKING:
    from PIL import Image

__all__ = [
    "COLORSPACES",
    "DEFAULT_RESOLUTION",
    "DEFAULT_TOLERANCE",
    "INK_NAMES",
    "Tolerance",
    "device_coverage",
    "page_inks",
]

DEFAULT_RESOLUTION = 72  # PyKota's default for `accounter: ink(cspace[,dpi])`
MAX_RESOLUTION = 1200
# PyKota's names of each colour space's inks (pykota/accounters/ink.py), as used by
# the `coefficient_<ink>` directives.
INK_NAMES: dict[str, dict[str, str]] = {
    "CMYK": {"C": "cyan", "M": "magenta", "Y": "yellow", "K": "black"},
    "CMY": {"C": "cyan", "M": "magenta", "Y": "yellow"},
    "RGB": {"R": "red", "G": "green", "B": "blue"},
    "BW": {"B": "black", "W": "white"},
    "GC": {"G": "grayscale", "C": "colored"},
}
PCL_PARSERS = frozenset({"pcl", "pcl3", "pcl4", "pcl5", "pclxl", "pcl6", "hpgl", "hpgl2"})
GHOSTPCL = ("gpcl6", "pcl6")
PNM_MAGICS = tuple(f"P{n}".encode() for n in range(1, 8))
BASE_TIMEOUT = 60.0  # seconds a renderer may take for one page, plus SECONDS_PER_MB of job
SECONDS_PER_MB = 10.0
MAX_RENDER_SECONDS = 3600.0  # a whole job, however steadily its pages come
CONVERTER_OUTPUT = 1 << 20  # bytes of a converter's messages kept (the rest dropped)
MAX_IMAGE_PIXELS = 50_000_000  # a 600 DPI A4 colour scan is 35 million
STRIP_PIXELS = 4_000_000  # larger frames are converted to RGB a band of rows at a time

# Copies are counted by the parsers; the raster wants each page once. -dNumCopies=1
# covers #copies; a job's own `<< /NumCopies n >> setpagedevice` is rewritten to 1.
ONE_COPY = (
    "/setpagedevice { dup /NumCopies known { dup length dict copy dup /NumCopies 1 put } if "
    "//setpagedevice } bind def"
)

Route = Literal["ghostscript", "ghostpcl", "pnm", "image", "dvi", "office", "text"]
TEXT_LINES_PER_PAGE = 66  # as the text parser's default (pagetally.pdl.formats.text)
OFFICE_PARSERS = frozenset({"odf", "ooxml", "msword"})
IMAGE_PARSERS = frozenset({"image", "tiff", "png", "jpeg", "gif", "bmp"})


def page_inks(
    path: Path,
    fmt: str,
    *,
    colorspace: str | None = None,
    resolution: int | None = None,
    tolerance: Tolerance = DEFAULT_TOLERANCE,
    cmyk: Literal["raster", "device"] = "raster",
    timeout: float | None = None,
) -> tuple[PageInk, ...]:
    """One PageInk per rendered page of the job in file `path`.

    `fmt` is the name of the parser that recognised the job ("pdf", "pclxl", ...).
    `colorspace` is one of BW, RGB, CMY, CMYK, GC (any case) or None for the verdict
    alone; `resolution` in DPI (default 72, at most 1200) applies to rendered
    formats, images are analysed at their own. `tolerance` decides when a page
    is colour (rich grey is not). CMYK coverage follows pkpgcounter's formula on
    the RGB raster; `cmyk="device"` takes it from Ghostscript's ink_cov device
    instead (one more rendering pass). `timeout` is how long a renderer may go
    without delivering a page (default 60 s + 10 s/MB; a whole job at most 1 h).
    Raises PdlError subclasses: AnalysisUnavailable for formats it cannot render
    or a missing renderer, CorruptData/EncryptedData when the renderer fails,
    LimitReached past the deadline. A bad colour space or resolution is the
    caller's error: InvalidInput, raised before any work.
    """
    space = _colorspace(colorspace)
    dpi = _resolution(resolution)
    path = Path(path)
    try:
        size = path.stat().st_size
    except OSError as exc:
        raise PdlError(f"{path}: cannot read: {exc.strerror or exc}") from None
    deadline = timeout if timeout is not None else BASE_TIMEOUT + SECONDS_PER_MB * size / 1e6
    if fmt in _PLANE_PARSERS:
        verdicts = _plane_verdicts(path, fmt, space)
        if verdicts is not None:
            return verdicts
    route = _route(path, fmt)
    if route == "pnm":
        with path.open("rb") as fh:
            pages = [s.ink(space, tolerance) for s in iter_pnm(fh, tolerance.chroma)]
    elif route == "image":
        pages = [s.ink(space, tolerance) for s in _image_sums(path, tolerance)]
    else:
        with _payload(path, route, deadline) as job:
            started = time.monotonic()
            sums = _render(_command(route, fmt, job, dpi), deadline, tolerance)
            pages = [s.ink(space, tolerance) for s in sums]
            if space == "CMYK" and cmyk == "device" and route != "ghostpcl":
                took = time.monotonic() - started  # the job renders: allow a few times that
                device = device_coverage(job, resolution=dpi, timeout=deadline + 3 * took)
                if len(device) != len(pages):
                    raise CorruptData("ink analysis: renderers disagree on the number of pages")
                pages = [PageInk(p.color, d) for p, d in zip(pages, device, strict=True)]
    if not pages:
        raise CorruptData("ink analysis: the job rendered no page")
    return tuple(pages)


# Languages whose colour pages are read from the job's own colour rows (which ink
# or plane each row prints, and whether it holds a dot): ESC/P 2, and DeskJet PCL 3
# (PCL jobs that name no colour planes are rendered as before).
_PLANE_PARSERS = ("escp", "pcl")


def _plane_verdicts(path: Path, fmt: str, space: str | None) -> tuple[PageInk, ...] | None:
    """Colour verdicts from the job's colour rows (None: not such a job); coverage
    needs a renderer."""
    from pagetally.pdl import open_job
    from pagetally.pdl.formats import _pclcolour, escp

    with open_job(path) as data:
        if fmt == "escp":
            colours: list[bool] | None = escp.page_colours(data)
        else:
            start = pjl.read_header(data[: 1 << 20]).offset
            colours = _pclcolour.page_colours(data, start)
            if colours is None:
                return None
            from pagetally.pdl import registry

            counted = registry.get(fmt).count(data)
            if counted.copies != 1 or counted.pages != len(colours):
                raise AnalysisUnavailable(
                    f"colour pages of this {_label(fmt)} job are not known: "
                    f"{len(colours)} pages walked, {counted.pages} counted"
                )
    if space is not None:
        raise AnalysisUnavailable(
            f"ink coverage unavailable for {_label(fmt)}: only colour pages are known"
        )
    return tuple(PageInk(color=c) for c in colours or ())


def _colorspace(colorspace: str | None) -> str | None:
    if colorspace is None:
        return None
    space = colorspace.strip().upper()
    if space not in COLORSPACES:
        raise InvalidInput(
            f"unknown colour space {colorspace!r}: use one of {', '.join(COLORSPACES)}"
        )
    return space


def _resolution(resolution: int | None) -> int:
    if resolution is None:
        return DEFAULT_RESOLUTION
    if not 1 <= int(resolution) <= MAX_RESOLUTION:
        raise InvalidInput(f"resolution {resolution} DPI out of range (1-{MAX_RESOLUTION})")
    return int(resolution)


def _label(fmt: str) -> str:
    """The parser's human label ("PCL XL"), or its name when unknown."""
    try:
        from pagetally.pdl import registry

        return registry.get(fmt).format
    except Exception:  # the label is cosmetic: never let it fail an analysis
        return fmt


def _head(path: Path) -> tuple[bytes, int]:
    """The job's first 64 KiB after any PJL header, and where that payload starts."""
    with path.open("rb") as fh:
        data = fh.read(1 << 20)
    header = pjl.read_header(data)
    return data[header.offset : header.offset + 65536], header.offset


def _route(path: Path, fmt: str) -> Route:
    """Which renderer handles this job; AnalysisUnavailable when none does."""
    if fmt in PCL_PARSERS:
        if _ghostpcl() is None:
            raise AnalysisUnavailable(
                f"ink analysis unavailable for {_label(fmt)}: gpcl6 is not installed"
            )
        return "ghostpcl"
    try:
        head, _ = _head(path)
    except OSError as exc:
        raise PdlError(f"{path}: cannot read: {exc.strerror or exc}") from None
    if fmt in OFFICE_PARSERS:
        if _soffice() is None:
            raise AnalysisUnavailable(
                f"ink analysis unavailable for {_label(fmt)}: LibreOffice is not installed"
            )
        return "office"
    if fmt == "text":
        if shutil.which("enscript") is None:
            raise AnalysisUnavailable(
                "ink analysis unavailable for plain text: enscript is not installed"
            )
        return "text"
    if fmt == "dvi" or head.startswith(b"\xf7\x02"):
        if shutil.which("dvips") is None:
            raise AnalysisUnavailable("ink analysis unavailable for DVI: dvips is not installed")
        return "dvi"
    if (
        head.startswith((b"%!", b"\x04%!", b"\xc5\xd0\xd3\xc6"))
        or b"%PDF-" in head[:1024]
        or fmt in ("pdf", "postscript", "ps", "eps")
    ):
        return "ghostscript"
    if head[:2] in PNM_MAGICS and head[2:3] in (b" ", b"\t", b"\r", b"\n", b"#"):
        return "pnm"
    if fmt in IMAGE_PARSERS or _pillow_reads(path):
        return "image"  # Pillow says what is wrong with a broken image
    raise AnalysisUnavailable(f"ink analysis unavailable for {_label(fmt)}")


def _ghostpcl() -> str | None:
    for name in GHOSTPCL:
        found = shutil.which(name)
        if found:
            return found
    return None


def _ghostscript() -> str:
    found = shutil.which("gs")
    if found is None:
        raise AnalysisUnavailable("ink analysis needs Ghostscript (gs), which is not installed")
    return found


@contextlib.contextmanager
def _payload(path: Path, route: Route, timeout: float) -> Iterator[Path]:
    """What the renderer reads: the job without its PJL header (Ghostscript reads
    PDF and PostScript, not PJL), or a DVI job turned into PostScript by dvips."""
    head, offset = _head(path)
    if offset == 0 and route not in ("dvi", "office", "text"):
        yield path
        return
    with tempfile.TemporaryDirectory(prefix="pagetally-ink-") as tmp:
        bare = Path(tmp) / ("payload" + (_office_suffix(head) if route == "office" else ""))
        with path.open("rb") as src, bare.open("wb") as dst:
            src.seek(offset)
            shutil.copyfileobj(src, dst, 1 << 20)
        if route == "dvi":
            yield _dvips(bare, Path(tmp), timeout)
        elif route == "office":
            yield _office_pdf(bare, Path(tmp), timeout)
        elif route == "text":
            yield _enscript(bare, Path(tmp), timeout)
        else:
            yield bare


def _soffice() -> str | None:
    return shutil.which("soffice") or shutil.which("libreoffice")


def _office_suffix(head: bytes) -> str:
    """The file name extension LibreOffice needs to pick its import filter."""
    if head.startswith(b"\xd0\xcf\x11\xe0"):
        return ".doc"
    for marker, suffix in (
        (b"opendocument.spreadsheet", ".ods"),
        (b"opendocument.presentation", ".odp"),
        (b"opendocument.graphics", ".odg"),
        (b"opendocument.text", ".odt"),
        (b"xl/", ".xlsx"),
        (b"ppt/", ".pptx"),
        (b"word/", ".docx"),
    ):
        if marker in head:
            return suffix
    return ".odt" if b"mimetypeapplication/vnd.oasis" in head else ".docx"


def _office_pdf(doc: Path, tmp: Path, timeout: float) -> Path:
    """A PDF of an office document, laid out by LibreOffice (headless, private profile)."""
    exe = _soffice()
    if exe is None:
        raise AnalysisUnavailable("ink analysis unavailable: LibreOffice is not installed")
    cmd = [
        exe,
        f"-env:UserInstallation={(tmp / 'profile').as_uri()}",
        "--headless",
        "--norestore",
        "--convert-to",
        "pdf",
        "--outdir",
        str(tmp),
        str(doc),
    ]
    pdf = tmp / (doc.stem + ".pdf")
    _convert(cmd, pdf, tmp, timeout, "LibreOffice")
    return pdf


def _enscript(text: Path, tmp: Path, timeout: float) -> Path:
    """PostScript of a plain-text job paginated as the text parser counts it: 66
    lines a page or a form feed, long lines cut, no page headers."""
    exe = shutil.which("enscript")
    if exe is None:
        raise AnalysisUnavailable("ink analysis unavailable for plain text: enscript is missing")
    out = tmp / "job.ps"
    _convert([exe, "-q", "-B", "-c", f"-L{TEXT_LINES_PER_PAGE}", "-o", str(out), str(text)],
             out, tmp, timeout, "enscript")  # fmt: skip
    return out


def _convert(cmd: list[str], out: Path, tmp: Path, timeout: float, name: str) -> None:
    """Run a converter writing `out`; PdlError when it fails or takes too long."""
    env = {**_environment(str(tmp)), "HOME": str(tmp)}
    bounds = proc.Bounds(seconds=timeout, output=CONVERTER_OUTPUT, overflow="drop")
    try:
        done = proc.run(cmd, env=env, cwd=tmp, bounds=bounds)
    except OSError as exc:
        raise AnalysisUnavailable(f"cannot run {name}: {exc}") from None
    if done.timed_out:
        raise LimitReached(f"ink analysis: {name} took longer than {timeout:.0f} s")
    if not out.exists() or out.stat().st_size == 0:
        reason = _last_line(done.stderr[-4096:]) or f"exit code {done.returncode}"
        raise CorruptData(f"{name} cannot convert the job ({reason})")


def _dvips(dvi: Path, tmp: Path, timeout: float) -> Path:
    """PostScript from a DVI job: dvips in secure mode (-R2: no shell, no absolute
    paths), no font generation (-M), in our own temporary directory."""
    exe = shutil.which("dvips")
    if exe is None:
        raise AnalysisUnavailable("ink analysis unavailable for DVI: dvips is not installed")
    out = tmp / "job.ps"
    _convert([exe, "-R2", "-M", "-q", "-o", str(out), str(dvi)], out, tmp, timeout, "dvips")
    return out


def _command(route: Route, fmt: str, job: Path, dpi: int) -> list[str]:
    """The renderer's argument list: every page as raw RGB PPM on standard output."""
    common = [
        "-dSAFER",
        "-dBATCH",
        "-dNOPAUSE",
        "-dQUIET",
        "-dUseFastColor",  # no ICC: C=M=Y and RGB greys stay exactly neutral
        "-dNumCopies=1",  # one raster per page, copies are counted elsewhere
        "-sDEVICE=ppmraw",
        f"-r{dpi}",
        "-sOutputFile=-",
    ]
    if route == "ghostpcl":
        exe = _ghostpcl()
        if exe is None:
            raise AnalysisUnavailable(
                f"ink analysis unavailable for {_label(fmt)}: gpcl6 is not installed"
            )
        return [exe, *common, str(job)]
    return [_ghostscript(), *common, "-sstdout=%stderr", "-c", ONE_COPY, "-f", str(job)]


def _render(cmd: list[str], timeout: float, tolerance: Tolerance) -> list[PageSums]:
    """Run a renderer writing PPM pages to a pipe; sum each page as it arrives. It
    is killed (whole group) when no page comes for `timeout` seconds or the job
    runs past MAX_RENDER_SECONDS: a long job that keeps producing pages is not hung."""
    name = Path(cmd[0]).name
    failure: PdlError | None = None
    sums: list[PageSums] = []
    bounds = proc.Bounds(seconds=MAX_RENDER_SECONDS, output=CONVERTER_OUTPUT, overflow="drop")
    with tempfile.TemporaryDirectory(prefix="pagetally-ink-") as tmp:
        try:
            with proc.stream(
                cmd, env=_environment(tmp), cwd=tmp, bounds=bounds, stall=timeout
            ) as run:
                try:
                    for page in iter_pnm(cast(BinaryIO, run.stdout), tolerance.chroma):
                        sums.append(page)
                        run.progress()
                except PdlError as exc:
                    failure = exc
                    run.stop("the raster is refused")
        except OSError as exc:
            raise AnalysisUnavailable(f"cannot run {name}: {exc}") from None
    code = run.returncode if run.returncode is not None else -1
    tail = run.stderr[-4096:].decode("utf-8", "replace")
    message = _last_line(tail.encode())
    if run.stalled:
        raise LimitReached(f"ink analysis: {name} rendered no page for {timeout:.0f} s")
    if run.timed_out:
        raise LimitReached(
            f"ink analysis: {name} took longer than {MAX_RENDER_SECONDS:.0f} s in all"
        )
    if (code != 0 and failure is None) or code > 0:
        if "password" in message.lower():
            raise EncryptedData(f"{name} cannot render the job: it is encrypted")
        raise CorruptData(f"{name} cannot render the job ({message or f'exit code {code}'})")
    if failure is not None:
        raise failure
    if not sums:
        if "password" in message.lower() or "password" in tail.lower():
            raise EncryptedData(f"{name} cannot render the job: it is encrypted")
        raise CorruptData(f"{name} rendered no page ({message or 'no message'})")
    return sums


def _environment(tmp: str) -> dict[str, str]:
    """A small, predictable environment: temp files in our own directory."""
    env = {k: v for k, v in os.environ.items() if k in ("PATH", "LANG", "LC_ALL", "HOME")}
    env["TMPDIR"] = tmp
    return env


def _last_line(raw: bytes) -> str:
    lines = [ln.strip() for ln in raw.decode("utf-8", "replace").splitlines() if ln.strip()]
    return lines[-1][:200] if lines else ""


def device_coverage(
    path: Path, *, resolution: int = DEFAULT_RESOLUTION, timeout: float = BASE_TIMEOUT
) -> list[dict[str, float]]:
    """CMYK ink per page from Ghostscript's `ink_cov` device, in percent of the page.

    This is Ghostscript's own separation (ICC profiles, black generation), so RGB
    black comes out as rich black; the colour verdict cannot be read from it.
    """
    with tempfile.TemporaryDirectory(prefix="pagetally-ink-") as tmp:
        report = Path(tmp) / "ink_cov.txt"
        cmd = [
            _ghostscript(),
            "-dSAFER",
            "-dBATCH",
            "-dNOPAUSE",
            "-dQUIET",
            "-dNumCopies=1",
            "-sDEVICE=ink_cov",
            f"-r{_resolution(resolution)}",
            f"-sOutputFile={report}",
            "-sstdout=%stderr",
            "-c",
            ONE_COPY,
            "-f",
            str(path),
        ]
        bounds = proc.Bounds(seconds=timeout, output=CONVERTER_OUTPUT, overflow="drop")
        try:
            done = proc.run(cmd, env=_environment(tmp), cwd=tmp, bounds=bounds)
        except OSError as exc:
            raise AnalysisUnavailable(f"cannot run gs: {exc}") from None
        if done.timed_out:
            raise LimitReached(f"ink analysis: gs took longer than {timeout:.0f} s")
        if done.returncode != 0:
            raise CorruptData(f"gs cannot render the job ({_last_line(done.stderr[-4096:])})")
        text = report.read_text("ascii", "replace") if report.exists() else ""
    pages: list[dict[str, float]] = []
    for line in text.splitlines():
        fields = line.split()
        if len(fields) >= 5 and fields[4] == "CMYK":
            try:
                c, m, y, k = (float(v) for v in fields[:4])
            except ValueError:
                continue
            pages.append({"C": c, "M": m, "Y": y, "K": k})
    return pages


# --- images through Pillow -------------------------------------------------------------


def _pillow_reads(path: Path) -> bool:
    """Can Pillow identify this file as an image? (opens the header only)"""
    try:
        from PIL import Image, UnidentifiedImageError
    except ImportError:  # pragma: no cover - Pillow is a dependency
        return False
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # Pillow warns about odd tags: not our business
            with Image.open(path):
                return True
    except (UnidentifiedImageError, OSError, ValueError, SyntaxError, EOFError):
        return False
    except Exception:  # a hostile header can trip any of Pillow's plug-ins
        return False


def _image_sums(path: Path, tolerance: Tolerance) -> list[PageSums]:
    """One PageSums per frame (TIFF pages, GIF frames), composited on white paper."""
    from PIL import Image, ImageSequence

    out: list[PageSums] = []
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # size is checked below, before any decoding
            with Image.open(path) as img:
                for frame in ImageSequence.Iterator(img):
                    out.append(_frame_sums(frame, tolerance))
                    if len(out) >= 100_000:
                        raise LimitReached("image: too many frames")
    except Image.DecompressionBombError:
        raise LimitReached("image: too many pixels to analyse") from None
    except PdlError:
        raise
    except MemoryError:
        raise LimitReached("image: too large to analyse") from None
    except EOFError:
        raise TruncatedData("image: the file ends too early") from None
    except Exception as exc:  # Pillow raises many kinds on broken files
        reason = str(exc).replace(f"'{path}'", "").replace(str(path), "").strip()
        raise CorruptData(f"image: unreadable ({type(exc).__name__}: {reason})") from None
    return out


def _frame_sums(frame: Image.Image, tolerance: Tolerance) -> PageSums:
    """Sum one frame, converting a band of rows at a time (bounded memory)."""
    import numpy as np

    width, height = frame.size
    if width * height > MAX_IMAGE_PIXELS:
        raise LimitReached(f"image: a frame of {width}×{height} pixels is too large")
    sums = PageSums()
    rows = max(1, STRIP_PIXELS // max(width, 1))
    for top in range(0, height, rows):
        band = frame if rows >= height else frame.crop((0, top, width, min(height, top + rows)))
        rgb = np.asarray(_on_white(band), dtype=np.uint8)
        sums.add_rgb(rgb.reshape(-1, width, 3), tolerance.chroma)
    return sums


def _on_white(frame: Image.Image) -> Image.Image:
    """RGB pixels of a frame; transparency becomes the white of the paper."""
    from PIL import Image

    if frame.mode in ("RGBA", "LA", "PA", "RGBa", "La") or "transparency" in frame.info:
        rgba = frame.convert("RGBA")
        paper = Image.new("RGBA", rgba.size, (255, 255, 255, 255))
        return Image.alpha_composite(paper, rgba).convert("RGB")
    if frame.mode == "CMYK":
        import numpy as np

        cmyk = np.asarray(frame, dtype=np.uint8)
        cmy = np.minimum(cmyk[..., :3].astype(np.uint16) + cmyk[..., 3:4], 255)
        return Image.fromarray((255 - cmy).astype(np.uint8), "RGB")
    return frame.convert("RGB")
