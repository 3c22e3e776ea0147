#!/usr/bin/env bash
# PageTally in two minutes, on a fresh Debian 12 as root: install what is missing
# (python3-venv, a .venv with PageTally), then a short story through the admin
# command line on a SQLite store in a scratch folder: printers in a printer group
# with prices, users limited by quota and by balance, a group, quotas, credits,
# jobs recorded by hand (one refused by its quota, one by its balance), then the
# report and the history; then scripts/demo-print.sh: real jobs through a cupsd
# of the demo's own (Debian's stock configuration, its own port and socket),
# PageTally's thin backend, `pagetally serve` and a virtual IPP printer, all
# stopped at the end; the machine's CUPS is left as it was. Re-runnable: every run
# starts from an empty store.
#
#   DEMO_DIR=/tmp/pagetally-demo   where the store and its config go
#   SKIP_INSTALL=1                 use the existing .venv as it is
#   SKIP_PRINTING=1                stop after the command-line story (no CUPS)
set -euo pipefail
cd "$(dirname "$0")/.."

DEMO_DIR=${DEMO_DIR:-/tmp/pagetally-demo}

say() { printf '\n\033[1m== %s\033[0m\n' "$*"; }

# --- install (skipped when already done) ---------------------------------------
if [ "${SKIP_INSTALL:-0}" != 1 ]; then
  if ! python3 -c 'import venv, ensurepip' 2>/dev/null; then
    say "installing python3-venv"
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq
    apt-get install -y -qq --no-install-recommends python3 python3-venv >/dev/null
  fi
  [ -x .venv/bin/python ] || python3 -m venv .venv
  # reinstall only when pyproject.toml changed since the last install
  stamp=.venv/.pagetally-installed
  if [ ! -x .venv/bin/pagetally ] || [ ! -f "$stamp" ] || [ pyproject.toml -nt "$stamp" ]; then
    say "installing PageTally into .venv"
    .venv/bin/pip install -q --disable-pip-version-check -e .
    touch "$stamp"
  fi
fi

# --- a fresh store ---------------------------------------------------------------
rm -rf "$DEMO_DIR"
mkdir -p "$DEMO_DIR"
pt() { .venv/bin/pagetally --config "$DEMO_DIR/pagetally.conf" "$@"; }
refused() {  # a job the rules must refuse: exit code 1
  local rc=0
  pt jobs add "$@" || rc=$?
  [ "$rc" = 1 ] || { echo "demo: expected a refusal (exit 1), got exit $rc" >&2; exit 1; }
}

say "the store: $DEMO_DIR/pagetally.db"
DEMO_DIR="$DEMO_DIR" bash scripts/demo-store.sh

say "printers: two queues inside the printer group 'floor1' (its price is added)"
pt printers add floor1 --price-per-page 0.01 --description "First floor"
pt printers add laser1 --price-per-page 0.05 --price-per-job 0.10
pt printers add color1 --price-per-page 0.10 --price-per-color-page 0.40
pt printers add-to-group floor1 laser1 color1
pt printers list

say "users: alice and bob print against page quotas, carol against a prepaid balance"
pt users add alice bob --limit-by quota --email staff@example.org
pt users add carol --limit-by balance --balance 1.00
pt users credit carol 0.50 --note "paid at the desk"
pt groups add staff
pt groups add-members staff alice bob
pt quotas set --printer laser1 --soft 20 --hard 25 alice bob
pt quotas set --printer 'laser1' --printer 'color1' carol bob   # no limits: accounting
pt quotas set --group --printer floor1 --hard 200 staff
pt users list

say "jobs recorded by hand (photocopies, offline prints): same rules as the backend"
pt jobs add --user alice --printer laser1 --pages 10 --host pc-12 --title "thesis.pdf"
pt jobs add --user alice --printer laser1 --pages 8 --copies 2 --title "handouts"
refused --user alice --printer laser1 --pages 1 --title "one page more"
pt jobs add --user carol --printer color1 --pages 5 --color-pages 4 --title "poster"
refused --user carol --printer color1 --pages 1 --title "with an empty purse"
pt jobs add --user bob --printer color1 --pages 2 --billing-code lab-42 --host pc-07

say "report (PyKota's repykota)"
pt report

say "history"
pt history

# --- the main job for real: CUPS, a virtual printer, pagetally serve, real jobs -------
[ "${SKIP_PRINTING:-0}" = 1 ] || DEMO_DIR="$DEMO_DIR" bash scripts/demo-print.sh

say "done: try 'pt report --format json' with pt() { .venv/bin/pagetally --config $DEMO_DIR/pagetally.conf \"\$@\"; }"
