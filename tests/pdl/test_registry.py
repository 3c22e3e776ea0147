"""The registry finds built-in parsers and a site's own through entry points."""

from __future__ import annotations

import textwrap
from collections.abc import Iterator
from pathlib import Path

import pytest

from pagetally.pdl import analyse, registry

BUILTIN = {"pdf", "postscript", "text", "tiff", "image", "pnm", "dvi", "odf", "ooxml", "msword"}

PLUGIN = """
from pagetally.pdl.base import Analysis

class AcmeParser:
    name = "acme"
    format = "ACME page language"

    def detect(self, head):
        return 1.0 if head.startswith(b"ACME1") else 0.0

    def count(self, data, limits=None):
        return Analysis(self.format, data.count(b"PAGE"))

class LouderText:
    name = "text"
    format = "site text"

    def detect(self, head):
        return 0.1

    def count(self, data, limits=None):
        return Analysis(self.format, 42)

PARSERS = [AcmeParser(), LouderText()]
"""


def _dist(site: Path, pkg: str, entry_points: str, code: str) -> None:
    (site / pkg).mkdir(parents=True)
    (site / pkg / "__init__.py").write_text(code)
    info = site / f"{pkg}-1.0.dist-info"
    info.mkdir()
    (info / "METADATA").write_text(f"Metadata-Version: 2.1\nName: {pkg}\nVersion: 1.0\n")
    (info / "entry_points.txt").write_text(textwrap.dedent(entry_points))


@pytest.fixture
def fresh_registry() -> Iterator[None]:
    registry.refresh()
    yield
    registry.refresh()


def test_builtin_parsers_are_found(fresh_registry: None) -> None:
    assert BUILTIN <= set(registry.names())
    assert not [
        e
        for e in registry.load_errors()
        if "pagetally.pdl.formats" in e
        and any(
            f".{n}:" in e for n in ("pdf", "postscript", "text", "image", "pnm", "dvi", "office")
        )
    ]


def test_site_plugin_through_entry_point(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, fresh_registry: None
) -> None:
    _dist(
        tmp_path,
        "acmeprint",
        """
        [pagetally.pdl]
        acme = acmeprint:PARSERS
        broken = acmeprint:NOT_THERE
        """,
        PLUGIN,
    )
    monkeypatch.syspath_prepend(str(tmp_path))
    registry.refresh()
    assert "acme" in registry.names()
    a = analyse(b"ACME1 PAGE PAGE PAGE")
    assert (a.format, a.pages) == ("ACME page language", 3)
    # the site's "text" replaces the built-in one
    assert registry.get("text").format == "site text"
    assert analyse(b"just words\n").pages == 42
    errors = registry.load_errors()
    assert any("broken" in e and "NOT_THERE" in e for e in errors)


def test_entry_point_that_is_not_a_parser(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, fresh_registry: None
) -> None:
    _dist(tmp_path, "junkplug", "[pagetally.pdl]\njunk = junkplug:X\n", "X = 42\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    registry.refresh()
    assert "pdf" in registry.names()
    assert any("is not a pdl Parser" in e for e in registry.load_errors())


def test_the_format_modules_are_found_as_pkgutil_finds_them(tmp_path: Path) -> None:
    # The registry lists the formats package itself (pkgutil would import `inspect`
    # into every count); it must find exactly what pkgutil finds.
    import pkgutil

    from pagetally.pdl import formats, registry

    folder = tmp_path / "pkg"
    (folder / "sub").mkdir(parents=True)
    (folder / "sub" / "__init__.py").write_text("")
    (folder / "nodir").mkdir()
    for name in (
        "a.py",
        "b.cpython-311-x86_64-linux-gnu.so",
        "c.abi3.so",
        "not-a-name.py",
        "d.txt",
        "__init__.py",
        "_e.py",
    ):
        (folder / name).write_text("")
    for path in ([str(folder)], list(formats.__path__)):
        assert registry._module_names(path) == {i.name for i in pkgutil.iter_modules(path)}
