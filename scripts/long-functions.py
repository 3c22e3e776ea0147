"""List the functions of pagetally/ longer than N lines (default 60), longest first.

    .venv/bin/python scripts/long-functions.py [N]

A function's length is from its `def` (decorators excluded) to its last line,
docstring and comments included: what a reader has to hold at once.
tests/test_function_length.py holds new code to the limit (with an allowlist of
the long functions that exist).
"""

from __future__ import annotations

import ast
import sys
from collections.abc import Iterator
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def long_functions(limit: int, root: Path = ROOT / "pagetally") -> Iterator[tuple[str, int]]:
    """(`path::qualified name`, lines) of every function over `limit` lines."""
    for path in sorted(root.rglob("*.py")):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        rel = path.relative_to(root.parent).as_posix()
        yield from _walk(tree, rel, "", limit)


def _walk(node: ast.AST, rel: str, prefix: str, limit: int) -> Iterator[tuple[str, int]]:
    for child in ast.iter_child_nodes(node):
        if isinstance(child, ast.FunctionDef | ast.AsyncFunctionDef):
            name = f"{prefix}{child.name}"
            size = (child.end_lineno or child.lineno) - child.lineno + 1
            if size > limit:
                yield f"{rel}::{name}", size
            yield from _walk(child, rel, f"{name}.", limit)
        elif isinstance(child, ast.ClassDef):
            yield from _walk(child, rel, f"{prefix}{child.name}.", limit)


def main() -> None:
    limit = int(sys.argv[1]) if len(sys.argv) > 1 else 60
    found = sorted(long_functions(limit), key=lambda item: -item[1])
    for where, size in found:
        print(f"{size:4d}  {where}")
    print(f"{len(found)} functions over {limit} lines")


if __name__ == "__main__":
    main()
