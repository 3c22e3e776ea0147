"""Dates people type in filters: PyKota's forms and ISO 8601.

PyKota (dumpykota's start=/end=): `YYYY[MM[DD[hh[mm[ss]]]]]`, `today`,
`yesterday`, `tomorrow`, `now`, each optionally followed by `+N` or `-N` days. A start
date is the first instant of the period it names; an end date is the first
instant AFTER it (ends are exclusive), so `end=2026` includes all of 2026.
Dates are read in the local time zone and returned in UTC.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta, tzinfo

from pagetally.errors import InvalidInput

_RELATIVE = re.compile(r"(now|today|yesterday|tomorrow)\s*(?:([+-])\s*(\d{1,5}))?", re.IGNORECASE)
_COMPACT = re.compile(r"\d{4}(?:\d{2}){0,5}")


def _next(start: datetime, digits: int) -> datetime:
    """The first instant after the period of `digits` length starting at `start`."""
    if digits == 4:
        return start.replace(year=start.year + 1)
    if digits == 6:
        return start.replace(year=start.year + start.month // 12, month=start.month % 12 + 1)
    step = {
        8: timedelta(days=1),
        10: timedelta(hours=1),
        12: timedelta(minutes=1),
        14: timedelta(seconds=1),
    }[digits]
    return start + step


def parse_date(text: str, *, now: datetime, tz: tzinfo, end: bool = False) -> datetime:
    """A filter date as a UTC datetime; InvalidInput names the text otherwise."""
    raw = text
    text = text.strip()
    local_now = now.astimezone(tz)
    m = _RELATIVE.fullmatch(text)
    if m:
        word, sign, num = m.group(1).lower(), m.group(2), m.group(3)
        delta = timedelta(days=int(num)) * (-1 if sign == "-" else 1) if num else timedelta()
        if word == "now":
            return (local_now + delta).astimezone(UTC)
        day = local_now.replace(hour=0, minute=0, second=0, microsecond=0)
        day = day.replace(tzinfo=None)
        if word == "yesterday":
            day -= timedelta(days=1)
        elif word == "tomorrow":
            day += timedelta(days=1)
        day += delta
        if end:
            day += timedelta(days=1)
        return day.replace(tzinfo=tz).astimezone(UTC)
    if _COMPACT.fullmatch(text):
        parts = [int(text[0:4])] + [int(text[i : i + 2]) for i in range(4, len(text), 2)]
        fields = parts + [1, 1][: max(0, 3 - len(parts))] + [0] * (6 - max(3, len(parts)))
        try:
            y, mo, d, h, mi, sec = fields[:6]
            start = datetime(y, mo, d, h, mi, sec)  # made local below
        except ValueError as exc:
            raise InvalidInput(f"date {raw!r}: {exc}") from None
        value = _next(start, len(text)) if end else start
        return value.replace(tzinfo=tz).astimezone(UTC)
    try:
        value = datetime.fromisoformat(text)
    except ValueError:
        raise InvalidInput(
            f"date {raw!r}: write YYYY[MM[DD[hh[mm[ss]]]]], an ISO date, "
            "or today/yesterday/tomorrow/now with an optional +N/-N days"
        ) from None
    if value.tzinfo is None:
        value = value.replace(tzinfo=tz)
    if end and len(text) == 10:  # a bare ISO day: the whole day
        value += timedelta(days=1)
    return value.astimezone(UTC)
