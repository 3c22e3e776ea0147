"""Host-based languages made by third-party drivers (tests/corpus/gen_hostbased.py).

Every file must count exactly what its independent oracle says (source pages from
qpdf / Ghostscript's bbox device, times the copies asked, checked against the
foo2zjs decoders where they print pages), and the right parser must win detection
over every other registered parser on the job's head.
"""

from __future__ import annotations

import mmap
from collections import Counter

import pytest

from pagetally.pdl import registry
from pagetally.pdl.formats._host import skip_pjl
from tests.corpus import CorpusFile, build

pytestmark = [pytest.mark.slow, pytest.mark.corpus]


@pytest.fixture(scope="module")
def corpus() -> list[CorpusFile]:
    return build("gen_hostbased")


def test_every_language_is_in_the_corpus(corpus: list[CorpusFile]) -> None:
    formats = Counter(f.format for f in corpus)
    for name in (
        "zjs", "slx", "xqx", "oak", "hiperc", "hbpl", "qpdl", "ddst",
        "lava", "escpage", "lips", "bjc", "sfax", "lidil",
    ):  # fmt: skip
        assert formats[name] >= 2, name


def test_counts_equal_the_oracle(corpus: list[CorpusFile]) -> None:
    by_name = {p.name: p for p in registry.parsers()}
    wrong = []
    for item in corpus:
        with item.path.open("rb") as fh, mmap.mmap(fh.fileno(), 0, access=mmap.ACCESS_READ) as mm:
            pages = by_name[item.format].count(mm).pages
        if pages != item.pages:
            wrong.append(f"{item.path.name}: {pages} pages, {item.oracle} says {item.pages}")
    assert not wrong


def test_detection_picks_the_maker_language(corpus: list[CorpusFile]) -> None:
    parsers = registry.parsers()
    wrong = []
    for item in corpus:
        data = item.path.read_bytes()
        head = data[skip_pjl(data) :][:65536]
        scores = sorted(((p.detect(head), p.name) for p in parsers), reverse=True)
        if scores[0][1] != item.format or scores[0][0] == scores[1][0]:
            wrong.append(f"{item.path.name}: {scores[:3]}")
    assert not wrong


def test_copies_asked_in_the_job_are_in_the_count(corpus: list[CorpusFile]) -> None:
    by_name = {p.name: p for p in registry.parsers()}
    with_copies = [f for f in corpus if "copies" in f.oracle]
    assert len(with_copies) >= 8
    for item in with_copies:
        analysis = by_name[item.format].count(item.path.read_bytes())
        assert analysis.copies == 2, item.path.name
        assert analysis.pages == item.pages
