"""Which language is each job of a stream in? Decided by content and PJL, never by name.

Every parser is asked how sure it is (`Parser.detect`, 0.0-1.0) about a job's
first 64 KiB; the most confident wins. The order parsers are asked in carries
no meaning: should two be exactly as sure, the tie is broken by name (so the
answer is the same on every machine) and the `Detection` says so.

A stream may hold several jobs (PJL `ENTER LANGUAGE` several times, or data
after a UEL that the printer detects by itself); `jobs()` splits it the way a
printer does (see pagetally.pdl.pjl) so that each job is counted in its own
language. A job of a language the printer switches to by PJL (PCL, PCL XL,
PostScript, PDF, XPS, text) ends at the next UEL; a host-based language's
parser walks the rest of the stream itself (its pages are often separated by
UELs). Where PJL names one of those languages and the data is plainly another,
the printer would not print what a count says: the job is refused.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import NamedTuple

from pagetally.errors import LimitReached, UnknownFormat
from pagetally.pdl import pjl, registry
from pagetally.pdl.base import Buffer, Parser

HEAD_SIZE = 64 * 1024
MIN_CONFIDENCE = 0.05  # below this a parser's "maybe" is noise
MAX_JOBS = 100_000  # jobs (UEL-separated parts) in one stream
# PJL language names and the parsers that read them.
PJL_LANGUAGES = {
    "PCL": "pcl",
    "PCLXL": "pclxl",
    "POSTSCRIPT": "postscript",
    "PDF": "pdf",
    "XPS": "xps",
}
UEL_ENDED = frozenset({*PJL_LANGUAGES.values(), "text"})
_BLANK = b"\x00\t\n\r "  # between jobs: nothing a printer prints
_SURE = 0.9  # a signature's parser this sure needs no other parser asked
_MISMATCH = 0.5  # how sure detection must be to contradict PJL's language


class Detection(NamedTuple):
    parser: Parser
    confidence: float
    pjl: pjl.PjlHeader
    also: tuple[str, ...] = ()  # other parsers exactly as confident (an ambiguous call)


class Job(NamedTuple):
    """One job of a stream: its data is data[start:end]; `detection.pjl` its PJL."""

    start: int
    end: int
    detection: Detection


def _ask(parser: Parser, head: bytes) -> float:
    try:
        score = float(parser.detect(head))
    except Exception:  # detect() must not raise; a plug-in that does is simply unsure
        return 0.0
    if score != score:  # NaN
        return 0.0
    return max(0.0, min(1.0, score))


def _describe(head: bytes) -> str:
    if not head:
        return "the job is empty"
    sample = head[:16]
    shown = "".join(chr(b) if 32 <= b < 127 else "." for b in sample)
    return f"no parser recognises data starting with {sample.hex(' ')} ({shown!r})"


def _choose(
    head: bytes, cut: int, header: pjl.PjlHeader, parsers: list[Parser], where: str
) -> Detection:
    """The parser for a job whose first bytes are `head`. A language that ends at a
    UEL is asked about the bytes before it (`head[:cut]`), not the next job's."""
    mine = head[:cut]
    scored = [(_ask(p, mine if p.name in UEL_ENDED else head), p) for p in parsers]
    if not scored:
        raise UnknownFormat("no page description language parser is installed")
    best = max(score for score, _ in scored)
    winners = sorted((p for score, p in scored if score == best), key=lambda p: p.name)
    named = PJL_LANGUAGES.get(header.language or "")
    declared = next((p for _, p in scored if p.name == named), None)
    if declared is not None:
        top = winners[0]
        if top.name != declared.name and best >= _MISMATCH and top.name in PJL_LANGUAGES.values():
            raise UnknownFormat(
                f"{where}PJL enters {header.language} but the data is {top.format}: "
                "a printer would not print it as either would count it"
            )
        # What PJL enters is what the printer runs (text included, which PCL prints);
        # only a host-based language sure of itself (wrapped as PCL by its driver) wins.
        if declared in winners or best < 0.9 or top.name in UEL_ENDED:
            return Detection(declared, _ask(declared, mine), header)
    if best < MIN_CONFIDENCE:
        raise UnknownFormat(where + _describe(head))
    return Detection(winners[0], best, header, tuple(p.name for p in winners[1:]))


def _by_signature(head: bytes, cut: int, header: pjl.PjlHeader) -> Detection | None:
    """The detection among the few parsers a job's opening signature leaves (see
    registry.SIGNATURES, which names every parser that could be as sure), when one
    of them is sure and alone (or is what PJL enters); else None: all are asked."""
    few = registry.for_head(head)
    if not few:
        return None
    try:
        found = _choose(head, cut, header, few, "")
    except UnknownFormat:
        return None
    if header.language is not None:
        # What PJL enters, fully sure, is the answer among all parsers too: none is
        # surer, and a tie goes to it (the PJL languages sorting before it, PCL before
        # PCL XL, never reach 1.0 on a signature of another).
        named = PJL_LANGUAGES.get(header.language)
        return found if found.parser.name == named and found.confidence == 1.0 else None
    return found if found.confidence >= _SURE and not found.also else None


def _blank(data: Buffer, start: int, end: int) -> bool:
    """Nothing a printer prints: padding, and PCL resets (ESC E) that drivers send
    before their UEL (a reset ejects only a page something was drawn on)."""
    if end - start > 1 << 20:
        return False
    return not bytes(data[start:end]).replace(b"\x1bE", b"").strip(_BLANK)


def jobs(data: Buffer, parsers: Iterable[Parser] | None = None) -> list[Job]:
    """The stream's jobs in order, each with the parser that counts it.

    Raises UnknownFormat naming the offset of a job no parser recognises (or
    whose data contradicts its PJL), LimitReached past MAX_JOBS.
    """
    table = None if parsers is None else list(parsers)
    stream = pjl.Stream(data)
    found: list[Job] = []
    pos, parts, size = 0, 0, len(data)
    while pos < size:
        parts += 1
        if parts > MAX_JOBS:
            raise LimitReached(f"more than {MAX_JOBS} jobs in one stream (offset {pos})")
        header = stream.read_pjl(pos)
        start = header.offset
        if start >= size:
            break
        uel = pjl.next_uel(data, start)
        if _blank(data, start, uel):
            end = uel
        else:
            where = f"job {len(found) + 1} at offset {start}: " if start else ""
            head = bytes(data[start : start + HEAD_SIZE])
            detection = None if table is not None else _by_signature(head, uel - start, header)
            if detection is None:
                table = registry.parsers() if table is None else table
                detection = _choose(head, uel - start, header, table, where)
            end = uel if detection.parser.name in UEL_ENDED else size
            found.append(Job(start, end, detection))
        stream.job_done()
        pos = end
    return found


def detect(data: Buffer, parsers: Iterable[Parser] | None = None) -> Detection:
    """Pick the parser for the first job of `data` (a whole job or at least its first 64 KiB).

    Raises UnknownFormat with a one-line reason when no parser is sure enough.
    """
    found = jobs(data, parsers)
    if found:
        return found[0].detection
    if not data:
        raise UnknownFormat("the job is empty")
    raise UnknownFormat("the job holds a PJL header and nothing else")
