#!/usr/bin/env bash
# Compile PageTally's hot scanning loops with mypyc, in place (optional).
#
# The package runs without this: each compiled module has an interpreted path
# that gives the same answers. Needs a C compiler and the Python headers.
#   bash scripts/build-mypyc.sh          # compile
#   bash scripts/build-mypyc.sh --clean  # remove the compiled modules again
# For an installed package: PAGETALLY_MYPYC=1 pip install .   (see setup.py)
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT="$PWD"
PY="${PYTHON:-$ROOT/.venv/bin/python}"
MODULES=(pagetally/pdl/formats/_pclxl_tokens.py)
for m in "${MODULES[@]}"; do rm -f "${m%.py}"*.so; done
if [[ "${1:-}" == "--clean" ]]; then
  rm -rf build/mypyc
  exit 0
fi
# Build outside the project root so setuptools does not read pyproject.toml.
for m in "${MODULES[@]}"; do mkdir -p "build/mypyc/$(dirname "$m")"; done
cd build/mypyc
"$PY" - "${MODULES[@]/#/$ROOT/}" <<'PYEOF'
import sys
from mypyc.build import mypycify
from setuptools import setup
mods = sys.argv[1:]
setup(
    name="pagetally-mypyc",
    ext_modules=mypycify(mods, opt_level="3"),
    script_args=["-q", "build_ext", "--inplace"],
)
PYEOF
for m in "${MODULES[@]}"; do cp "${m%.py}"*.so "$ROOT/$(dirname "$m")/"; done
cd "$ROOT"
"$PY" -c "import pagetally.pdl.formats.pclxl as m; print('pclxl walker:', 'compiled' if m.COMPILED else 'NOT compiled')"
