"""The layer table (docs/architecture.md, "Layers") held against every import in pagetally/.

Every `import`, at the top of a module, inside a function (lazy) or under
TYPE_CHECKING, is an arrow from its module's layer to another's; an arrow the
table does not allow fails here. The table is copied below as data, with the
few arrows the code has today that the table lacks in ALLOWLIST, each saying
why: a new one is a deliberate, reviewed change to this file.
"""

from __future__ import annotations

import ast
import functools
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1] / "pagetally"

#: A layer and the layers it may import (its own always). `proc` is the one
#: process runner, importable by every layer that starts a process (like errors).
ALLOWED: dict[str, set[str]] = {
    "errors": set(),
    "proc": set(),
    "ini": set(),  # the one INI reader, stdlib only (config, and the thin backend)
    "pdl": {"errors", "proc"},
    "core": {"errors"},
    "storage": {"core", "errors"},
    "devices": {"core", "errors", "proc"},
    "notify": {"core", "errors", "proc"},
    "config": {"core", "errors", "ini"},
    "directory": {"core", "errors"},
    "cups": {
        "errors",
        "proc",
        "pdl",
        "core",
        "storage",
        "devices",
        "notify",
        "config",
        "service.client",
    },
    "service": {
        "errors",
        "proc",
        "pdl",
        "core",
        "storage",
        "devices",
        "notify",
        "config",
        "cups.backend",
        "ini",
    },
    "export": {"core", "storage", "errors"},
    "cli": {"core", "storage", "pdl", "notify", "config", "errors", "proc", "directory", "export"},
    "web": {"core", "storage", "pdl", "notify", "config", "errors", "proc", "export"},
}
#: Arrows the table gives one module beyond its layer's.
MODULE_ALLOWED: dict[str, set[str]] = {
    "cli.setup": {"cups.setup"},
    "cli.web": {"web"},
    "cli.serve": {"web"},
}

#: Arrows the code has that the table does not give, for the lead to see.
ALLOWLIST: dict[tuple[str, str], str] = {
    ("cli.serve", "service"): "`pagetally serve` is the service's entry point (DESIGN.md: "
    "one entry point per audience); the table should say cli/serve -> service",
    ("cups.setup", "service.thin"): "`pagetally setup cups` installs the thin backend, "
    "which service/ holds; the table should say cups/setup -> service/thin",
}


def _modules(root: Path) -> dict[str, Path]:
    """Dotted names under the package (without the package's own name) -> file."""
    out = {}
    for path in root.rglob("*.py"):
        parts = list(path.relative_to(root).with_suffix("").parts)
        if parts[-1] == "__init__":
            parts.pop()
        out[".".join(parts)] = path
    return out


def _targets(
    module: str, is_package: bool, node: ast.AST, known: set[str], package: str
) -> list[str]:
    """What an import statement reaches in the package (names without its prefix)."""
    if isinstance(node, ast.Import):
        names = [a.name for a in node.names]
    elif isinstance(node, ast.ImportFrom):
        if node.level:
            here = module.split(".") if module else []
            base = here if is_package else here[:-1]
            base = base[: len(base) - (node.level - 1)]
            stem = ".".join([package, *base, *([node.module] if node.module else [])])
        else:
            stem = node.module or ""
        names = []
        for alias in node.names:
            full = f"{stem}.{alias.name}"
            names.append(full if full.removeprefix(package + ".") in known else stem)
    else:
        return []
    return [n.removeprefix(package + ".") for n in names if n.startswith(package + ".")]


def _layer(module: str) -> str:
    return module.split(".")[0]


def _allowed(source: str, target: str) -> bool:
    layer, goal = _layer(source), _layer(target)
    if layer == goal or target in ("__version__",):
        return True
    grants = ALLOWED.get(layer, set()) | MODULE_ALLOWED.get(source, set())
    for key, _why in ALLOWLIST.items():
        if key[0] == source:
            grants = grants | {key[1]}
    return any(target == g or target.startswith(g + ".") for g in grants)


