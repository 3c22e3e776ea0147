"""Every file of the third-party corpus (all tests/corpus/gen_*.py) counted by analyse().

Each file must be recognised by the parser its generator names and counted exactly
as its independent oracle says (qpdf, pdfinfo, Ghostscript, tiffinfo, dvitype,
pamfile, enscript, the generator's own count), copies included. At the end the
table "format × files × exact" is written to corpus/pdl-table.md and shown in
the terminal summary, for the notes.
"""

from __future__ import annotations

import contextlib
from collections import defaultdict
from collections.abc import Iterator
from pathlib import Path

import pytest

from pagetally.errors import PdlError
from pagetally.pdl import analyse, detect
from tests.corpus import CORPUS_DIR, CorpusFile, build

pytestmark = [pytest.mark.slow, pytest.mark.corpus]

# parser name → [files, exact, detected right]
_RESULTS: dict[str, list[int]] = defaultdict(lambda: [0, 0, 0])
_WRONG: list[str] = []


def _selected(config: pytest.Config) -> bool:
    """Whether -m would keep a test marked slow+corpus (do not build the corpus otherwise)."""
    expr = config.option.markexpr
    if not expr:
        return True
    try:
        from _pytest.mark.expression import Expression

        compiled = Expression.compile(expr)
    except Exception:
        return True
    try:
        return bool(compiled.evaluate(lambda name, **kw: name in {"slow", "corpus"}))
    except TypeError:  # older pytest: matcher takes the name only
        return bool(compiled.evaluate(lambda name: name in {"slow", "corpus"}))  # type: ignore[call-arg,arg-type]


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    if "item" not in metafunc.fixturenames:
        return
    files = build() if _selected(metafunc.config) else []
    metafunc.parametrize(
        "item", files, ids=[f"{f.format}-{f.path.parent.name}-{f.path.name}" for f in files]
    )


def _table() -> str:
    lines = ["| format | files | exact | detected |", "|---|---:|---:|---:|"]
    total = [0, 0, 0]
    for name in sorted(_RESULTS):
        files, exact, detected = _RESULTS[name]
        lines.append(f"| {name} | {files} | {exact} | {detected} |")
        total = [t + v for t, v in zip(total, _RESULTS[name], strict=True)]
    lines.append(f"| **all** | {total[0]} | {total[1]} | {total[2]} |")
    if _WRONG:
        lines += ["", "Not exact:", *(f"- {w}" for w in _WRONG)]
    return "\n".join(lines) + "\n"


@pytest.fixture(scope="module", autouse=True)
def _write_table(request: pytest.FixtureRequest) -> Iterator[None]:
    yield
    if not _RESULTS:
        return
    table = _table()
    CORPUS_DIR.mkdir(exist_ok=True)
    (CORPUS_DIR / "pdl-table.md").write_text(table)
    reporter = request.config.pluginmanager.get_plugin("terminalreporter")
    capture = request.config.pluginmanager.get_plugin("capturemanager")
    if reporter is not None:
        with capture.global_and_fixture_disabled() if capture else contextlib.nullcontext():
            reporter.write_line("")
            for line in table.splitlines():
                reporter.write_line(line)


def test_count_equals_the_oracle(item: CorpusFile) -> None:
    row = _RESULTS[item.format]
    row[0] += 1
    path = Path(item.path)
    with path.open("rb") as fh:
        head = fh.read(1 << 20)
    detected = detect(head).parser.name
    if detected == item.format:
        row[2] += 1
    try:
        pages: int | str = analyse(path).pages
    except PdlError as exc:
        pages = f"{type(exc).__name__}: {exc}"
    if item.refused:  # a count the data cannot give: refused, whatever it says
        assert detected == item.format and isinstance(pages, str), f"{item.generator}: {pages}"
        row[1] += 1
        return
    if pages == item.pages:
        row[1] += 1
    else:
        _WRONG.append(f"{path.parent.name}/{path.name}: {pages}, {item.oracle} says {item.pages}")
    assert (detected, pages) == (item.format, item.pages), f"{item.generator}, {item.oracle}"
