"""The one reader of PyKota-style INI files (`pagetally.conf`, its admin file,
`pykota.conf`): `[section]` headers, `name: value` or `name = value`, `#` and `;`
comment lines, an indented line continuing the previous value, each value kept
with its file and line for error messages.

Standard library only and no `re`: the thin backend (`service/thin.py`, run with
`python -S` for every job) reads `accountingservice` with it too. What the values
mean is config/'s business.
"""

from __future__ import annotations

GLOBAL = "global"


class Entry:
    """A directive's raw value and where it was written (a plain class: the thin
    backend does not pay for importing `dataclasses`)."""

    __slots__ = ("line", "path", "value")

    def __init__(self, value: str, path: str, line: int) -> None:
        self.value = value
        self.path = path
        self.line = line

    def __repr__(self) -> str:
        return f"Entry({self.value!r}, {self.path!r}, {self.line})"

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Entry) and (self.value, self.path, self.line) == (
            other.value,
            other.path,
            other.line,
        )

    def __hash__(self) -> int:
        return hash((self.value, self.path, self.line))


class IniError(ValueError):
    """A line that is not INI, with where it is (config/loading.py makes it a ConfigError)."""

    def __init__(self, message: str, path: str, line: int, directive: str | None = None):
        super().__init__(message)
        self.path = path
        self.line = line
        self.directive = directive


def _name_value(stripped: str) -> tuple[str, str] | None:
    """`name: value` / `name = value` → (name, value); None when it is neither
    (a name holds no blank, `:` or `=`)."""
    cut = min((i for i in (stripped.find(":"), stripped.find("=")) if i >= 0), default=-1)
    if cut <= 0:
        return None
    name = stripped[:cut].rstrip()
    if not name or any(c.isspace() for c in name):
        return None
    return name, stripped[cut + 1 :].strip()


def parse_ini(text: str, path: str) -> dict[str, dict[str, Entry]]:
    """Sections (the global one named `global` whatever its case) of directives
    (names lower-cased), each value with its line. IniError on a bad header, a
    section or directive given twice, a line that is not `name: value`, or a
    directive before any section."""
    sections: dict[str, dict[str, Entry]] = {}
    current: dict[str, Entry] | None = None
    last: tuple[str, Entry] | None = None
    for lineno, rawline in enumerate(text.splitlines(), start=1):
        line = rawline.rstrip()
        stripped = line.strip()
        if not stripped or stripped[0] in "#;":
            continue
        if line[0] in " \t" and last is not None and current is not None:
            key, entry = last
            merged = Entry(entry.value + "\n" + stripped, entry.path, entry.line)
            current[key] = merged
            last = (key, merged)
            continue
        if stripped.startswith("["):
            if not stripped.endswith("]") or len(stripped) < 3:
                raise IniError(f"bad section header {stripped!r}", path, lineno)
            name = stripped[1:-1].strip()
            if name.lower() == GLOBAL:
                name = GLOBAL
            if name in sections:
                raise IniError(f"section [{name}] appears twice", path, lineno)
            current = sections[name] = {}
            last = None
            continue
        pair = _name_value(stripped)
        if pair is None:
            raise IniError(f"expected 'directive: value', got {stripped!r}", path, lineno)
        key = pair[0].lower()
        if current is None:
            raise IniError(
                "directive before any section (start the file with [global])", path, lineno, key
            )
        if key in current:
            raise IniError("directive set twice in this section", path, lineno, key)
        current[key] = Entry(pair[1], path, lineno)
        last = (key, current[key])
    return sections


def declared_charset(data: bytes) -> str | None:
    """The charset a `config_charset: NAME` line names (PyKota's), else None."""
    for raw in data.splitlines():
        pair = _name_value(raw.strip().decode("ascii", "replace"))
        if pair is not None and pair[0].lower() == "config_charset":
            end = 0
            while end < len(pair[1]) and (
                (pair[1][end].isascii() and pair[1][end].isalnum()) or pair[1][end] in "_.:-"
            ):
                end += 1
            if end:
                return pair[1][:end]
    return None
