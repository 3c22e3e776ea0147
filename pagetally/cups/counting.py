"""How many pages to bill, from the counts the print path has: PyKota's
`preaccounter`/`accounter` software and ink forms, `trustjobsize`, and
`onbackenderror`'s retries. Pure functions and values, plus the one place an
external page-counting command (`software(command)`) is run.
"""

from __future__ import annotations

import re
import shlex
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from pagetally import proc
from pagetally.errors import ConfigError, DeviceError
from pagetally.pdl.base import Analysis

#: Seconds a `software(command)` page counter may take.
COMMAND_TIMEOUT = 120.0
#: Bytes of its stdout (and of its stderr) read; a longer output is refused.
COMMAND_OUTPUT = 1 << 20


@dataclass(frozen=True, slots=True)
class InkForm:
    """`ink(colorspace[,dpi])`: the colour space and resolution of ink analysis."""

    colorspace: str = "CMYK"
    resolution: int = 72


def parse_ink(arg: str, directive: str = "accounter") -> InkForm:
    """`cmyk,150` → InkForm("CMYK", 150); empty → CMYK at 72 dpi (PyKota's default)."""
    parts = [p.strip() for p in arg.split(",")] if arg.strip() else []
    if len(parts) > 2:
        raise ConfigError(f"ink({arg}) takes a colour space and a resolution", directive=directive)
    space = (parts[0] if parts else "cmyk").upper()
    if space not in ("BW", "RGB", "CMY", "CMYK", "GC"):
        raise ConfigError(f"ink colour space {parts[0]!r} is not one of bw, rgb, cmy, cmyk, gc",
                          directive=directive)
    dpi = 72
    if len(parts) == 2:
        if not parts[1].isdigit() or not 10 <= int(parts[1]) <= 1200:
            raise ConfigError(f"ink resolution {parts[1]!r} is not 10 to 1200 dpi",
                              directive=directive)
        dpi = int(parts[1])
    return InkForm(space, dpi)


@dataclass(frozen=True, slots=True)
class Inked:
    """A job's colour facts for billing: colour pages and the ink summed over pages
    (percent of a page per channel), copies still to be made included."""

    color_pages: int = 0
    ink: Mapping[str, float] | None = None


def inked(analysis: Analysis, factor: int) -> Inked:
    """Colour pages and summed coverage of an analysis made with colour on."""
    if analysis.page_inks is None:
        return Inked()
    totals: dict[str, float] = {}
    for page in analysis.page_inks:
        for channel, percent in page.coverage.items():
            totals[channel] = totals.get(channel, 0.0) + percent
    copies = max(analysis.copies, 1) * factor
    return Inked(
        color_pages=(analysis.color_pages or 0) * factor,
        ink={k: round(v * copies, 4) for k, v in totals.items()},
    )


@dataclass(frozen=True, slots=True)
class TrustJobSize:
    """`trustjobsize`: `yes` (default), `no` (always the pre-count), or `>N:M`
    (more than N pages counted: bill M pages, or the pre-count for `precomputed`)."""

    limit: int | None = None  # None: trust every count
    replacement: int | None = None  # None: the pre-count

    def apply(self, counted: int, precomputed: int) -> tuple[int, str]:
        """(pages to bill, a note when the count was not trusted)."""
        if self.limit is None or counted <= self.limit:
            return counted, ""
        pages = precomputed if self.replacement is None else self.replacement
        return pages, (f"the counted {counted} page(s) exceed trustjobsize's {self.limit}: "
                       f"billed {pages}")


def parse_trust(text: str) -> TrustJobSize:
    value = text.strip().lower()
    if value in ("", "yes", "true", "on", "1"):
        return TrustJobSize()
    if value in ("no", "false", "off", "0"):
        return TrustJobSize(0, None)
    m = re.fullmatch(r">\s*(\d+)\s*:\s*(\d+|precomputed)", value)
    if not m:
        raise ConfigError(f"{text!r} is not yes, no, >N:M or >N:precomputed",
                          directive="trustjobsize")
    replacement = None if m.group(2) == "precomputed" else int(m.group(2))
    return TrustJobSize(int(m.group(1)), replacement)


@dataclass(frozen=True, slots=True)
class BackendErrorPolicy:
    """`onbackenderror`: charge a failed job or not, and how often to retry the real
    backend first (`retry:N:S`: N more tries S seconds apart; N = 0: until it works)."""

    charge: bool = False
    retries: int | None = None  # None: no retry; 0: forever
    delay: int = 0


def parse_backend_error(text: str) -> BackendErrorPolicy:
    charge, retries, delay = False, None, 0
    for part in (p.strip().lower() for p in text.split(",") if p.strip()):
        if part in ("charge", "nocharge"):
            charge = part == "charge"
        elif m := re.fullmatch(r"retry:(\d+):(\d+)", part):
            retries, delay = int(m.group(1)), int(m.group(2))
        else:
            raise ConfigError(f"{part!r} is not charge, nocharge or retry:N:S",
                              directive="onbackenderror")
    return BackendErrorPolicy(charge, retries, delay)


def count_with_command(command: str, job: Path, env: Mapping[str, str]) -> int:
    """`software(command)`: the job's data on the command's standard input, its
    page count (an integer alone on the last line) on its standard output. The
    command line comes from the configuration; the job's facts reach it only in
    the environment (added to the site's, without PageTally's secrets). It runs
    through pagetally.proc, killed whole past its time or output bound.
    DeviceError when it fails or says no number."""
    argv = shlex.split(command)
    if not argv:
        raise ConfigError("software() command is empty", directive="accounter")
    bounds = proc.Bounds(seconds=COMMAND_TIMEOUT, output=COMMAND_OUTPUT, memory=None)
    try:
        done = proc.run(argv, env={**proc.site_env(), **env}, stdin=job, bounds=bounds)
    except OSError as e:
        raise DeviceError(f"page counting command {argv[0]!r} failed: {e}") from None
    if done.stopped is not None:
        raise DeviceError(f"page counting command {argv[0]!r} failed: {done.stopped}")
    lines = done.stdout.decode("utf-8", "replace").split()
    if done.returncode != 0 or not lines or not lines[-1].isdigit():
        why = f"exit {done.returncode}" if done.returncode else "no page count on its output"
        raise DeviceError(f"page counting command {argv[0]!r} gave no count ({why})")
    return int(lines[-1])