@functools.cache
def _imports(path: Path) -> tuple[ast.Import | ast.ImportFrom, ...]:
    """A module's import statements, lazy ones included: parsed and walked once for
    both tests (the fast core's time)."""
    tree = ast.parse(path.read_text(), str(path))
    return tuple(n for n in ast.walk(tree) if isinstance(n, ast.Import | ast.ImportFrom))


def wrong_arrows(root: Path, package: str = "pagetally") -> list[str]:
    """Every import in the package under `root` that the table does not allow."""
    modules = _modules(root)
    known = set(modules)
    wrong = []
    for module, path in sorted(modules.items()):
        if not module:  # the package's __init__: version only
            continue
        for node in _imports(path):
            for target in _targets(module, path.name == "__init__.py", node, known, package):
                if not _allowed(module, target):
                    line = getattr(node, "lineno", 0)
                    wrong.append(
                        f"{path.relative_to(root.parent)}:{line}: "
                        f"{_layer(module)} may not import {package}.{target}"
                    )
    return wrong


def test_every_import_follows_the_layer_table() -> None:
    assert wrong_arrows(ROOT) == []


def test_every_layer_in_the_code_is_in_the_table() -> None:
    layers = {_layer(m) for m in _modules(ROOT) if m}
    assert layers <= set(ALLOWED), layers - set(ALLOWED)


def test_the_allowlist_is_still_needed() -> None:
    """An exception the code no longer needs is taken off the list."""
    used = set()
    modules = _modules(ROOT)
    known = set(modules)
    for module, path in modules.items():
        for node in _imports(path):
            for target in _targets(module, path.name == "__init__.py", node, known, "pagetally"):
                for source, goal in ALLOWLIST:
                    if source == module and (target == goal or target.startswith(goal + ".")):
                        used.add((source, goal))
    assert used == set(ALLOWLIST)


def _tree(root: Path, files: dict[str, str]) -> Path:
    pkg = root / "pagetally"
    for name, text in files.items():
        path = pkg / name
        path.parent.mkdir(parents=True, exist_ok=True)
        for parent in [path.parent, *path.parent.parents]:
            if parent == root:
                break
            (parent / "__init__.py").touch()
        path.write_text(text)
    return pkg


def test_a_wrong_arrow_fails(tmp_path: Path) -> None:
    """A synthetic package: the allowed arrows pass, each wrong one is named."""
    pkg = _tree(
        tmp_path,
        {
            "errors.py": "",
            "proc.py": "",
            "core/models.py": "from pagetally.errors import X\n",
            "storage/sql.py": "from pagetally.core import models\n",
            "pdl/ink.py": "from pagetally import proc\nfrom ..errors import X\n",
            "cli/setup.py": "from pagetally.cups.setup import install\n",
            "cups/setup.py": "from pagetally.service.client import connect\n",
            "cups/backend.py": "",
            "service/client.py": "",
            "service/jobs.py": "from pagetally.cups.backend import run\n",
            # wrong:
            "core/rules.py": "def f():\n    from pagetally.storage import sql\n",
            "pdl/detect.py": "from ..storage.sql import Store\n",
            "cli/users.py": "import pagetally.cups.setup\n",
            "config.py": "from typing import TYPE_CHECKING\nif TYPE_CHECKING:\n"
            "    from pagetally.cups import backend\n",
            "service/server.py": "from pagetally.cups import setup\n",
        },
    )
    assert wrong_arrows(pkg) == [
        "pagetally/cli/users.py:1: cli may not import pagetally.cups.setup",
        "pagetally/config.py:3: config may not import pagetally.cups.backend",
        "pagetally/core/rules.py:2: core may not import pagetally.storage.sql",
        "pagetally/pdl/detect.py:1: pdl may not import pagetally.storage.sql",
        "pagetally/service/server.py:1: service may not import pagetally.cups.setup",
    ]
