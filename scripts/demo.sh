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
#   WEB_PORT=8632                  the web interface's port (127.0.0.1); SKIP_WEB=1: none
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
    .venv/bin/pip install -q --disable-pip-version-check -e '.[web]'
    touch "$stamp"
  fi
fi

# --- a fresh store ---------------------------------------------------------------
# the web interface a previous run left running: stopped by the pid it wrote
if [ -f "$DEMO_DIR/web.pid" ]; then
  kill "$(cat "$DEMO_DIR/web.pid")" 2>/dev/null || true
fi
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

# --- the web interface: left running for you to look at ------------------------------
if [ "${SKIP_WEB:-0}" != 1 ]; then
  WEB_PORT=${WEB_PORT:-8632}
  say "the web interface (users see themselves; root is an admin here)"
  # the web's directives belong to [global] (the queue's own section comes after it)
  sed -i "/^\[global\]\$/a webauth: local\nwebadmins: root\nwebport: $WEB_PORT" \
    "$DEMO_DIR/pagetally.conf"
  pt users add root --limit-by noquota --description "the demo's web admin"
  for who in alice carol root; do
    echo "demo-password" | pt web-password "$who" --stdin
  done
  setsid .venv/bin/pagetally --config "$DEMO_DIR/pagetally.conf" web \
    >"$DEMO_DIR/web.log" 2>&1 </dev/null &
  echo $! >"$DEMO_DIR/web.pid"
  web_up() {
    .venv/bin/python -c "import sys, urllib.request as u; u.urlopen(sys.argv[1], timeout=2)" \
      "http://127.0.0.1:$WEB_PORT/login" 2>/dev/null
  }
  for _ in $(seq 1 150); do
    web_up && break
    kill -0 "$(cat "$DEMO_DIR/web.pid")" 2>/dev/null || break
    sleep 0.2
  done
  if web_up; then
    echo "PageTally web interface: http://127.0.0.1:$WEB_PORT/"
    echo "  log in as alice, carol (users) or root (admin), password demo-password"
    echo "  stop it with: kill \$(cat $DEMO_DIR/web.pid)"
  else
    echo "demo: the web interface did not start (see $DEMO_DIR/web.log)" >&2
    exit 1
  fi
fi

say "done: try 'pt report --format json' with pt() { .venv/bin/pagetally --config $DEMO_DIR/pagetally.conf \"\$@\"; }"
