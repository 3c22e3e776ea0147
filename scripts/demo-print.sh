#!/usr/bin/env bash
# The main job for real, on a fresh Debian 12 as root: CUPS with a virtual IPP
# printer (ippeveprinter), a queue wrapped by PageTally's backend, real jobs with
# `lp` (one allowed, two refused: page quota and balance), what CUPS shows for
# each, and PageTally's report and history. Called by scripts/demo.sh after the
# command-line story; runnable alone once .venv exists.
#
#   DEMO_DIR=/tmp/pagetally-demo   where the store, its config and the printer's spool go
#   DEMO_PORT=8631                 the virtual printer's port on localhost
set -euo pipefail
cd "$(dirname "$0")/.."

DEMO_DIR=${DEMO_DIR:-/tmp/pagetally-demo}
PORT=${DEMO_PORT:-8631}
QUEUE=demo-laser
PT=$(pwd)/.venv/bin/pagetally
say() { printf '\n\033[1m== %s\033[0m\n' "$*"; }

need=()
for cmd in cupsd lp lpadmin ippeveprinter avahi-daemon dbus-daemon qpdf; do
  command -v "$cmd" >/dev/null || need+=("$cmd")
done
if [ ${#need[@]} -gt 0 ]; then
  say "installing CUPS, ippeveprinter, avahi, dbus, qpdf (missing: ${need[*]})"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends cups cups-client cups-bsd cups-ipp-utils \
    avahi-daemon dbus qpdf >/dev/null
fi

say "starting the print system: D-Bus, Avahi (ippeveprinter needs DNS-SD), cupsd"
mkdir -p /run/dbus /run/cups "$DEMO_DIR/printer-spool"
if ! [ -S /run/dbus/system_bus_socket ] || ! dbus-send --system --print-reply \
    --dest=org.freedesktop.DBus / org.freedesktop.DBus.GetId >/dev/null 2>&1; then
  rm -f /run/dbus/pid
  dbus-daemon --system --fork
fi
avahi-daemon --check 2>/dev/null || avahi-daemon -D --no-rlimits
# `lpstat -r` exits 0 either way: its words say whether the scheduler runs
scheduler_up() { lpstat -r 2>/dev/null | grep -q "is running"; }
scheduler_up || cupsd
for _ in $(seq 50); do scheduler_up && break; sleep 0.2; done
scheduler_up || { echo "cupsd did not start: see /var/log/cups/error_log" >&2; exit 1; }
lpstat -r

say "a virtual IPP printer on localhost:$PORT (ippeveprinter; it keeps each job it prints)"
pkill -f "ippeveprinter -p $PORT " 2>/dev/null || true
ippeveprinter -p "$PORT" -k -d "$DEMO_DIR/printer-spool" -n localhost \
  -f application/pdf,application/postscript,application/octet-stream "PageTally demo" \
  >"$DEMO_DIR/ippeveprinter.log" 2>&1 &
printer_pid=$!
trap 'kill $printer_pid 2>/dev/null || true' EXIT
for _ in $(seq 50); do
  (exec 3<>/dev/tcp/127.0.0.1/"$PORT") 2>/dev/null && break
  sleep 0.2
done

say "the queue $QUEUE, wrapped by PageTally (pagetally setup cups)"
lpadmin -x "$QUEUE" 2>/dev/null || true
lpadmin -p "$QUEUE" -E -v "ipp://localhost:$PORT/ipp/print" -m raw 2>/dev/null
"$PT" --config "$DEMO_DIR/pagetally.conf" setup cups "$QUEUE"
lpstat -v "$QUEUE"

pt() { "$PT" --config "$DEMO_DIR/pagetally.conf" "$@"; }
say "the store knows the queue's price and its users (strict enforcement on this queue)"
grep -q "^\[$QUEUE\]" "$DEMO_DIR/pagetally.conf" ||
  printf '\n[%s]\nenforcement: strict\n' "$QUEUE" >>"$DEMO_DIR/pagetally.conf"
pt printers add "$QUEUE" --price-per-page 0.05 --description "virtual IPP printer"
pt users add dora --limit-by quota
pt users add ed --limit-by balance --balance 0.10
pt quotas set --printer "$QUEUE" --hard 3 dora
pt quotas set --printer "$QUEUE" ed

three="$DEMO_DIR/three-pages.pdf"
one=/usr/share/cups/data/default-testpage.pdf
qpdf --empty --pages "$one" "$one" "$one" -- "$three"

say "real jobs with lp: dora prints 3 pages (her quota), then 1 more; ed has 0.10 for 3 pages"
ids=()
for job in "dora $three" "dora $one" "ed $three"; do
  set -- $job
  out=$(lp -d "$QUEUE" -U "$1" -t "demo job of $1" "$2")
  echo "$1: $out"
  ids+=("$(echo "$out" | sed -n 's/.*request id is \([^ ]*\).*/\1/p')")
  # one at a time, so the story reads in order
  for _ in $(seq 150); do
    lpstat -W not-completed -o "$QUEUE" | grep -q "^${ids[-1]} " || break
    sleep 0.2
  done
done

say "what CUPS shows for each job (lpstat -l -W completed)"
lpstat -l -W completed -o "$QUEUE" | grep -E "^$QUEUE-|Status:" | tail -n 12
echo "jobs the printer received: $(ls "$DEMO_DIR/printer-spool" | wc -l)"

say "pagetally report --printer $QUEUE"
pt report --printer "$QUEUE"
say "pagetally history --printer $QUEUE"
pt history --printer "$QUEUE"
