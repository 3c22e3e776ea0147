"""The PCL/PCL XL generator matrix (tests/corpus/gen_pcl_matrix.py): exact or refused.

Every Ghostscript device of the PCL families at two resolutions where it takes
them, and the HP driver chains (hpcups across PCL3GUI, PCL3, LaserJet PCL,
FastRaster and JetReady; hpijs; pxljr), made from one 4-page master: each output
is counted exactly (the source's pages times the copies asked) on every path a
parser has, or refused with a PdlError; never a wrong count. Nothing is refused
today, and the test says so, so a regression to a refusal shows too.
"""

from __future__ import annotations

from collections import Counter

import pytest

from pagetally.errors import PdlError
from pagetally.pdl import analyse
from pagetally.pdl.detect import detect
from pagetally.pdl.formats import pcl, pclxl
from tests.corpus import CorpusFile, build

pytestmark = [pytest.mark.slow, pytest.mark.corpus]

REFUSED: set[str] = set()  # outputs refused on purpose (none)


@pytest.fixture(scope="module")
def matrix() -> list[CorpusFile]:
    return build("gen_pcl_matrix")


def _paths(item: CorpusFile) -> list[tuple[str, int]]:
    """(path name, pages) on every walk the parser has."""
    data = item.path.read_bytes()
    if item.format == "pcl":
        out = []
        for name, size in (("exact", 1 << 40), ("vectorised", 0)):
            old = pcl.MIN_SIZE
            pcl.MIN_SIZE = size
            try:
                out.append((name, pcl.scan(data).pages))
            finally:
                pcl.MIN_SIZE = old
        return out
    if item.format == "pclxl":
        walkers = (("regex", False), ("loop", True))
        return [(name, pclxl.scan(data, compiled=c).pages) for name, c in walkers]
    return []


def test_every_output_is_exact_or_refused(matrix: list[CorpusFile]) -> None:
    wrong, refused = [], set()
    for item in matrix:
        try:
            got = analyse(item.path)
        except PdlError:
            refused.add(item.path.name)
            continue
        if got.pages != item.pages:
            wrong.append(f"{item.path.name} ({item.generator}): {got.pages}, truth {item.pages}")
        for name, pages in _paths(item):
            if pages != item.pages:
                wrong.append(f"{item.path.name} [{name}]: {pages}, truth {item.pages}")
    assert not wrong
    assert refused == REFUSED


def test_detection_picks_the_family(matrix: list[CorpusFile]) -> None:
    wrong = [
        f"{f.path.name}: {d.parser.name} (also {d.also})"
        for f in matrix
        if (d := detect(f.path.read_bytes())).parser.name != f.format or d.also
    ]
    assert not wrong


def test_the_matrix_is_whole(matrix: list[CorpusFile]) -> None:
    families = Counter(f.format for f in matrix)
    assert families == Counter({"pcl": 89, "pclxl": 12, "dj505j": 2}), "update on purpose"
    assert sum(1 for f in matrix if f.path.name.startswith("cups-")) == 13
