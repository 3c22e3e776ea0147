"""Shell-style wildcards (`fnmatch`) as SQL: a LIKE pre-filter, then an exact check.

LIKE cannot say `[a-z]` and its case rules differ by engine, so the SQL narrows
the rows (using the index on the name when the pattern has a literal prefix) and
`fnmatchcase` decides. Names holding `%`, `_` or the escape character match
literally, as in fnmatch. Patterns only ever reach SQL as bound parameters.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Sequence
from fnmatch import fnmatchcase
from typing import TypeVar

from sqlalchemy import ColumnElement, false, or_, true
from sqlalchemy.sql.elements import ColumnClause

T = TypeVar("T")
ESCAPE = "~"  # not a backslash: MySQL string literals treat that specially
_WILD = set("*?[")


def has_wildcards(pattern: str) -> bool:
    return any(ch in _WILD for ch in pattern)


def like_of(pattern: str) -> str:
    """The LIKE pattern that every fnmatch match of `pattern` also matches."""
    out: list[str] = []
    i = 0
    while i < len(pattern):
        ch = pattern[i]
        if ch == "*":
            out.append("%")
        elif ch == "?":
            out.append("_")
        elif ch == "[":  # a class (or a literal '['): match anything from here on
            out.append("%")
            break
        elif ch in ("%", "_", ESCAPE):
            out.append(ESCAPE + ch)
        else:
            out.append(ch)
        i += 1
    return "".join(out)


#: Most names or patterns one query's WHERE holds. SQLite refuses an OR of ~1,000
#: terms ("Expression tree is too large") and caps bound parameters; longer lists
#: are read in chunks (`in_chunks`), each query's plain names as one flat IN.
CHUNK = 500


def in_chunks(patterns: Sequence[str]) -> list[list[str]]:
    """`patterns` split into lists of at most CHUNK (one list when "*" is there)."""
    pats = list(patterns)
    if "*" in pats or len(pats) <= CHUNK:
        return [pats]
    return [pats[i : i + CHUNK] for i in range(0, len(pats), CHUNK)]


def where_names(
    column: ColumnClause[str] | ColumnElement[str], patterns: Sequence[str]
) -> ColumnElement[bool]:
    """SQL narrowing `column` to candidates for any of `patterns` (at most CHUNK)."""
    if not patterns:
        return false()
    if any(p == "*" for p in patterns):
        return true()
    clauses: list[ColumnElement[bool]] = []
    plain = [p for p in patterns if not has_wildcards(p)]
    if len(plain) == 1:
        clauses.append(column == plain[0])
    elif plain:
        clauses.append(column.in_(plain))
    for p in patterns:
        if has_wildcards(p):
            clauses.append(column.like(like_of(p), escape=ESCAPE))
    return or_(*clauses)


def merged(parts: list[list[T]], name_of: Callable[[T], str]) -> list[T]:
    """The rows of several chunks' queries as one query would give them: each
    name once, sorted by name (one chunk: as the database ordered it)."""
    if len(parts) == 1:
        return parts[0]
    seen: dict[str, T] = {}
    for part in parts:
        for item in part:
            seen.setdefault(name_of(item), item)
    return [seen[k] for k in sorted(seen)]


@functools.lru_cache(maxsize=256)
def _sql_is_exact(patterns: tuple[str, ...]) -> bool:
    """True when `where_names` alone decides (only "*" or plain names)."""
    return "*" in patterns or not any(has_wildcards(p) for p in patterns)


def sql_is_exact(patterns: Sequence[str]) -> bool:
    """True when `where_names` alone decides: `matches` is then True for every
    row it selected (a caller reading many rows may skip asking)."""
    return _sql_is_exact(tuple(patterns))


def matches(name: str, patterns: Sequence[str]) -> bool:
    """The exact, case-sensitive fnmatch decision (for rows `where_names` selected)."""
    pats = tuple(patterns)
    if _sql_is_exact(pats):
        return True
    return any(fnmatchcase(name, p) for p in pats)
