"""Page description languages: bytes in, `Analysis` out (see base.py).

The public API is `analyse()`: give it a file name or the job's bytes, get the
format, the pages (copies asked inside the job included) and, on demand, per-page
colour and ink. Files are memory-mapped, never read whole, so a 2 GB job does not
need 2 GB of memory. `detect()` alone says which parser would count a job.
"""

from __future__ import annotations

import contextlib
import mmap
import os
from collections.abc import Iterator
from typing import TYPE_CHECKING

from pagetally.errors import AnalysisUnavailable, CorruptData, LimitReached, PdlError, UnknownFormat
from pagetally.pdl import pjl
from pagetally.pdl.base import DEFAULT_LIMITS, Analysis, Buffer, Limits, PageInk, Parser
from pagetally.pdl.detect import Detection, Job, detect, jobs

if TYPE_CHECKING:
    from pathlib import Path

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
    path = os.fspath(source)  # (pathlib is not imported: every count pays each import)
    try:
        fh = open(path, "rb")  # noqa: SIM115 (closed by the with below)
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


def _apply_pjl(analysis: Analysis, header: pjl.PjlHeader) -> Analysis:
    """Fold PJL's COPIES and QTY into one job's count, once.

    COPIES is the printer's default copies for the job's language: pages printed
    while the language's own copies were at their default print COPIES times,
    the others as the job asked (`Analysis.default_copies_pages`; GhostPDL's PCL
    does this: PJL COPIES=5 with ESC&l2X on one page prints that page twice, the
    others five times, and ESC E sets the default back). QTY repeats the whole
    job. A parser that cannot say which pages were at the default, in a job that
    asks for copies itself, cannot be billed by: refused.
    """
    notes = list(analysis.notes)
    pages, copies = analysis.pages, analysis.copies
    n = max(1, header.copies or 1)
    if n > 1:
        defaulted = analysis.default_copies_pages
        if defaulted is None:
            if analysis.copies > 1:
                raise CorruptData(
                    f"{analysis.format}: the job asks for copies in PJL (COPIES={n}) and in "
                    "its own language, and which pages each applies to cannot be told"
                )
            defaulted = analysis.pages
        pages += defaulted * (n - 1)
        copies = max(copies, n) if defaulted else copies
        notes.append(f"PJL COPIES={n}")
    qty = max(1, header.qty or 1)
    if qty > 1:
        pages *= qty
        copies *= qty
        notes.append(f"PJL QTY={qty}")
    if (pages, copies) == (analysis.pages, analysis.copies):
        return analysis
    return analysis._replace(pages=pages, copies=copies, notes=tuple(notes))


_COPY_LIMIT = 64 << 20  # a job's part bigger than this goes through a temporary file


@contextlib.contextmanager
def _window(data: Buffer, start: int, end: int) -> Iterator[Buffer]:
    """Exactly data[start:end] for a parser: a job is counted from where the printer's
    PJL says it starts to where it ends, never from a parser's own idea of the wrapper.
    A large part is copied to a memory-mapped temporary file, not into memory."""
    if start == 0 and end == len(data):
        yield data
        return
    if end - start <= _COPY_LIMIT:
        yield bytes(data[start:end])
        return
    import tempfile

    with tempfile.TemporaryFile(prefix="pagetally-job-") as fh:
        for i in range(start, end, 1 << 20):
            fh.write(data[i : min(end, i + (1 << 20))])
        fh.flush()
        mapped = mmap.mmap(fh.fileno(), 0, access=mmap.ACCESS_READ)
        try:
            yield mapped
        finally:
            with contextlib.suppress(BufferError):
                mapped.close()


def _count_jobs(data: Buffer, found: list[Job], limits: Limits, lines: int | None) -> Analysis:
    """Count every job of the stream in its own language and add them up."""
    results: list[Analysis] = []
    for i, job in enumerate(found):
        parser = job.detection.parser
        if lines is not None and hasattr(parser, "lines_per_page"):
            if lines < 1:
                raise PdlError("lines per page must be at least 1")
            import copy

            parser = copy.copy(parser)
            parser.lines_per_page = lines
        try:
            with _window(data, job.start, job.end) as view:
                analysis = _count(parser, view, limits)
        except PdlError as exc:
            if len(found) == 1:
                raise
            raise type(exc)(f"job {i + 1} of {len(found)} at offset {job.start}: {exc}") from None
        if analysis.pages < 0:
            raise CorruptData(f"{analysis.format}: negative page count")
        results.append(_apply_pjl(analysis, job.detection.pjl))
    if len(results) == 1:
        return results[0]
    total = sum(a.pages for a in results)
    if total > limits.max_pages:
        raise LimitReached(f"more than {limits.max_pages} pages")
    formats = list(dict.fromkeys(a.format for a in results))
    notes = [
        f"{len(results)} jobs in one stream: " + ", ".join(f"{a.format} {a.pages}" for a in results)
    ]
    for a in results:
        notes.extend(n for n in a.notes if n not in notes)
    return Analysis(
        format=" + ".join(formats),
        pages=total,
        copies=1,
        method=results[0].method,
        notes=tuple(notes),
    )


def _page_inks(
    path: Path, parser: Parser, colorspace: str | None, resolution: int | None
) -> tuple[PageInk, ...]:
    """Hook into pagetally.pdl.ink (colour and ink coverage through Ghostscript)."""
    import importlib

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
        found = jobs(data)
        if not found:
            raise UnknownFormat("the job holds a PJL header and nothing else")
        detection = found[0].detection
        analysis = _count_jobs(data, found, limits, lines_per_page)
    if detection.also:
        others = ", ".join(detection.also)
        analysis = analysis._replace(notes=(*analysis.notes, f"detection tied with {others}"))
    from_headers = analysis.page_inks
    if not (color or colorspace):
        analysis = analysis._replace(page_inks=None)
    elif from_headers is not None and colorspace is None:
        pass  # the job's own headers say each page's colour (raster formats)
    else:
        if isinstance(source, bytes | bytearray):
            import tempfile
            from pathlib import Path

            with tempfile.TemporaryDirectory(prefix="pagetally-ink-") as tmp:
                path = Path(tmp) / "job"
                path.write_bytes(source)
                inks = _page_inks(path, detection.parser, colorspace, resolution)
        else:
            from pathlib import Path

            inks = _page_inks(Path(source), detection.parser, colorspace, resolution)
        notes = analysis.notes
        if len(inks) * analysis.copies != analysis.pages:
            notes = (*notes, f"ink analysis rendered {len(inks)} pages")
        analysis = analysis._replace(page_inks=inks, notes=notes)
    return analysis
