#!/usr/bin/env bash
# The main job for real, on a fresh Debian 12 as root: a cupsd of the demo's own
# (under DEMO_DIR, on its own port and socket, Debian's stock cupsd.conf), a
# virtual IPP printer (ippeveprinter), a queue wrapped by PageTally's backend,
# `pagetally serve` running with the thin backend handing each job to it, real
# jobs (one printed, two refused: page quota and balance), what `lpstat` shows of
# each job and of the printer, and PageTally's report and history. Everything it
# starts is stopped at the end; the machine's own CUPS (its cupsd, queues,
# /etc/cups, /usr/lib/cups/backend) is never touched, running or not. Called by
# scripts/demo.sh after the command-line story; runnable alone once .venv exists.
#
#   DEMO_DIR=/tmp/pagetally-demo   where the store, its config, the cupsd and the printer's spool go
#   Print through a cupsd already running instead (the test does, with Debian's stock policy):
#   DEMO_CUPS_SOCKET=PATH          its domain socket (lpadmin as root: PeerCred)
#   DEMO_CUPS_IPP=127.0.0.1:PORT   its TCP address (the jobs come through it, as from remote clients)
#   DEMO_SERVERBIN=DIR             its ServerBin (the backend goes to DIR/backend/pagetally)
#   DEMO_CUPS_SERVERROOT=DIR       its ServerRoot (the cupsd.conf `setup cups` checks; default /etc/cups)
#   PAGETALLY=PATH                 the pagetally command (default .venv/bin/pagetally)
#
# The jobs go in as a remote IPP client sends them: one Print-Job request each,
# for the users dora and ed, who are no local accounts. `lp` (Create-Job, then
# Send-Document) as such a user crashes Debian 12's cupsd 2.4.2-3+deb12u10 under
# the stock policy: see docs/backend.md, "Known problems".
set -euo pipefail
cd "$(dirname "$0")/.."

