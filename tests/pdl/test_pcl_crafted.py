"""Crafted PCL and PCL XL jobs, class by class, against GhostPCL's printed pages.

The jobs come from the generators in _pcl_crafted.py (seeded variations of each
class); their truths were recorded with GhostPCL 10.09 in data/pcl_crafted.json
(how: see _pcl_crafted.py). A count below the truth is the defect this guards
against; every class is counted exactly, except where GhostPCL reads white space
after a UEL as PCL text, where one page more is allowed (never one fewer).
"""

from __future__ import annotations

import json
import random

import pytest

from pagetally.pdl import analyse
from pagetally.pdl.formats import pcl, pclxl
from tests.pdl import _pcl_crafted as crafted

TRUTHS = json.loads(crafted.DATA.read_text())
CASES = crafted.cases()
OVER_BY_ONE = {"pclxl_streams"}  # see the module docstring


@pytest.mark.parametrize(("name", "parser", "job"), CASES, ids=[c[0] for c in CASES])
def test_count_equals_ghostpcl(name: str, parser: str, job: bytes) -> None:
    truth = TRUTHS[name]
    assert crafted.digest(job) == truth["sha256"], "the generator changed: record the truths again"
    if parser == "pcl":
        got = [pcl.scan(job, start=0).pages]
        old = pcl.MIN_SIZE
        try:
            pcl.MIN_SIZE = 0  # the NumPy raster index too
            got.append(pcl.scan(job).pages)
        finally:
            pcl.MIN_SIZE = old
    else:
        got = [pclxl.scan(job, compiled=False).pages, pclxl.scan(job, compiled=True).pages]
    slack = 1 if name.rsplit("-", 1)[0] in OVER_BY_ONE else 0
    for pages in got:
        assert truth["pages"] <= pages <= truth["pages"] + slack, (name, got, truth)


def test_every_class_is_covered() -> None:
    assert {c[0].rsplit("-", 1)[0] for c in CASES} == set(crafted.CLASSES)
    assert set(TRUTHS) == {c[0] for c in CASES}


def test_a_job_that_starts_as_text_is_counted_as_pcl_through_the_detector() -> None:
    job = crafted.text_then_pcl(random.Random("text_then_pcl-0"))
    a = analyse(job)
    assert (a.format, a.pages) == ("PCL", TRUTHS["text_then_pcl-0"]["pages"])


def test_unfollowable_wrap_is_refused_with_its_offset() -> None:
    """End-of-line wrap in a chosen font: where lines break is not known, so no count."""
    job = crafted.R + b"\x1b&s0C\x1b(s24V" + b"wrap me " * 400 + crafted.R
    with pytest.raises(pcl.CorruptData, match=r"offset \d+"):
        pcl.scan(job)


def test_macro_recursion_and_huge_counts_stay_bounded() -> None:
    from pagetally.errors import LimitReached
    from pagetally.pdl.base import Limits

    e = b"\x1b"
    rec = crafted.R + e + b"&f1Y" + e + b"&f0X" + b"p\x0c" + e + b"&f3X" + e + b"&f1X"
    assert pcl.scan(rec + e + b"&f3X" + crafted.R).pages == 3  # GhostPCL: 3 levels
    bomb = crafted.R + e + b"&f1Y" + e + b"&f0X" + b"p\x0c" + e + b"&f1X"
    bomb += (e + b"&f2X") * 5000 + crafted.R
    with pytest.raises(LimitReached):
        pcl.scan(bomb, Limits(max_pages=1000))
