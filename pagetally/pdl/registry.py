"""Finds every parser: built-in ones and those a site installs.

Built-in parsers are the `PARSERS` lists of the modules in `pagetally.pdl.formats`
(found by listing that package, so a new module needs no registration). A site
adds a language of its own, without touching PageTally, by shipping a package
with an entry point in the group `pagetally.pdl`, e.g. in its pyproject.toml::

    [project.entry-points."pagetally.pdl"]
    mylang = "mysite.mylang:PARSER"     # a Parser, or a list of Parsers

Importing this module costs nothing; the first call to `parsers()` loads and
caches them. A site parser whose `name` equals a built-in one replaces it (a site
may fix a language for its printers). A plug-in that fails to load is left out and
the reason kept in `load_errors()`: one broken plug-in must not stop accounting.
"""

from __future__ import annotations

import importlib
import os
import sys
from threading import Lock

from pagetally.errors import UnknownFormat
from pagetally.pdl.base import Parser

ENTRY_POINT_GROUP = "pagetally.pdl"
FORMATS_PACKAGE = "pagetally.pdl.formats"

_lock = Lock()
_parsers: dict[str, Parser] | None = None
_errors: list[str] = []
_modules: dict[str, list[Parser]] = {}  # built-in module name -> its parsers, once imported
_plugins_possible: bool | None = None

# Openings a format defines at offset 0, and the only built-in modules whose parsers
# can claim a job opening so (checked against every parser by tests/pdl/test_registry.py).
# A one-file count then imports those modules, not all forty: most of a small job's
# count is spent importing parsers it never needs. A job after PJL is matched too
# (detect._by_signature then also asks that PJL enters the parser found).
SIGNATURES: tuple[tuple[bytes, tuple[str, ...]], ...] = (  # (PCL XL's is its stream header)
    (b"%PDF-", ("pdf", "pclm")),
    (b"II*\x00", ("image",)),
    (b"MM\x00*", ("image",)),
    (b"II+\x00", ("image",)),
    (b"MM\x00+", ("image",)),
    *((m + gap + b"HP-PCL XL;", ("pclxl",)) for m in (b"(", b")", b"'") for gap in (b" ", b"")),
    # ESC @ (printer reset): Epson's ESC/P and ESC/P 2 (Ghostscript's stcolor, epson,
    # escp2...), and the two that send it before their own: Canon BJC, DeskJet 505J
    (b"\x1b@", ("escp", "bjc", "dj505j")),
)


def _as_parsers(obj: object, origin: str) -> list[Parser]:
    """Accept a Parser or an iterable of them; anything else is an error."""
    items = list(obj) if isinstance(obj, list | tuple) else [obj]
    good: list[Parser] = []
    for item in items:
        if isinstance(item, Parser) and isinstance(getattr(item, "name", None), str):
            good.append(item)
        else:
            _errors.append(f"{origin}: {item!r} is not a pdl Parser")
    return good


def _module_names(path: list[str]) -> set[str]:
    """The modules in a package's folders: what pkgutil.iter_modules finds, without
    its import of `inspect` (paid by every count). A path entry that is not a
    folder (a zip) is left to pkgutil."""
    from importlib.machinery import all_suffixes

    suffixes = sorted(all_suffixes(), key=len, reverse=True)  # ".cpython-311-…so" first
    names: set[str] = set()
    for folder in path:
        try:
            entries = os.listdir(folder)
        except NotADirectoryError:
            import pkgutil

            names.update(info.name for info in pkgutil.iter_modules([folder]))
            continue
        except OSError:
            continue
        for entry in entries:
            suffix = next((x for x in suffixes if entry.endswith(x)), None)
            if suffix is not None:
                name = entry[: -len(suffix)]
            elif os.path.isfile(os.path.join(folder, entry, "__init__.py")):
                name = entry
            else:
                continue
            if name and "." not in name and name != "__init__":
                names.add(name)
    return names


