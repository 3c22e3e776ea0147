"""Shell-style wildcards (`fnmatch`) as SQL: a LIKE pre-filter, then an exact check.

LIKE cannot say `[a-z]` and its case rules differ by engine, so the SQL narrows
the rows (using the index on the name when the pattern has a literal prefix) and
`fnmatchcase` decides. Names holding `%`, `_` or the escape character match
literally, as in fnmatch. Patterns only ever reach SQL as bound parameters.
"""

from __future__ import annotations

import functools
from collections.abc import Sequence
from fnmatch import fnmatchcase

from sqlalchemy import ColumnElement, false, or_, true
from sqlalchemy.sql.elements import ColumnClause

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


def where_names(column: ColumnClause[str] | ColumnElement[str], patterns: Sequence[str]) -> (
    ColumnElement[bool]
):
    """SQL narrowing `column` to candidates for any of `patterns`."""
    if not patterns:
        return false()
    if any(p == "*" for p in patterns):
        return true()
    clauses: list[ColumnElement[bool]] = []
    for p in patterns:
        if has_wildcards(p):
            clauses.append(column.like(like_of(p), escape=ESCAPE))
        else:
            clauses.append(column == p)
    return or_(*clauses)


@functools.lru_cache(maxsize=256)
def _sql_is_exact(patterns: tuple[str, ...]) -> bool:
    """True when `where_names` alone decides (only "*" or plain names)."""
    return "*" in patterns or not any(has_wildcards(p) for p in patterns)


def matches(name: str, patterns: Sequence[str]) -> bool:
    """The exact, case-sensitive fnmatch decision (for rows `where_names` selected)."""
    pats = tuple(patterns)
    if _sql_is_exact(pats):
        return True
    return any(fnmatchcase(name, p) for p in pats)
