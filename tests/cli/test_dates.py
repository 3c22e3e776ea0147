"""PyKota's filter dates: start is the first instant, end the first instant after."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import pytest

from pagetally.cli.dates import parse_date
from pagetally.errors import InvalidInput

NOW = datetime(2026, 11, 24, 15, 30, 10, tzinfo=UTC)


@pytest.mark.parametrize(
    ("text", "end", "expected"),
    [
        ("2026", False, datetime(2026, 1, 1, tzinfo=UTC)),
        ("2026", True, datetime(2027, 1, 1, tzinfo=UTC)),
        ("202612", True, datetime(2027, 1, 1, tzinfo=UTC)),
        ("202602", True, datetime(2026, 3, 1, tzinfo=UTC)),
        ("20261124", False, datetime(2026, 11, 24, tzinfo=UTC)),
        ("2026112415", True, datetime(2026, 11, 24, 16, tzinfo=UTC)),
        ("20261124153005", False, datetime(2026, 11, 24, 15, 30, 5, tzinfo=UTC)),
        ("today", False, datetime(2026, 11, 24, tzinfo=UTC)),
        ("today", True, datetime(2026, 11, 25, tzinfo=UTC)),
        ("yesterday", False, datetime(2026, 11, 23, tzinfo=UTC)),
        ("today-7", False, datetime(2026, 11, 17, tzinfo=UTC)),
        ("now", False, NOW),
        ("now+2", False, NOW + timedelta(days=2)),
        ("now-30", True, NOW - timedelta(days=30)),
        ("2026-11-01", True, datetime(2026, 11, 2, tzinfo=UTC)),
        ("2026-11-01T10:00:00+02:00", False, datetime(2026, 11, 1, 8, tzinfo=UTC)),
    ],
)
def test_forms(text: str, end: bool, expected: datetime) -> None:
    assert parse_date(text, now=NOW, tz=UTC, end=end) == expected


def test_local_time_zone() -> None:
    paris = timezone(timedelta(hours=1))
    assert parse_date("20261124", now=NOW, tz=paris) == datetime(2026, 11, 23, 23, tzinfo=UTC)


@pytest.mark.parametrize("text", ["tomorow", "202613", "2026-13-01", "12", "now+x", ""])
def test_bad(text: str) -> None:
    with pytest.raises(InvalidInput, match="date"):
        parse_date(text, now=NOW, tz=UTC)
