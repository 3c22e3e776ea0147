"""Which language is this job in? Decided by content, never by file name.

Every parser is asked how sure it is (`Parser.detect`, 0.0-1.0) about the job's
first 64 KiB, PJL wrapper removed; the most confident wins. The order parsers
are asked in carries no meaning: should two be exactly as sure, the tie is
broken by name (so the answer is the same on every machine) and the
`Detection` says the choice was ambiguous.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from pagetally.errors import UnknownFormat
from pagetally.pdl import pjl, registry
from pagetally.pdl.base import Buffer, Parser

HEAD_SIZE = 64 * 1024
MIN_CONFIDENCE = 0.05  # below this a parser's "maybe" is noise


@dataclass(frozen=True, slots=True)
class Detection:
    parser: Parser
    confidence: float
    pjl: pjl.PjlHeader
    also: tuple[str, ...] = ()  # other parsers exactly as confident (an ambiguous call)


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


def detect(data: Buffer, parsers: Iterable[Parser] | None = None) -> Detection:
    """Pick the parser for `data` (a whole job or at least its first 64 KiB).

    Raises UnknownFormat with a one-line reason when no parser is sure enough.
    """
    header = pjl.read_header(data)
    head = bytes(data[header.offset : header.offset + HEAD_SIZE])
    scored = [(_ask(p, head), p) for p in (registry.parsers() if parsers is None else parsers)]
    if not scored:
        raise UnknownFormat("no page description language parser is installed")
    best = max(score for score, _ in scored)
    if best < MIN_CONFIDENCE:
        if not head.strip(b"\x00\r\n\t \x0c") and header.present:
            raise UnknownFormat("the job holds a PJL header and nothing else")
        raise UnknownFormat(_describe(head))
    winners = sorted((p for score, p in scored if score == best), key=lambda p: p.name)
    return Detection(
        parser=winners[0],
        confidence=best,
        pjl=header,
        also=tuple(p.name for p in winners[1:]),
    )
