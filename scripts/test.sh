#!/usr/bin/env bash
# Install everything the tests need on a fresh Debian 12 (as root) and run them all:
# Debian packages from scripts/apt-packages.txt, a virtualenv in .venv with the
# pinned Python packages, then ruff (lint and format), mypy --strict and the whole pytest suite
# (the slow suites start their own servers: PostgreSQL, MariaDB, cupsd, ...).
# Extra arguments go to pytest, e.g. `SKIP_INSTALL=1 bash scripts/test.sh -m "not slow" -n auto`
# (the fast core on every core; -n takes the fast core only, see tests/conftest.py).
# SKIP_INSTALL=1 skips apt and pip (a developer's second run).
set -euo pipefail
cd "$(dirname "$0")/.."

if [ "${SKIP_INSTALL:-0}" != 1 ]; then
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  grep -v '^\s*#' scripts/apt-packages.txt | grep -v '^\s*$' \
    | xargs apt-get install -y -qq --no-install-recommends >/dev/null
  [ -x .venv/bin/python ] || python3 -m venv .venv
  .venv/bin/pip install -q --disable-pip-version-check -e '.[all,test]'
  # pagetally-client: its own small package (client/), tested with the server
  .venv/bin/pip install -q --disable-pip-version-check -e ./client
fi

echo "== ruff"; .venv/bin/ruff check pagetally tests bench client
echo "== ruff format"; .venv/bin/ruff format --check --quiet . || {
  echo "ruff format would change the files above: run .venv/bin/ruff format ." >&2; exit 1; }
echo "== mypy --strict"; .venv/bin/mypy
echo "== pytest"
set +e
.venv/bin/pytest "$@"
rc=$?
set -e
# pytest's 5 means "no tests collected": a failure for us, never a pass.
[ "$rc" = 5 ] && echo "pytest collected no tests" >&2 && exit 1
exit "$rc"