DEMO_DIR=${DEMO_DIR:-/tmp/pagetally-demo}
QUEUE=demo-laser
PT=${PAGETALLY:-$(pwd)/.venv/bin/pagetally}
CONF=$DEMO_DIR/pagetally.conf
say() { printf '\n\033[1m== %s\033[0m\n' "$*"; }
pt() { "$PT" --config "$CONF" "$@"; }
free_port() { python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'; }
wait_for() {  # wait_for SECONDS COMMAND...: until COMMAND succeeds
  local tries=$(($1 * 5)); shift
  for _ in $(seq "$tries"); do "$@" 2>/dev/null && return 0; sleep 0.2; done
  return 1
}

need=()
for cmd in cupsd lpadmin lpstat ipptool ippeveprinter avahi-daemon dbus-daemon qpdf; do
  command -v "$cmd" >/dev/null || need+=("$cmd")
done
if [ ${#need[@]} -gt 0 ]; then
  say "installing CUPS, ipptool, ippeveprinter, avahi, dbus, qpdf (missing: ${need[*]})"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends cups cups-client cups-bsd cups-ipp-utils \
    avahi-daemon dbus qpdf >/dev/null
fi

mkdir -p "$DEMO_DIR"
chmod 755 "$DEMO_DIR"  # cupsd's filters and ippeveprinter run as other users
# run alone: the store of scripts/demo.sh, empty
[ -f "$CONF" ] || DEMO_DIR="$DEMO_DIR" PAGETALLY="$PT" bash scripts/demo-store.sh

# --- everything started here is stopped at the end, by its PID ----------------------
started=()
stop_all() {
  local pid
  for ((i = ${#started[@]} - 1; i >= 0; i--)); do
    pid=${started[i]}
    kill "$pid" 2>/dev/null || continue
    for _ in $(seq 100); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
  done
}
trap stop_all EXIT

say "D-Bus and Avahi (ippeveprinter needs DNS-SD): used if running, else started for the demo"
mkdir -p /run/dbus
if ! dbus-send --system --print-reply --dest=org.freedesktop.DBus / \
    org.freedesktop.DBus.GetId >/dev/null 2>&1; then
  rm -f /run/dbus/pid
  started+=("$(dbus-daemon --system --fork --print-pid)")
fi
if ! avahi-daemon --check 2>/dev/null; then
  avahi-daemon -D --no-rlimits
  wait_for 10 test -s /run/avahi-daemon/pid
  started+=("$(cat /run/avahi-daemon/pid)")
fi

if [ -z "${DEMO_CUPS_SOCKET:-}" ]; then
  CUPS=$DEMO_DIR/cups
  say "the demo's own cupsd: $CUPS, Debian's stock cupsd.conf on its own port and socket (jobs' status private)"
  rm -rf "$CUPS"
  mkdir -p "$CUPS"/{etc,spool/tmp,cache,state,log,bin/backend}
  chmod 710 "$CUPS/spool"
  chmod 1777 "$CUPS/spool/tmp"
  # its ServerBin: CUPS' own programs, linked; the backend folder its own (PageTally's goes there)
  for item in /usr/lib/cups/*; do [ "${item##*/}" = backend ] || ln -s "$item" "$CUPS/bin/"; done
  for item in /usr/lib/cups/backend/*; do
    [ "${item##*/}" = pagetally ] || ln -s "$item" "$CUPS/bin/backend/"
  done
  port=$(free_port)
  {
    echo "# Debian's stock cupsd.conf (/usr/share/cups/cupsd.conf.default), its"
    echo "# Listen lines replaced; the job's status message made private (see docs/backend.md)"
    echo "Listen 127.0.0.1:$port"
    echo "Listen $CUPS/cups.sock"
    echo "LogLevel info"
    grep -Ev '^\s*(Listen|Port|LogLevel|WebInterface|Browsing|BrowseLocalProtocols)\b' \
      /usr/share/cups/cupsd.conf.default |
      sed 's/^\(\s*JobPrivateValues default\)$/\1 job-printer-state-message/'
    echo "WebInterface No"
    echo "Browsing No"
  } >"$CUPS/etc/cupsd.conf"
  cat >"$CUPS/etc/cups-files.conf" <<EOF
ServerRoot $CUPS/etc
RequestRoot $CUPS/spool
TempDir $CUPS/spool/tmp
CacheDir $CUPS/cache
StateDir $CUPS/state
ServerBin $CUPS/bin
ErrorLog $CUPS/log/error_log
AccessLog $CUPS/log/access_log
PageLog $CUPS/log/page_log
SystemGroup root lpadmin
PeerCred on
EOF
  cupsd -f -c "$CUPS/etc/cupsd.conf" -s "$CUPS/etc/cups-files.conf" &
  started+=("$!")
  DEMO_CUPS_SOCKET=$CUPS/cups.sock
  DEMO_CUPS_IPP=127.0.0.1:$port
  DEMO_SERVERBIN=$CUPS/bin
  DEMO_CUPS_SERVERROOT=$CUPS/etc
fi
: "${DEMO_CUPS_IPP:?DEMO_CUPS_IPP: the given cupsd's 127.0.0.1:PORT}"
: "${DEMO_SERVERBIN:?DEMO_SERVERBIN: the given cupsd's ServerBin}"
export CUPS_SERVER=$DEMO_CUPS_SOCKET  # lpadmin, lpstat and setup cups: this cupsd only
# `lpstat -r` exits 0 either way: its words say whether the scheduler runs
scheduler_up() { lpstat -r | grep -q "is running"; }
wait_for 30 scheduler_up || { echo "cupsd did not start: see ${CUPS:-its}/log/error_log" >&2; exit 1; }
echo "cupsd on $DEMO_CUPS_SOCKET and $DEMO_CUPS_IPP"

say "a virtual IPP printer (ippeveprinter; it keeps each job it prints, at once)"
mkdir -p "$DEMO_DIR/printer-spool"
pport=$(free_port)
# -c /bin/true: done printing at once (without a command it pretends for 5 to 15 s)
ippeveprinter -p "$pport" -k -c /bin/true -d "$DEMO_DIR/printer-spool" -n localhost \
  -f application/pdf,application/postscript,application/octet-stream "PageTally demo $pport" \
  >"$DEMO_DIR/ippeveprinter.log" 2>&1 &
started+=("$!")
wait_for 20 bash -c "exec 3<>/dev/tcp/127.0.0.1/$pport"
echo "ipp://localhost:$pport/ipp/print"

say "pagetally serve: the store service and the job runner (sockets in $DEMO_DIR/run)"
grep -q "^accountingservice:" "$CONF" ||
  { echo "$CONF names no accountingservice" >&2; exit 1; }
sock=$(sed -n 's/^accountingservice: *//p' "$CONF")
mkdir -p "$(dirname "$sock")"
chmod 700 "$(dirname "$sock")"
"$PT" --config "$CONF" serve >"$DEMO_DIR/serve.log" 2>&1 &  # not through pt(): $! must be its PID
started+=("$!")
wait_for 60 test -S "$sock" -a -S "${sock%.sock}-jobs.sock" ||
  { cat "$DEMO_DIR/serve.log" >&2; exit 1; }
cat "$DEMO_DIR/serve.log"

say "the queue $QUEUE, wrapped by PageTally (pagetally setup cups: the thin backend)"
lpadmin -x "$QUEUE" 2>/dev/null || true
lpadmin -p "$QUEUE" -E -v "ipp://localhost:$pport/ipp/print" -m raw 2>/dev/null
# it warns about what it finds in this cupsd's cupsd.conf (docs/backend.md, "Known problems");
# the ServerBin is the demo's own (or the one it was given), so its backend is replaced
CUPS_SERVERROOT=${DEMO_CUPS_SERVERROOT:-/etc/cups} pt setup cups --replace-backend \
  --serverbin "$DEMO_SERVERBIN" "$QUEUE"
lpstat -v "$QUEUE"

say "the store knows the queue's price and its users (strict enforcement on this queue)"
grep -q "^\[$QUEUE\]" "$CONF" || printf '\n[%s]\nenforcement: strict\n' "$QUEUE" >>"$CONF"
pt printers edit "$QUEUE" --price-per-page 0.05 --description "virtual IPP printer"  # setup cups added it
pt users add dora --limit-by quota
pt users add ed --limit-by balance --balance 0.10
pt quotas set --printer "$QUEUE" --hard 3 dora
pt quotas set --printer "$QUEUE" ed

three="$DEMO_DIR/three-pages.pdf"
one=/usr/share/cups/data/default-testpage.pdf
qpdf --empty --pages "$one" "$one" "$one" -- "$three"

say "real jobs, as remote IPP clients send them: dora prints 3 pages (her quota), then 1 more; ed has 0.10 for 3 pages"
uri="ipp://$DEMO_CUPS_IPP/printers/$QUEUE"
for job in "dora $three" "dora $one" "ed $three"; do
  set -- $job
  id=$(ipptool -t -d owner="$1" -d title="demo job of $1" -f "$2" "$uri" \
    scripts/demo-print-job.test | sed -n 's/.*job-id (integer) = //p')
  [ -n "$id" ] || { echo "demo: the job of $1 was not accepted" >&2; exit 1; }
  echo "$1: job $QUEUE-$id (${2##*/})"
  # one at a time, so the story reads in order
  wait_for 60 bash -c "! lpstat -W not-completed -o $QUEUE | grep -q '^$QUEUE-$id '" ||
    { echo "demo: job $id did not finish" >&2; exit 1; }
done

say "what lpstat shows of each job (lpstat -l -W completed -o $QUEUE, as root)"
lpstat -l -W completed -o "$QUEUE" | grep -E "^$QUEUE-|Status:"
echo "jobs the printer received: $(find "$DEMO_DIR/printer-spool" -type f -printf "%f\n" | cut -d- -f1 | sort -u | wc -l)"

say "what another user (eve) sees of the printer: no one's balance (lpstat -U eve -l -p $QUEUE)"
printer_view=$(lpstat -h "$DEMO_CUPS_IPP" -U eve -l -p "$QUEUE")
echo "$printer_view" | head -n 3
if echo "$printer_view" | grep -qE "EUR|refused|Balance|quota"; then
  echo "demo: the printer's state shows a job's accounting to everyone" >&2
  exit 1
fi
say "what ed sees of his own jobs (lpstat -U ed -l -o)"
lpstat -h "$DEMO_CUPS_IPP" -U ed -l -W completed -o "$QUEUE" | grep -E "^$QUEUE-|Status:"

say "the jobs went through pagetally serve's job runner (its log)"
grep -E "handed a job|listening" "$DEMO_DIR/serve.log"

say "pagetally report --printer $QUEUE"
pt report --printer "$QUEUE"
say "pagetally history --printer $QUEUE"
pt history --printer "$QUEUE"

say "stopping what the demo started (pagetally serve, ippeveprinter${CUPS:+, its cupsd})"
[ -n "${CUPS:-}" ] || lpadmin -x "$QUEUE"  # a given cupsd keeps running: its queue goes
trap - EXIT
stop_all
