"""The contract every page-description-language parser follows.

A parser is a small object with a `name`, a human `format` label, a `detect`
method that says how sure it is (0.0 to 1.0) that a job's first bytes are its
language, and a `count` method that turns the whole job into an `Analysis`.
Built-in parsers live one module per language family in `pdl/formats/`, each
module exposing `PARSERS: list[Parser]`; `pdl/registry.py` finds them by listing
that package, and a site's own languages through the entry-point group
`pagetally.pdl`. The detector picks the most confident parser, so no parser
depends on the order in which others are tried. Format modules import heavy
libraries (pikepdf, Pillow) inside `count`, never at module level: the backend
pays every import on every job.

The value types here are NamedTuples, not dataclasses: every `pagetally count`
process and every backend job imports this module, and `dataclasses` brings
`inspect` with it (about a fifth of a small job's whole start-up).

Every job is hostile: parsers raise only `pagetally.errors.PdlError` subclasses,
cap sizes, counts and loop iterations (`Limits`), and never print.
"""

from __future__ import annotations

import mmap
from typing import NamedTuple, Protocol, runtime_checkable

# What parsers read: the job's bytes, in memory or memory-mapped (a 2 GB job must
# not need 2 GB of RAM). Both support len(), slicing, .find() and `re` searches.
Buffer = bytes | mmap.mmap


class Limits(NamedTuple):
    """Caps against hostile input. A parser hitting one raises LimitReached."""

    max_pages: int = 1_000_000
    max_objects: int = 10_000_000  # PDF objects, PCL XL operators per page, ...
    max_depth: int = 64  # nesting (PDF page trees, PostScript procedures)
    max_seconds_per_mb: float = 2.0


DEFAULT_LIMITS = Limits()


class PageInk(NamedTuple):
    """One page's colour facts. `coverage` maps channel (C, M, Y, K, R, G, B,
    or "gray") to percent of the page area covered; `color` is the verdict after
    the rich-grey tolerance (equal C=M=Y is grey, not colour)."""

    color: bool
    coverage: dict[str, float] = {}  # noqa: RUF012 (never changed: a value, like the rest)


class Analysis(NamedTuple):
    """What a parser found in one job.

    `pages` is what the printer will print, copies asked for inside the job data
    included; `copies` says how many such copies the data itself asked for
    (PostScript #copies, PCL ESC&l#X, PJL COPIES/QTY). `default_copies_pages`
    is the contract with PJL (pagetally.pdl.analyse applies it): of the pages
    counted, how many were printed while the language's copies were at their
    default (never set in the job, or set back by a reset such as PCL's ESC E),
    each counted once. PJL COPIES=n is that default on the printer, so those
    pages print n times and the others as the job asked. None: the parser cannot
    tell; with copies asked both in PJL and in the job the count is refused.
    `method` says how the count
    was obtained ("parsed", "libreoffice", "metadata", ...). `notes` carries what a
    lenient parse recovered from. `page_inks` is filled only when colour or ink
    analysis was asked for (one per page, copies not repeated).
    """

    format: str
    pages: int
    copies: int = 1
    method: str = "parsed"
    notes: tuple[str, ...] = ()
    page_inks: tuple[PageInk, ...] | None = None
    default_copies_pages: int | None = None

    @property
    def color_pages(self) -> int | None:
        """Colour pages among `pages` (copies included), or None when not analysed."""
        if self.page_inks is None:
            return None
        per_copy = sum(1 for p in self.page_inks if p.color)
        return per_copy * self.copies


@runtime_checkable
class Parser(Protocol):
    """One printer language."""

    name: str  # short, lower case, unique: "pdf", "pclxl", "qpdl"
    format: str  # for people: "PDF", "PCL XL", "Samsung QPDL (SPL2)"

    def detect(self, head: bytes) -> float:
        """How sure (0.0 no … 1.0 certain) that data starting with `head` is ours.

        `head` is the job's first bytes (up to 64 KiB) with any PJL wrapper
        already removed. Must be fast and must not raise.
        """
        ...

    def count(self, data: Buffer, limits: Limits = DEFAULT_LIMITS) -> Analysis:
        """Count the pages of the whole job. Raises only PdlError subclasses."""
        ...
