"""Page description languages: bytes in, `Analysis` out (see base.py).

The public API is `analyse()`: give it a file name or the job's bytes, get the
format, the pages (copies asked inside the job included) and, on demand, per-page
colour and ink. Files are memory-mapped, never read whole, so a 2 GB job does not
need 2 GB of memory. `detect()` alone says which parser would count a job.
"""

from __future__ import annotations

import contextlib
import copy
import dataclasses
import importlib
import mmap
import os
from collections.abc import Iterator
from pathlib import Path

from pagetally.errors import AnalysisUnavailable, CorruptData, LimitReached, PdlError, UnknownFormat
from pagetally.pdl.base import DEFAULT_LIMITS, Analysis, Buffer, Limits, PageInk, Parser
from pagetally.pdl.detect import Detection, detect

__all__ = [
    "DEFAULT_LIMITS",
    "Analysis",
    "Detection",
    "Limits",
    "PageInk",
    "Parser",
    "analyse",
    "detect",
    "open_job",
]

Source = str | os.PathLike[str] | bytes


@contextlib.contextmanager
def open_job(source: Source) -> Iterator[Buffer]:
    """The job's bytes: `bytes` as given, a file memory-mapped read-only."""
    if isinstance(source, bytes | bytearray):
        yield bytes(source)
        return
    path = Path(source)
    try:
        fh = path.open("rb")
    except OSError as exc:
        raise PdlError(f"{path}: cannot read: {exc.strerror or exc}") from None
    with fh:
        size = os.fstat(fh.fileno()).st_size
        if size == 0:
            yield b""
            return
        try:
            mapped = mmap.mmap(fh.fileno(), 0, access=mmap.ACCESS_READ)
        except (OSError, ValueError):  # a pipe or device: small by nature, read it
            yield fh.read()
            return
        try:
            yield mapped
        finally:
            with contextlib.suppress(BufferError):
                mapped.close()


def _count(parser: Parser, data: Buffer, limits: Limits) -> Analysis:
    """Run a parser; whatever else it raises becomes a PdlError (plug-ins may be sloppy)."""
    try:
        return parser.count(data, limits)
    except PdlError:
        raise
    except RecursionError:
        raise LimitReached(f"{parser.format}: nesting too deep") from None
    except MemoryError:
        raise LimitReached(f"{parser.format}: the job needs too much memory") from None
    except Exception as exc:
        raise CorruptData(f"{parser.format}: unreadable ({type(exc).__name__}: {exc})") from None


def _apply_pjl(analysis: Analysis, detection: Detection) -> Analysis:
    """Fold PJL's COPIES/QTY into the count.

    QTY repeats the whole job, so it multiplies whatever the payload asked. COPIES
    is only a default for the payload's language: a copies command inside the
    payload (analysis.copies > 1) overrides it, as on the printer.
    """
    header = detection.pjl
    if not header.present:
        return analysis
    factor = header.job_copies
    if factor <= 1:
        return analysis
    if header.qty is None and analysis.copies > 1:
        return dataclasses.replace(
            analysis, notes=(*analysis.notes, f"PJL COPIES={factor} overridden by the job's own")
        )
    label = "QTY" if header.qty is not None else "COPIES"
    return dataclasses.replace(
        analysis,
        pages=analysis.pages * factor,
        copies=analysis.copies * factor,
        notes=(*analysis.notes, f"PJL {label}={factor}"),
    )


def _page_inks(
    path: Path, parser: Parser, colorspace: str | None, resolution: int | None
) -> tuple[PageInk, ...]:
    """Hook into pagetally.pdl.ink (colour and ink coverage through Ghostscript)."""
    try:  # lazy: only jobs that ask for colour pay for it
        ink = importlib.import_module("pagetally.pdl.ink")
    except ImportError:
        raise AnalysisUnavailable("ink analysis is not available in this installation") from None
    fn = getattr(ink, "page_inks", None)
    if fn is None:
        raise AnalysisUnavailable("ink analysis is not available in this installation")
    result = fn(path, parser.name, colorspace=colorspace, resolution=resolution)
    return tuple(result)


def analyse(
    source: Source,
    *,
    color: bool = False,
    colorspace: str | None = None,
    resolution: int | None = None,
    limits: Limits = DEFAULT_LIMITS,
    lines_per_page: int | None = None,
) -> Analysis:
    """Detect a job's language and count its pages.

    `source` is a file name (str or Path) or the job's bytes. With `color` (or a
    `colorspace` such as "CMYK"), `page_inks` holds one PageInk per page.
    Raises only PdlError subclasses: UnknownFormat, TruncatedData, EncryptedData,
    CorruptData, LimitReached, AnalysisUnavailable. `lines_per_page` sets the
    page length of plain text jobs (66 lines by default).
    """
    with open_job(source) as data:
        if len(data) == 0:
            raise UnknownFormat("the job is empty")
        detection = detect(data)
        parser = detection.parser
        if lines_per_page is not None and hasattr(parser, "lines_per_page"):
            if lines_per_page < 1:
                raise PdlError("lines per page must be at least 1")
            parser = copy.copy(parser)
            parser.lines_per_page = lines_per_page
        analysis = _apply_pjl(_count(parser, data, limits), detection)
    if analysis.pages < 0:
        raise CorruptData(f"{analysis.format}: negative page count")
    if detection.also:
        others = ", ".join(detection.also)
        analysis = dataclasses.replace(
            analysis, notes=(*analysis.notes, f"detection tied with {others}")
        )
    from_headers = analysis.page_inks
    if not (color or colorspace):
        analysis = dataclasses.replace(analysis, page_inks=None)
    elif from_headers is not None and colorspace is None:
        pass  # the job's own headers say each page's colour (raster formats)
    else:
        if isinstance(source, bytes | bytearray):
            import tempfile

            with tempfile.TemporaryDirectory(prefix="pagetally-ink-") as tmp:
                path = Path(tmp) / "job"
                path.write_bytes(source)
                inks = _page_inks(path, detection.parser, colorspace, resolution)
        else:
            inks = _page_inks(Path(source), detection.parser, colorspace, resolution)
        notes = analysis.notes
        if len(inks) * analysis.copies != analysis.pages:
            notes = (*notes, f"ink analysis rendered {len(inks)} pages")
        analysis = dataclasses.replace(analysis, page_inks=inks, notes=notes)
    return analysis
