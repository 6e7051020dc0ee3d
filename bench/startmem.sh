#!/usr/bin/env bash
# Collector start-up time and memory on a large log.
#
#   bench/startmem.sh [N]      (default 100000) a format-1 log whose receipts
#                              are all missing (the backlog of issue 11 item 9),
#                              and how long SIGTERM takes while it works on it
#   bench/startmem.sh N v2     a format-2 log (private store, checkpointed
#                              transparency log, every receipt present): the
#                              trusted start-up of issue 13 step 7, where the
#                              log's own last checkpoint proves the lines it
#                              covers (see bench/README.md), then a second
#                              start from the snapshot the first one's
#                              SIGTERM wrote (only the lines after it read)
#
# DATA=DIR uses a copy of an existing data folder DIR (made by an earlier
# run's bench/backlog, without a snapshot) instead of generating one.
#
# From anywhere; it builds the binary and the data folder in a temp folder.
set -euo pipefail
cd "$(dirname "$0")/.."
n=${1:-100000}
mode=${2:-v1}
tmp=$(mktemp -d)
trap 'kill "$pid" 2>/dev/null || true; rm -rf "$tmp"' EXIT
pid=
go build -o "$tmp/chatconsent" ./cmd/chatconsent
if [ -n "${DATA:-}" ]; then
  cp -a "$DATA" "$tmp/data"
  rm -f "$tmp/data/private/snapshot"
else
case "$mode" in
v1) go run ./bench/backlog -n "$n" -config config.toml -data "$tmp/data" ;;
v2) go run ./bench/backlog -n "$n" -config config.toml -data "$tmp/data" -v2 -receipts ;;
*) echo "usage: bench/startmem.sh [N] [v1|v2]" >&2; exit 2 ;;
esac
fi
echo "load average: $(cut -d' ' -f1-3 /proc/loadavg)"
ls -l "$tmp/data/decisions.jsonl" | awk '{printf "log: %.1f MB\n", $5/1e6}'
collect() {
  "$tmp/chatconsent" collect --config config.toml --addr 127.0.0.1:0 --data "$tmp/data" >"$tmp/out" 2>"$tmp/err" &
  pid=$!
  start=$(date +%s.%N)
  until grep -q '^listening on' "$tmp/out"; do
    kill -0 "$pid" || { cat "$tmp/err"; exit 1; }
    sleep 0.05
  done
  echo "$1listening after $(echo "$(date +%s.%N) - $start" | bc) s"
  grep -E 'VmHWM|VmRSS' /proc/$pid/status | sed "s/^/$1at start: /"
}
collect ""
if [ "$mode" = v1 ]; then
  sleep 5
  grep -E 'VmHWM|VmRSS' /proc/$pid/status | sed 's/^/after 5 s of making receipts: /'
  echo "receipts made: $(ls "$tmp/data/receipts" | grep -c '\.pdf$' || true)"
fi
t0=$(date +%s.%N)
kill -TERM "$pid"
wait "$pid" || true
echo "SIGTERM to exit: $(echo "$(date +%s.%N) - $t0" | bc) s"
pid=
if [ "$mode" = v2 ]; then
  ls -l "$tmp/data/private/snapshot" | awk '{printf "snapshot written at the stop: %.1f MB\n", $5/1e6}'
  echo "load average: $(cut -d' ' -f1-3 /proc/loadavg)"
  collect "from the snapshot: "
  grep -o 'snapshot not used[^"]*"[^"]*' "$tmp/err" || true
  kill -TERM "$pid"
  wait "$pid" || true
  pid=
  # The whole log, every signature (what the trusted start skips).
  /usr/bin/time -f 'verify of the whole log: %e s, max RSS %M KiB' \
    "$tmp/chatconsent" verify "$tmp/data" --key "$tmp/data/signing.pub" >/dev/null
  echo "load average: $(cut -d' ' -f1-3 /proc/loadavg)"
fi
