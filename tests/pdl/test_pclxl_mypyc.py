"""The optional mypyc build of the PCL XL token walker gives the interpreted answers.

Compiles `_pclxl_tokens.py` in a scratch copy of the package layout (never in the
work tree, where other tests import it), loads the compiled module in a child
process and compares its counts with the interpreted walker's on the corpus.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from pagetally.pdl.formats import pclxl
from tests.corpus import build

pytestmark = [pytest.mark.slow, pytest.mark.corpus]

SOURCE = Path(pclxl.__file__).with_name("_pclxl_tokens.py")

BUILD = """
import sys
from mypyc.build import mypycify
from setuptools import setup
setup(name="t", ext_modules=mypycify([sys.argv[1]], opt_level="3"),
      script_args=["-q", "build_ext", "--inplace"])
"""

RUN = """
import json, sys
sys.path.insert(0, sys.argv[1])
from pagetally.pdl.formats import _pclxl_tokens as t
assert not t.__file__.endswith(".py"), t.__file__
out = {}
for name in sys.argv[2:]:
    data = open(name, "rb").read()
    counts = [0, 0, 0, 0, 1 << 30, 0, -1, -1]
    start = data.index(b"\\n", data.index(b" HP-PCL XL;")) + 1
    pos, status = t.walk(data, start, False, counts)
    out[name] = [pos, status, *counts]
print(json.dumps(out))
"""


def test_compiled_walker_matches_interpreted(tmp_path: Path) -> None:
    if shutil.which("cc") is None and shutil.which("gcc") is None:
        pytest.fail("a C compiler is needed (CI installs build-essential with Python)")
    pkg = tmp_path / "pagetally" / "pdl" / "formats"
    pkg.mkdir(parents=True)
    for d in (pkg, pkg.parent, pkg.parent.parent):
        (d / "__init__.py").write_text("")
    shutil.copy(SOURCE, pkg / SOURCE.name)
    subprocess.run(
        [sys.executable, "-c", BUILD, "pagetally/pdl/formats/_pclxl_tokens.py"],
        cwd=tmp_path,
        check=True,
        capture_output=True,
        timeout=300,
    )
    assert list(pkg.glob("_pclxl_tokens*.so"))
    files = [str(f.path) for f in build("gen_pcl") if f.format == "pclxl"]
    res = subprocess.run(
        [sys.executable, "-c", RUN, str(tmp_path), *files],
        check=True,
        capture_output=True,
        timeout=300,
    )
    compiled = json.loads(res.stdout)
    interpreted_walk = pclxl._source_tokens().walk
    for name in files:
        data = Path(name).read_bytes()
        counts = [0, 0, 0, 0, 1 << 30, 0, -1, -1]
        start = data.index(b"\n", data.index(b" HP-PCL XL;")) + 1
        pos, status = interpreted_walk(data, start, False, counts)
        assert compiled[name] == [pos, status, *counts], name
        assert counts[1] > 0
