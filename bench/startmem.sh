#!/usr/bin/env bash
# Collector memory at start on a log whose receipts are all missing (the
# backlog of issue 11 item 9), and how long SIGTERM takes while it works
# on that backlog.
# Usage: bench/startmem.sh [N]   (default 100000 decisions; from anywhere)
set -euo pipefail
cd "$(dirname "$0")/.."
n=${1:-100000}
tmp=$(mktemp -d)
trap 'kill "$pid" 2>/dev/null || true; rm -rf "$tmp"' EXIT
pid=
go build -o "$tmp/chatconsent" ./cmd/chatconsent
go run ./bench/backlog -n "$n" -config config.toml -data "$tmp/data"
ls -l "$tmp/data/decisions.jsonl" | awk '{printf "log: %.1f MB\n", $5/1e6}'
"$tmp/chatconsent" collect --config config.toml --addr 127.0.0.1:0 --data "$tmp/data" >"$tmp/out" 2>"$tmp/err" &
pid=$!
start=$(date +%s.%N)
until grep -q '^listening on' "$tmp/out"; do
  kill -0 "$pid" || { cat "$tmp/err"; exit 1; }
  sleep 0.05
done
echo "listening after $(echo "$(date +%s.%N) - $start" | bc) s"
grep -E 'VmHWM|VmRSS' /proc/$pid/status | sed 's/^/at start: /'
sleep 5
grep -E 'VmHWM|VmRSS' /proc/$pid/status | sed 's/^/after 5 s of making receipts: /'
echo "receipts made: $(ls "$tmp/data/receipts" | grep -c '\.pdf$' || true)"
t0=$(date +%s.%N)
kill -TERM "$pid"
wait "$pid" || true
echo "SIGTERM to exit: $(echo "$(date +%s.%N) - $t0" | bc) s"
pid=
