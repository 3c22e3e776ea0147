"""Local web passwords (`webauth: local`): argon2id hashes, set from the CLI."""

from __future__ import annotations

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

from pagetally.errors import InvalidInput

MIN_LENGTH = 8
_HASHER = PasswordHasher()
#: Verified against when a user has no password, so that an unknown user takes
#: as long to refuse as a wrong password (made on first use: it costs a hash).
_DUMMY: list[str] = []


def _dummy() -> str:
    if not _DUMMY:
        _DUMMY.append(_HASHER.hash("pagetally-no-such-password"))
    return _DUMMY[0]


def hash_password(password: str) -> str:
    """The argon2id hash to store; InvalidInput for a password too short."""
    if len(password) < MIN_LENGTH:
        raise InvalidInput(f"a web password has at least {MIN_LENGTH} characters")
    return _HASHER.hash(password)


def verify_password(stored: str | None, password: str) -> bool:
    """True when `password` matches `stored` (None: no password set, always False)."""
    try:
        ok = _HASHER.verify(stored or _dummy(), password)
    except (VerificationError, InvalidHashError):
        return False
    return bool(ok) and stored is not None
