"""What a fuzz test allows, said once: refused with a reason, or counted within a bound.

A random job may be refused or counted, but not just "anything but a crash": a
refusal is a PdlError subclass whose message names the offset where the parser
stopped following the job (or a LimitReached, which names the limit instead), and
a count stays within what the input allows — one page per byte of data at most,
times the copies the data asked for, and those no more than the format's cap.
`Outcomes` keeps score so that a test can assert that its inputs took both
paths: a generator that only ever produces refusals (or only counts) checks half
of what its name says.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass

from pagetally.errors import LimitReached, PdlError
from pagetally.pdl.base import Analysis

_OFFSET = re.compile(r"\boffset \d+")


@dataclass
class Outcomes:
    """Counts how a fuzz test's inputs ended; `check` asserts each one is allowed."""

    max_copies: int
    counted: int = 0
    refused: int = 0

    def check(self, count: Callable[[bytes], Analysis], data: bytes) -> Analysis | str:
        """`count(data)`: the Analysis, or the refusal's class name (for comparisons)."""
        try:
            analysis = count(data)
        except PdlError as exc:
            self.refused += 1
            message = f"{type(exc).__name__}: {exc}"
            assert type(exc) is not PdlError, message
            assert isinstance(exc, LimitReached) or _OFFSET.search(str(exc)), message
            return type(exc).__name__
        self.counted += 1
        assert 1 <= analysis.copies <= self.max_copies, (analysis, data[:64])
        assert 0 <= analysis.pages <= analysis.copies * max(len(data), 1), (analysis, data[:64])
        return analysis

    def assert_both_paths(self) -> None:
        """The generator reached both outcomes (else the test checks half its claim)."""
        assert self.counted > 0, f"no input was counted ({self.refused} refused)"
        assert self.refused > 0, f"no input was refused ({self.counted} counted)"
