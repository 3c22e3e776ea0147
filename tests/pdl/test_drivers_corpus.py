"""Real driver chains outside PCL (tests/corpus/gen_drivers.py): Gutenprint's
ESC/P2, Canon and PCL families, epson-escpr, brlaser, CUPS' rastertoepson, every foo2zjs-family
wrapper and colour mode, netpbm's printer converters and the Ghostscript devices
the older corpus leaves out.

Each output either counts exactly what its source holds, or, where the data
cannot give the count, is refused: a wrong count is never acceptable. A tally per
family (exact / refused / wrong) is written to corpus/drivers-tally.md.
"""

from __future__ import annotations

import mmap
from collections import Counter

import pytest

from pagetally.errors import PdlError
from pagetally.pdl import registry
from pagetally.pdl.detect import detect
from pagetally.pdl.formats import escp
from tests.corpus import CORPUS_DIR, CorpusFile, build

pytestmark = [pytest.mark.slow, pytest.mark.corpus]

FAMILIES = (
    "gutenprint-escp2", "gutenprint-canon", "gutenprint-pcl", "epson-escpr", "brlaser",
    "cups-rastertoepson", "foo2", "netpbm", "ghostscript",
)  # fmt: skip


@pytest.fixture(scope="module")
def corpus() -> list[CorpusFile]:
    return build("gen_drivers")


def _family(item: CorpusFile) -> str:
    return item.generator.split(":", 1)[0]


def _verdict(item: CorpusFile) -> str:
    """ "exact", "refused" (as it must be, or a count refused: allowed) or "wrong: …"."""
    parser = registry.get(item.format)
    with item.path.open("rb") as fh, mmap.mmap(fh.fileno(), 0, access=mmap.ACCESS_READ) as mm:
        try:
            pages = parser.count(mm).pages
        except PdlError:
            return "refused"
    if item.refused:
        return f"wrong: {pages} pages for a job that must be refused"
    return "exact" if pages == item.pages else f"wrong: {pages} pages, the source has {item.pages}"


def test_every_family_is_in_the_matrix(corpus: list[CorpusFile]) -> None:
    families = Counter(_family(item) for item in corpus)
    assert set(families) == set(FAMILIES)
    assert min(families.values()) >= 3 and len(corpus) >= 80


def test_counts_are_exact_or_refused_never_wrong(corpus: list[CorpusFile]) -> None:
    tally: dict[str, Counter[str]] = {}
    wrong = []
    for item in corpus:
        family = _family(item)
        verdict = _verdict(item)
        tally.setdefault(family, Counter())[verdict.split(":")[0]] += 1
        if verdict.startswith("wrong") or (verdict == "refused" and not item.refused):
            wrong.append(f"{item.path.name} ({item.generator}): {verdict}")
    lines = ["| family | outputs | exact | refused | wrong |", "|---|---:|---:|---:|---:|"]
    for family in FAMILIES:
        t = tally.get(family, Counter())
        lines.append(
            f"| {family} | {sum(t.values())} | {t['exact']} | {t['refused']} | {t['wrong']} |"
        )
    CORPUS_DIR.mkdir(exist_ok=True)
    (CORPUS_DIR / "drivers-tally.md").write_text("\n".join(lines) + "\n")
    assert not wrong


def test_detection_picks_the_driver_language(corpus: list[CorpusFile]) -> None:
    wrong = []
    for item in corpus:
        with item.path.open("rb") as fh:
            found = detect(fh.read(1 << 20))
        if found.parser.name != item.format or found.also:
            wrong.append(f"{item.path.name}: {found.parser.name} {found.also}")
    assert not wrong


def test_esc_p_both_paths_agree(corpus: list[CorpusFile], monkeypatch: pytest.MonkeyPatch) -> None:
    """The NumPy command index (jobs above 1 MB) and the exact walk give the same count."""
    for item in corpus:
        if item.format not in ("escp", "escpr"):
            continue
        data = item.path.read_bytes()
        monkeypatch.setattr(escp, "MIN_SIZE", 1 << 40)
        exact = escp.scan(data).pages
        monkeypatch.setattr(escp, "MIN_SIZE", 0)
        assert escp.scan(data).pages == exact == item.pages, item.path.name