def _module(name: str) -> list[Parser]:
    """The parsers of built-in module `name`, imported once (errors noted, not raised)."""
    if name not in _modules:
        origin = f"{FORMATS_PACKAGE}.{name}"
        try:
            module = importlib.import_module(origin)
        except Exception as exc:  # one broken module must not hide the others
            _errors.append(f"{origin}: {type(exc).__name__}: {exc}")
            _modules[name] = []
        else:
            _modules[name] = _as_parsers(getattr(module, "PARSERS", []), origin)
    return _modules[name]


def _builtin() -> list[Parser]:
    package = importlib.import_module(FORMATS_PACKAGE)
    found: list[Parser] = []
    for name in sorted(_module_names(list(package.__path__))):
        if not name.startswith("_"):
            found.extend(_module(name))
    return found


def _may_have_plugins() -> bool:
    """Whether an installed distribution may declare the group: a look at the
    entry_points.txt files on sys.path, so that importlib.metadata (slow to import,
    and paid by every backend process) loads only when one does. A path entry that
    is not a folder (a zip) cannot be looked into cheaply: then it may."""
    header = f"[{ENTRY_POINT_GROUP}]"
    for entry in sys.path:
        folder = entry or "."
        try:
            names = os.listdir(folder)
        except NotADirectoryError:
            return True
        except OSError:
            continue
        for name in names:
            if name.endswith((".dist-info", ".egg-info")):
                try:
                    with open(os.path.join(folder, name, "entry_points.txt"), "rb") as fh:
                        if header.encode() in fh.read():
                            return True
                except OSError:
                    continue
    return False


def _no_plugins() -> bool:
    """Whether no installed distribution can add parsers (looked at once per process)."""
    global _plugins_possible
    if _plugins_possible is None:
        _plugins_possible = _may_have_plugins()
    return not _plugins_possible


def _plugins() -> list[Parser]:
    found: list[Parser] = []
    if _no_plugins():
        return found
    from importlib.metadata import entry_points

    for ep in entry_points(group=ENTRY_POINT_GROUP):
        origin = f"entry point {ep.name} = {ep.value}"
        try:
            loaded = ep.load()
        except Exception as exc:  # a broken plug-in must not stop accounting
            _errors.append(f"{origin}: {type(exc).__name__}: {exc}")
            continue
        found.extend(_as_parsers(loaded, origin))
    return found


def _load() -> dict[str, Parser]:
    global _parsers
    with _lock:
        if _parsers is None:
            _errors.clear()
            _modules.clear()
            table: dict[str, Parser] = {}
            for parser in [*_builtin(), *_plugins()]:
                table[parser.name] = parser  # plug-ins come last: they may replace
            _parsers = table
        return _parsers


def for_head(head: bytes) -> list[Parser] | None:
    """The only parsers that can claim a job opening with `head`, importing just their
    modules; None when no signature decides (or a plug-in might): then ask them all."""
    if _parsers is not None:
        return None  # all loaded already: the full table costs nothing more
    for magic, modules in SIGNATURES:
        if head.startswith(magic):
            with _lock:
                if not _no_plugins():
                    return None
                return [p for name in modules for p in _module(name)]
    return None


def parsers() -> list[Parser]:
    """Every known parser, sorted by name (the order carries no meaning)."""
    return [p for _, p in sorted(_load().items())]


def get(name: str) -> Parser:
    """The parser called `name`; UnknownFormat when there is none."""
    table = _load()
    try:
        return table[name]
    except KeyError:
        raise UnknownFormat(f"no parser named {name!r}") from None


def names() -> list[str]:
    return sorted(_load())


def load_errors() -> list[str]:
    """Why plug-ins or modules were left out at the last load (for `pagetally count -v`)."""
    _load()
    return list(_errors)


def refresh() -> None:
    """Forget the cache: the next call scans again (tests; a long-lived service)."""
    global _parsers, _plugins_possible
    with _lock:
        _parsers = None
        _plugins_possible = None
        _modules.clear()
