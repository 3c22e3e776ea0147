"""Optional build hook: PAGETALLY_MYPYC=1 compiles the hot scanning loops with mypyc.

All metadata lives in pyproject.toml; this file only adds compiled extensions when
asked. The package works without them (interpreted twins give the same answers):

    PAGETALLY_MYPYC=1 pip install --no-build-isolation .   # needs mypy, a C compiler
                                                           # and setuptools>=77 installed
For a source checkout, `bash scripts/build-mypyc.sh` compiles in place instead.
"""

import os

from setuptools import setup

# Modules written for mypyc: plain typed Python, imported by their interpreted users.
MYPYC_MODULES = ["pagetally/pdl/formats/_pclxl_tokens.py"]

ext_modules = []
if os.environ.get("PAGETALLY_MYPYC") == "1":
    from mypyc.build import mypycify

    ext_modules = mypycify(MYPYC_MODULES, opt_level="3")

setup(ext_modules=ext_modules)
