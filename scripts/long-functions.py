"""List the functions of pagetally/ longer than N lines of reading (default 50),
longest first.

    .venv/bin/python scripts/long-functions.py [N]

A function's length is what a reader has to hold at once, counted so that
`ruff format` cannot change it: one line per statement (the `def` itself, and
every statement nested in it, nested functions included), however many physical
lines the formatter wraps it over or joins it into; plus every line of a
triple-quoted string (docstrings) after its first, and every comment on a line
of its own. Blank lines, decorators and the wrapping of long expressions and
signatures do not count. tests/test_function_length.py holds new code to the
limit (with an allowlist of the long functions that exist).
"""

from __future__ import annotations

import ast
import bisect
import itertools
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import NamedTuple

ROOT = Path(__file__).resolve().parents[1]
LIMIT = 50


def long_functions(limit: int, root: Path = ROOT / "pagetally") -> Iterator[tuple[str, int]]:
    """(`path::qualified name`, length) of every function over `limit` lines."""
    for path in sorted(root.rglob("*.py")):
        source = path.read_text(encoding="utf-8")
        tree = ast.parse(source)
        nodes = list(ast.walk(tree))  # walked once: the fast core runs this
        lines = source.splitlines()
        extra = _extra_lines(nodes, lines)
        running = list(itertools.accumulate(extra.get(n, 0) for n in range(len(lines) + 1)))
        starts = sorted((n.lineno, n.col_offset) for n in nodes if isinstance(n, ast.stmt))
        rel = path.relative_to(root.parent).as_posix()
        yield from _walk(tree, rel, "", limit, _Counts(starts, running))


def _extra_lines(nodes: list[ast.AST], lines: list[str]) -> dict[int, int]:
    """Line number -> reading lines there besides statements: a comment alone
    on its line (1), a triple-quoted string (its lines after the first).
    Formatting moves these but never adds, drops or rewraps them."""
    extra: dict[int, int] = {}
    inside: set[int] = set()  # lines within triple-quoted strings
    for node in nodes:
        if (
            isinstance(node, ast.Constant | ast.JoinedStr)
            and node.end_lineno
            and node.end_lineno > node.lineno
            and lines[node.lineno - 1][node.col_offset :].lstrip("rRbBuUfF")[:3] in _TRIPLE
        ):
            extra[node.lineno] = extra.get(node.lineno, 0) + node.end_lineno - node.lineno
            inside.update(range(node.lineno + 1, node.end_lineno + 1))
    for number, line in enumerate(lines, start=1):
        if line.lstrip().startswith("#") and number not in inside:
            extra[number] = extra.get(number, 0) + 1
    return extra


_TRIPLE = ('"""', "'''")


class _Counts(NamedTuple):
    """A file's statements (where each starts, in order) and its extra lines
    (running total by line number), to measure any function of it at once."""

    starts: list[tuple[int, int]]
    running: list[int]


def length(node: ast.FunctionDef | ast.AsyncFunctionDef, counts: _Counts) -> int:
    """Statements in `node` (itself included) plus the extra lines within it. A
    statement is in it when it starts within its span (statements nest whole)."""
    last = node.end_lineno or node.lineno
    end = (last, node.end_col_offset or 0)
    statements = bisect.bisect_right(counts.starts, end) - bisect.bisect_left(
        counts.starts, (node.lineno, node.col_offset)
    )
    return statements + counts.running[last] - counts.running[node.lineno - 1]


def _walk(
    node: ast.AST, rel: str, prefix: str, limit: int, counts: _Counts
) -> Iterator[tuple[str, int]]:
    for child in ast.iter_child_nodes(node):
        if isinstance(child, ast.FunctionDef | ast.AsyncFunctionDef):
            name = f"{prefix}{child.name}"
            size = length(child, counts)
            if size > limit:
                yield f"{rel}::{name}", size
            yield from _walk(child, rel, f"{name}.", limit, counts)
        elif isinstance(child, ast.ClassDef):
            yield from _walk(child, rel, f"{prefix}{child.name}.", limit, counts)


def main() -> None:
    limit = int(sys.argv[1]) if len(sys.argv) > 1 else LIMIT
    found = sorted(long_functions(limit), key=lambda item: -item[1])
    for where, size in found:
        print(f"{size:4d}  {where}")
    print(f"{len(found)} functions over {limit} lines")


if __name__ == "__main__":
    main()
