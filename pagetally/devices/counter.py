"""Pages printed between two readings of a printer's life counter, with its quirks.

Pure arithmetic, no I/O. The quirks are PyKota's plus wrap-around:
- HP printers save the life counter to NVRAM only every 10 pages; after a power
  cycle during a job the counter can step back by less than 10. PyKota's rule,
  kept: a step back of less than 10 counts as the difference plus 10.
- Counters wrap: after 999,999 (6-digit counters), 2**24 - 1 (24-bit) or
  2**32 - 1 (SNMP Counter32) comes 0. A step back is read as a wrap at the
  smallest modulus that gives a believable job size.
- Any other step back, or a jump larger than `max_job_pages`, is not explained
  by printing (printer replaced, counter reset): `CounterInconsistent` is raised,
  and the caller's error policy decides. PyKota silently charged 0 then.
"""

from __future__ import annotations

from dataclasses import dataclass

from pagetally.devices.base import CounterInconsistent

NVRAM_STEP = 10  # HP saves the counter every NVRAM_STEP pages
WRAP_6_DIGITS = 1_000_000
WRAP_24_BITS = 2**24
WRAP_COUNTER32 = 2**32


@dataclass(frozen=True, slots=True)
class CounterQuirks:
    """Which counter quirks to correct, per printer (config)."""

    hp_nvram: bool = True
    wrap_at: tuple[int, ...] = (WRAP_6_DIGITS, WRAP_24_BITS, WRAP_COUNTER32)
    max_job_pages: int = 100_000  # a larger difference is not believed


DEFAULT_QUIRKS = CounterQuirks()


@dataclass(frozen=True, slots=True)
class CounterDelta:
    """Pages printed, and which quirk explained them (None: a plain difference)."""

    pages: int
    quirk: str | None = None


def count_pages(before: int, after: int, quirks: CounterQuirks = DEFAULT_QUIRKS) -> CounterDelta:
    """Pages printed between two life-counter values, explaining any correction."""
    if before < 0 or after < 0:
        raise CounterInconsistent(
            f"negative page counter ({before} -> {after})", before=before, after=after
        )
    diff = after - before
    if 0 <= diff <= quirks.max_job_pages:
        return CounterDelta(diff)
    if diff > quirks.max_job_pages:
        raise CounterInconsistent(
            f"page counter jumped from {before} to {after} (+{diff}): more than "
            f"{quirks.max_job_pages} pages is not believed (printer replaced?)",
            before=before,
            after=after,
        )
    if quirks.hp_nvram and diff > -NVRAM_STEP:
        return CounterDelta(
            diff + NVRAM_STEP,
            f"counter stepped back from {before} to {after} (HP NVRAM): counted "
            f"{diff} + {NVRAM_STEP}",
        )
    for modulus in sorted(quirks.wrap_at):
        if before < modulus and after < modulus:
            pages = after + modulus - before
            if pages <= quirks.max_job_pages:
                return CounterDelta(
                    pages, f"counter wrapped at {modulus - 1} ({before} -> {after})"
                )
    raise CounterInconsistent(
        f"page counter went back from {before} to {after}: not a wrap nor an NVRAM "
        "step (printer replaced or counter reset?)",
        before=before,
        after=after,
    )


def pages_printed(before: int, after: int, quirks: CounterQuirks = DEFAULT_QUIRKS) -> int:
    """Pages printed between two life-counter values (see `count_pages`)."""
    return count_pages(before, after, quirks).pages
