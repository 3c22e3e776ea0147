"""Names and shell-style wildcards on the command line (PyKota's `jo*` forms)."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from fnmatch import fnmatchcase
from typing import TypeVar

from pagetally.errors import InvalidInput, NotFound

T = TypeVar("T")
WILDCARDS = set("*?[")


def is_pattern(name: str) -> bool:
    return any(c in WILDCARDS for c in name)


def check_new_names(kind: str, names: Sequence[str]) -> list[str]:
    """Names for things to create: no wildcards, no blanks, each once."""
    out: list[str] = []
    seen: set[str] = set()
    for n in names:
        if not n.strip() or n != n.strip():
            raise InvalidInput(f"{kind} name {n!r} is empty or has surrounding spaces")
        if is_pattern(n):
            raise InvalidInput(f"{kind} name {n!r} holds a wildcard (* ? [): give exact names")
        if any(ord(c) < 32 for c in n):
            raise InvalidInput(f"{kind} name {n!r} holds a control character")
        if n not in seen:
            seen.add(n)
            out.append(n)
    return out


def expand(
    kind: str,
    patterns: Sequence[str],
    find: Callable[[Sequence[str]], list[T]],
    name_of: Callable[[T], str],
) -> list[T]:
    """Everything matching `patterns`, each once, in the store's order.

    An exact name that does not exist, or a pattern that matches nothing, is
    an error (NotFound): nothing is changed when one of several names is wrong.
    """
    found = find(list(patterns))
    names = {name_of(x) for x in found}
    for p in patterns:
        if is_pattern(p):
            if not any(fnmatchcase(n, p) for n in names):
                exc = NotFound(kind, p)
                exc.args = (f"no {kind} matches {p!r}",)
                raise exc
        elif p not in names:
            raise NotFound(kind, p)
    seen: set[str] = set()
    out: list[T] = []
    for x in found:
        if name_of(x) not in seen:
            seen.add(name_of(x))
            out.append(x)
    return out
