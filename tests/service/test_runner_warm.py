"""The job runner fills, before forking, the caches every job would fill again."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest

# in a fresh interpreter: this test process has filled those caches already
CHECK = """
import re, sys
from pagetally.service import jobs, protocol
from pagetally.core import codec
jobs.preload()
conf = sys.argv[1]
from pagetally.config import load_config
from pagetally import pdl
regexes, hints = len(re._cache), codec._hints.cache_info().misses
load_config(conf, {})
pdl.analyse(sys.argv[2])
for op in protocol.OPS.values():
    jobs._warm_types(op.result, set())
print(len(re._cache) - regexes, codec._hints.cache_info().misses - hints)
"""


@pytest.mark.slow
def test_a_job_after_preload_compiles_no_pattern_and_computes_no_type_hints(
    tmp_path: Path,
) -> None:
    conf = tmp_path / "pagetally.conf"
    conf.write_text(
        "[global]\nstoragebackend: sqlite\nstoragename: /x/pt.db\n"
        "accountingservice: /run/pt.sock\nlogger: stderr\n"
        "[lab]\naccounter: software()\nonaccountererror: continue\n"
    )
    pdf = "/usr/share/cups/data/default-testpage.pdf"
    out = subprocess.run(
        [sys.executable, "-c", CHECK, str(conf), pdf], capture_output=True, text=True, check=True
    ).stdout.split()
    assert out == ["0", "0"], "a child would compile patterns / compute type hints again"


def test_sample_config_is_a_valid_configuration(tmp_path: Path) -> None:
    from pagetally.config import load_config
    from pagetally.service.jobs import SAMPLE_CONFIG

    conf = tmp_path / "pagetally.conf"
    conf.write_text(SAMPLE_CONFIG)
    config = load_config(str(conf), {})
    assert config.get("accounter", "lab") == "software()"
    assert re.search(r"^\[global\]", SAMPLE_CONFIG, re.M)
