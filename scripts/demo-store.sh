#!/usr/bin/env bash
# The demo's empty store: DEMO_DIR/pagetally.conf (a SQLite store, EUR, the
# accounting service's sockets in DEMO_DIR/run, logs on stderr) and the database
# it names, created by `pagetally db upgrade`. Used by scripts/demo.sh (every run
# starts from here) and by scripts/demo-print.sh when run alone.
#
#   DEMO_DIR=/tmp/pagetally-demo   where the store and its config go (made if missing)
#   PAGETALLY=PATH                 the pagetally command (default .venv/bin/pagetally)
set -euo pipefail
cd "$(dirname "$0")/.."

DEMO_DIR=${DEMO_DIR:-/tmp/pagetally-demo}
mkdir -p "$DEMO_DIR"
cat >"$DEMO_DIR/pagetally.conf" <<CONF
[global]
storagebackend: sqlite
storagename: $DEMO_DIR/pagetally.db
currency: EUR
accountingservice: $DEMO_DIR/run/pagetally.sock
logger: stderr
CONF
"${PAGETALLY:-$(pwd)/.venv/bin/pagetally}" --config "$DEMO_DIR/pagetally.conf" db upgrade
