"""Print-time PIN hashes: salted, slow, checked in constant time, never the PIN."""

import base64
from datetime import UTC, datetime, timedelta

import pytest

from pagetally.core.pins import (
    KEY_BYTES,
    check_pin_text,
    hash_pin,
    lockout_until,
    pin_set_at,
    verify_pin,
)
from pagetally.errors import InvalidInput


def test_a_pin_is_stored_salted_and_never_itself() -> None:
    first, second = hash_pin("4711"), hash_pin("4711")
    assert first != second  # a fresh salt each time
    assert "4711" not in first
    assert first.startswith("scrypt$16384$8$1$")
    assert verify_pin("4711", first) and verify_pin("4711", second)


@pytest.mark.parametrize("given", ["4712", "", "4711 ", "x" * 300, None])
def test_anything_but_the_pin_is_refused(given: str | None) -> None:
    assert verify_pin(given, hash_pin("4711")) is False


@pytest.mark.parametrize(
    "stored",
    [
        None,
        "",
        "plain4711",
        "scrypt$1$8$1$AA==$AA==",
        "scrypt$1048576000$8$1$AAAA$AAAA",
        "md5$x$y$z$a$b",
    ],
)
def test_no_usable_hash_never_matches(stored: str | None) -> None:
    assert verify_pin("4711", stored) is False


def test_the_same_salt_gives_the_same_hash() -> None:
    salt, when = bytes(range(16)), datetime(2026, 11, 24, 9, 30, 15, tzinfo=UTC)
    assert hash_pin("4711", salt=salt, set_at=when) == hash_pin("4711", salt=salt, set_at=when)
    key = base64.b64decode(hash_pin("4711", salt=salt, set_at=when).split("$")[5])
    assert len(key) == KEY_BYTES


def test_the_stored_pin_says_when_it_was_set() -> None:
    when = datetime(2026, 11, 24, 9, 30, 15, tzinfo=UTC)
    stored = hash_pin("4711", set_at=when)
    assert stored.endswith("$1795512615") and pin_set_at(stored) == when
    old_form = stored.rsplit("$", 1)[0]  # as first stored, without the time
    assert verify_pin("4711", old_form) and pin_set_at(old_form) is None
    assert pin_set_at(None) is None and pin_set_at(stored + "x") is None
    assert verify_pin("4711", stored + "x") is False


T0 = datetime(2026, 11, 24, 12, tzinfo=UTC)
WINDOW = timedelta(seconds=900)


def at(*seconds: int) -> list[datetime]:
    return [T0 + timedelta(seconds=s) for s in seconds]


@pytest.mark.parametrize(
    ("failures", "now", "limit", "not_before", "until"),
    [
        (at(0, 10, 20, 30), 40, 5, None, None),  # 4 of 5: one try left
        (at(0, 10, 20, 30, 40), 50, 5, None, 900),  # the 5th locks until the 1st leaves
        (at(0, 10, 20, 30, 40, 41), 50, 5, None, 910),  # 6 failures: the 5th newest counts
        (at(0, 10, 20, 30, 40), 900, 5, None, None),  # the 1st has left the window
        (at(0, 10, 20, 30, 40), 899, 5, None, 900),
        (at(0, 10, 20, 30, 40), 50, 5, T0 + timedelta(seconds=5), None),  # PIN changed at 5
        (at(0, 10, 20, 30, 40), 50, 0, None, None),  # 0: no limit
        (at(0), 1, 1, None, 900),
    ],
)
def test_lockout_until(
    failures: list[datetime], now: int, limit: int, not_before: datetime | None, until: int | None
) -> None:
    got = lockout_until(
        failures,
        now=T0 + timedelta(seconds=now),
        max_failures=limit,
        window=WINDOW,
        not_before=not_before,
    )
    assert got == (None if until is None else T0 + timedelta(seconds=until))


@pytest.mark.parametrize(
    ("pin", "why"), [("123", "at least 4"), ("12\n34", "control"), ("9" * 257, "at most 256")]
)
def test_bad_pins_are_refused_with_a_reason(pin: str, why: str) -> None:
    with pytest.raises(InvalidInput, match=why):
        check_pin_text(pin)
    assert check_pin_text("1234") == "1234"
