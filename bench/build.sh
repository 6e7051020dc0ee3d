#!/usr/bin/env bash
# Benchmark: chatconsent build against Hugo on the same N Markdown pages
# (default 1000) with equivalent templates, then save-to-rebuilt latency of
# "chatconsent serve" on the repository's default site and on the N-page
# site. Prints medians and ratios; see bench/README.md for recorded figures.
#
#   bench/build.sh [N]        RUNS=7 bench/build.sh   (default 5 runs each)
set -euo pipefail
cd "$(dirname "$0")/.."
N=${1:-1000}
RUNS=${RUNS:-5}

if ! command -v hugo >/dev/null 2>&1 || [ ! -x /usr/bin/time ]; then
  export DEBIAN_FRONTEND=noninteractive
  SUDO=""; [ "$(id -u)" -ne 0 ] && SUDO="sudo"
  $SUDO apt-get update -qq
  $SUDO apt-get install -y -qq hugo time >/dev/null
fi

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
go build -o "$work/chatconsent" ./cmd/chatconsent
go run ./bench/gensite -n "$N" -out "$work/site"
cc_site="$work/site/chatconsent" hugo_site="$work/site/hugo"

# measure CMD...: prints "WALL_SECONDS MAX_RSS_KB" (GNU time).
# Each run starts with nothing left to write back: Hugo rewrites its whole
# output every time, and the kernel flushing that while the next tool runs
# would be charged to the next tool.
measure() {
  sync
  /usr/bin/time -f "%e %M" -o "$work/time" "$@" >/dev/null 2>"$work/err" || { cat "$work/err"; exit 1; }
  cat "$work/time"
}
cc_run()   { measure "$work/chatconsent" build --config "$cc_site/config.toml" --out "$work/cc-out"; }
hugo_run() { measure hugo --source "$hugo_site" --destination "$work/hugo-out" --quiet; }

# One untimed run each: page cache, output folders, archive.
cc_run >/dev/null; hugo_run >/dev/null
: >"$work/cc"; : >"$work/hugo"
for _ in $(seq "$RUNS"); do
  hugo_run >>"$work/hugo"
  cc_run   >>"$work/cc"
done
median() { sort -n | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }
col() { awk -v c="$2" '{print $c}' "$1" | median; }
hw=$(col "$work/hugo" 1) hm=$(col "$work/hugo" 2)
echo "machine: $(nproc) cores; load before: $(cut -d' ' -f1-3 /proc/loadavg)"
echo "pages: $N Markdown files, $(cat "$cc_site"/content/de/*.md | wc -c) bytes; $RUNS runs each, medians"
printf "%-38s %8s %10s %12s %10s\n" "" "wall s" "x Hugo" "max RSS KB" "x Hugo"
printf "%-38s %8s %10s %12s %10s\n" "hugo $(hugo version | awk '{print $2}')" "$hw" "1" "$hm" "1"
w=$(col "$work/cc" 1) m=$(col "$work/cc" 2)
printf "%-38s %8s %10s %12s %10s\n" "chatconsent build" "$w" \
  "$(awk -v a="$w" -v b="$hw" 'BEGIN{printf "%.2f", a/b}')" "$m" \
  "$(awk -v a="$m" -v b="$hm" 'BEGIN{printf "%.2f", a/b}')"
# The issue's goal (issue 10): at most 0.5x Hugo's wall time.
awk -v a="$w" -v b="$hw" 'BEGIN{r=a/b; printf "build goal <= 0.50x Hugo: %.2fx %s\n", r, (r <= 0.5 ? "met" : "NOT MET")}'

# Save-to-rebuilt in serve: the default site (a text-version page, so each
# save also publishes a version) and the N-page site (one generic page).
mkdir -p "$work/default"
cp -r config.toml content "$work/default/"
[ -d archive ] && cp -r archive "$work/default/"
echo "default site, edit content/de/policy.md:"
go run ./bench/latency -bin "$work/chatconsent" -config "$work/default/config.toml" \
  -file "$work/default/content/de/policy.md" -url /de/datenschutz/
echo "$N-page site, edit content/de/p0500.md:"
go run ./bench/latency -bin "$work/chatconsent" -config "$cc_site/config.toml" \
  -file "$cc_site/content/de/p0500.md" -url /de/seite-0500/
echo "load after: $(cut -d' ' -f1-3 /proc/loadavg)"
