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
import sys
from collections.abc import Iterator
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
LIMIT = 50


def long_functions(limit: int, root: Path = ROOT / "pagetally") -> Iterator[tuple[str, int]]:
    """(`path::qualified name`, length) of every function over `limit` lines."""
    for path in sorted(root.rglob("*.py")):
        source = path.read_text(encoding="utf-8")
        tree = ast.parse(source)
        extra = _extra_lines(tree, source.splitlines())
        rel = path.relative_to(root.parent).as_posix()
        yield from _walk(tree, rel, "", limit, extra)


def _extra_lines(tree: ast.AST, lines: list[str]) -> dict[int, int]:
    """Line number -> reading lines there besides statements: a comment alone
    on its line (1), a triple-quoted string (its lines after the first).
    Formatting moves these but never adds, drops or rewraps them."""
    extra: dict[int, int] = {}
    inside: set[int] = set()  # lines within triple-quoted strings
    for node in ast.walk(tree):
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


def length(node: ast.FunctionDef | ast.AsyncFunctionDef, extra: dict[int, int]) -> int:
    """Statements in `node` (itself included) plus the extra lines within it."""
    statements = sum(1 for n in ast.walk(node) if isinstance(n, ast.stmt))
    last = node.end_lineno or node.lineno
    return statements + sum(v for line, v in extra.items() if node.lineno <= line <= last)


def _walk(
    node: ast.AST, rel: str, prefix: str, limit: int, extra: dict[int, int]
) -> Iterator[tuple[str, int]]:
    for child in ast.iter_child_nodes(node):
        if isinstance(child, ast.FunctionDef | ast.AsyncFunctionDef):
            name = f"{prefix}{child.name}"
            size = length(child, extra)
            if size > limit:
                yield f"{rel}::{name}", size
            yield from _walk(child, rel, f"{name}.", limit, extra)
        elif isinstance(child, ast.ClassDef):
            yield from _walk(child, rel, f"{prefix}{child.name}.", limit, extra)


def main() -> None:
    limit = int(sys.argv[1]) if len(sys.argv) > 1 else LIMIT
    found = sorted(long_functions(limit), key=lambda item: -item[1])
    for where, size in found:
        print(f"{size:4d}  {where}")
    print(f"{len(found)} functions over {limit} lines")


if __name__ == "__main__":
    main()
