"""Print-time PINs: stored as a salted slow hash, checked in constant time.

A PIN (or password) set by an administrator (`pagetally users edit NAME --pin`)
is kept as `scrypt$N$r$p$SALT$HASH$SET` (base64; SET: when it was set, Unix
seconds), never itself. Short PINs are weak against anyone holding the hash,
which is why the hash is slow and never leaves the store except for the check;
against guessing by printing, `lockout_until` bounds the tries (failures before
the PIN was set do not count, so setting a new PIN ends a lockout). Hashes
without SET (the first form) are still read. Pure standard library.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import os
from collections.abc import Iterable
from datetime import UTC, datetime, timedelta

from pagetally.errors import InvalidInput

SCHEME = "scrypt"
N, R, P = 1 << 14, 8, 1  # ~16 MiB and a few tens of ms per check
SALT_BYTES = 16
KEY_BYTES = 32
MAX_PIN = 256  # characters: PWG 5100.11 job-password is at most 255 octets
MIN_PIN = 4

# checked when there is no hash to check against (unknown user, no PIN set), so
# that a refusal takes as long whether the user exists or not
_DUMMY = "scrypt$16384$8$1$AAAAAAAAAAAAAAAAAAAAAA==$AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA="


def check_pin_text(pin: str) -> str:
    """The PIN an administrator gives, or InvalidInput saying what is wrong with it."""
    if len(pin) < MIN_PIN:
        raise InvalidInput(f"a PIN has at least {MIN_PIN} characters")
    if len(pin) > MAX_PIN:
        raise InvalidInput(f"a PIN has at most {MAX_PIN} characters")
    if any(not ch.isprintable() for ch in pin):
        raise InvalidInput("a PIN cannot contain control characters")
    return pin


def hash_pin(pin: str, *, salt: bytes | None = None, set_at: datetime | None = None) -> str:
    """The stored form of `pin` (a fresh random salt unless one is given), with
    the time it is set (now unless given)."""
    salt = os.urandom(SALT_BYTES) if salt is None else salt
    key = _derive(pin, salt, N, R, P)
    b64 = base64.b64encode
    seconds = int((set_at or datetime.now(UTC)).timestamp())
    return f"{SCHEME}${N}${R}${P}${b64(salt).decode()}${b64(key).decode()}${seconds}"


def pin_set_at(stored: str | None) -> datetime | None:
    """When the stored PIN was set; None for no PIN, or one stored without it."""
    parts = (stored or "").split("$")
    if len(parts) != 7 or _parse(stored or "") is None:
        return None
    return datetime.fromtimestamp(int(parts[6]), UTC)


def lockout_until(
    failures: Iterable[datetime],
    *,
    now: datetime,
    max_failures: int,
    window: timedelta,
    not_before: datetime | None = None,
) -> datetime | None:
    """When a user's lockout ends, None when not locked out: locked while at least
    `max_failures` failed checks (their dates) lie within `window` before `now`
    and not before `not_before` (the PIN's last change). 0 never locks. A lockout
    ends when its oldest counted failure leaves the window."""
    if max_failures <= 0:
        return None
    start = now - window
    counted = sorted(
        (d for d in failures if d > start and (not_before is None or d >= not_before)), reverse=True
    )
    if len(counted) < max_failures:
        return None
    return counted[max_failures - 1] + window


def verify_pin(pin: str | None, stored: str | None) -> bool:
    """True when `pin` matches the stored hash. Without a PIN or a stored hash
    (or with a malformed one) a dummy hash is checked all the same, and the
    answer is False: the time taken does not tell which was missing."""
    usable = _parse(stored) if stored else None
    n, r, p, salt, expected = usable or _parse(_DUMMY) or (N, R, P, b"", b"")
    given = pin if pin is not None and len(pin) <= MAX_PIN else ""
    key = _derive(given, salt, n, r, p)
    same = hmac.compare_digest(key, expected)
    return same and usable is not None and pin is not None and len(pin) <= MAX_PIN


def _derive(pin: str, salt: bytes, n: int, r: int, p: int) -> bytes:
    return hashlib.scrypt(
        pin.encode("utf-8"), salt=salt, n=n, r=r, p=p, maxmem=64 * 1024 * 1024, dklen=KEY_BYTES
    )


def _parse(stored: str) -> tuple[int, int, int, bytes, bytes] | None:
    """(N, r, p, salt, key) of a stored hash; None when it is not one of ours
    or asks for more work than this module would ever set."""
    parts = stored.split("$")
    if len(parts) == 7 and parts[6].isascii() and parts[6].isdigit() and len(parts[6]) <= 12:
        parts = parts[:6]  # the time it was set (pin_set_at)
    if len(parts) != 6 or parts[0] != SCHEME:
        return None
    try:
        n, r, p = int(parts[1]), int(parts[2]), int(parts[3])
        salt = base64.b64decode(parts[4], validate=True)
        key = base64.b64decode(parts[5], validate=True)
    except ValueError:
        return None
    if not (2 <= n <= 1 << 20 and n & (n - 1) == 0 and 1 <= r <= 32 and 1 <= p <= 16):
        return None
    if len(key) != KEY_BYTES or not salt:
        return None
    return n, r, p, salt, key
