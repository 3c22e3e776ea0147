"""User names as clients send them, made into the names the store knows.

Windows clients send `DOMAIN\\user` (winbind's separator), Kerberos ones
`user@REALM`; sites choose a case (PyKota's usernamecase). Pure: the backend
and the CLI both apply it.
"""

from __future__ import annotations


def normalise_user(
    name: str,
    *,
    case: str = "native",
    winbind_separator: str | None = None,
    strip_realm: bool = True,
) -> str:
    """`EXAMPLE\\Alice` → `Alice` (separator `\\`), `alice@EXAMPLE.ORG` → `alice`,
    then upper/lower case as configured ("native" leaves it)."""
    out = name.strip()
    if winbind_separator and winbind_separator in out:
        out = out.split(winbind_separator)[-1]
    if strip_realm and "@" in out:
        out = out.split("@", 1)[0]
    if case == "lower":
        out = out.lower()
    elif case == "upper":
        out = out.upper()
    return out
