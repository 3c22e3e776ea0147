"""Print-time PIN hashes: salted, slow, checked in constant time, never the PIN."""

import base64

import pytest

from pagetally.core.pins import KEY_BYTES, check_pin_text, hash_pin, verify_pin
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


@pytest.mark.parametrize("stored", [None, "", "plain4711", "scrypt$1$8$1$AA==$AA==",
                                    "scrypt$1048576000$8$1$AAAA$AAAA", "md5$x$y$z$a$b"])
def test_no_usable_hash_never_matches(stored: str | None) -> None:
    assert verify_pin("4711", stored) is False


def test_the_same_salt_gives_the_same_hash() -> None:
    salt = bytes(range(16))
    assert hash_pin("4711", salt=salt) == hash_pin("4711", salt=salt)
    key = base64.b64decode(hash_pin("4711", salt=salt).rsplit("$", 1)[1])
    assert len(key) == KEY_BYTES


@pytest.mark.parametrize(("pin", "why"), [("123", "at least 4"), ("12\n34", "control"),
                                          ("9" * 257, "at most 256")])
def test_bad_pins_are_refused_with_a_reason(pin: str, why: str) -> None:
    with pytest.raises(InvalidInput, match=why):
        check_pin_text(pin)
    assert check_pin_text("1234") == "1234"
