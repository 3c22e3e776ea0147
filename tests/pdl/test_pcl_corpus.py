"""PCL, PCL XL and ESC/P files made by Ghostscript (tests/corpus/gen_pcl.py).

Every file must count exactly what its independent oracle says (qpdf or
Ghostscript's bbox device on the source, times the copies asked), on every path
a parser has: PCL's and ESC/P's exact walks and their NumPy indexes, PCL XL's regular
expression walker and its token loop (compiled when built, interpreted
otherwise), through memory maps as the backend reads jobs; and the detector must
pick the maker's language among all registered parsers.
"""

from __future__ import annotations

import mmap
from collections import Counter
from collections.abc import Callable
from typing import Any

import pytest

from pagetally.pdl import analyse, registry
from pagetally.pdl.base import Analysis, Buffer
from pagetally.pdl.detect import detect
from pagetally.pdl.formats import escp, pcl, pclxl
from tests.corpus import CorpusFile, build
from tests.corpus.gen_pcl import DEVICES

pytestmark = [pytest.mark.slow, pytest.mark.corpus]


@pytest.fixture(scope="module")
def corpus() -> list[CorpusFile]:
    return build("gen_pcl")


def _with(module: Any, min_size: int, scan: Callable[[Buffer], Analysis], data: Buffer) -> Analysis:
    """Run `scan` with `module.MIN_SIZE` set (which path a parser takes)."""
    old = module.MIN_SIZE
    module.MIN_SIZE = min_size
    try:
        return scan(data)
    finally:
        module.MIN_SIZE = old


def _exact(data: Buffer) -> Analysis:
    old = pcl.MIN_SIZE
    pcl.MIN_SIZE = 1 << 40
    try:
        return pcl.scan(data)
    finally:
        pcl.MIN_SIZE = old


def _pcl_vectorised(data: Buffer) -> Analysis:
    old = pcl.MIN_SIZE
    pcl.MIN_SIZE = 0
    try:
        return pcl.scan(data)
    finally:
        pcl.MIN_SIZE = old


PATHS: dict[str, list[tuple[str, Callable[[Buffer], Analysis]]]] = {
    "pcl": [("exact", _exact), ("vectorised", _pcl_vectorised)],
    "pclxl": [("regex", lambda d: pclxl.scan(d, compiled=False)),
              ("loop", lambda d: pclxl.scan(d, compiled=True))],
    "escp": [("exact", lambda d: _with(escp, 1 << 40, escp.scan, d)),
             ("vectorised", lambda d: _with(escp, 0, escp.scan, d))],
}  # fmt: skip


def test_every_device_is_in_the_corpus(corpus: list[CorpusFile]) -> None:
    made = Counter(f.generator.split()[1].removeprefix("-sDEVICE=") for f in corpus)
    assert set(made) == set(DEVICES)
    assert Counter(f.format for f in corpus) == Counter({"pcl": 11, "pclxl": 7, "escp": 7}), (
        "the corpus shrank: update this census on purpose"
    )


def test_counts_equal_the_oracle_on_every_path(corpus: list[CorpusFile]) -> None:
    wrong = []
    for item in corpus:
        with item.path.open("rb") as fh, mmap.mmap(fh.fileno(), 0, access=mmap.ACCESS_READ) as mm:
            for path_name, count in PATHS[item.format]:
                got = count(mm)
                if got.pages != item.pages:
                    wrong.append(
                        f"{item.path.name} [{path_name}]: {got.pages}, "
                        f"{item.oracle} says {item.pages}"
                    )
    assert not wrong


def test_detection_picks_the_maker_language(corpus: list[CorpusFile]) -> None:
    parsers = registry.parsers()
    wrong = []
    for item in corpus:
        found = detect(item.path.read_bytes(), parsers)
        if found.parser.name != item.format or found.also:
            wrong.append(f"{item.path.name}: {found.parser.name} {found.confidence} {found.also}")
    assert not wrong


def test_copies_asked_in_the_job_are_in_the_count(corpus: list[CorpusFile]) -> None:
    by_name = {f.path.name: f for f in corpus}
    ljet4 = analyse(by_name["ljet4-gpl-x3.prn"].path)  # ESC &l3X
    assert (ljet4.pages, ljet4.copies) == (by_name["ljet4-gpl-x3.prn"].pages, 3)
    pxl = analyse(by_name["pxlmono-gpl-x2.prn"].path)  # PageCopies 2
    assert (pxl.pages, pxl.copies) == (by_name["pxlmono-gpl-x2.prn"].pages, 2)
    assert pxl.pages == 2 * analyse(by_name["pxlmono-gpl-x1.prn"].path).pages


def test_public_analyse_agrees(corpus: list[CorpusFile]) -> None:
    wrong = [
        f"{f.path.name}: {a.format} {a.pages} != {f.pages}"
        for f in corpus
        if (a := analyse(f.path)).pages != f.pages
    ]
    assert not wrong
