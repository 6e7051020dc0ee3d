#!/usr/bin/env bash
# Receipt production per decision, side by side:
#   chatconsent: receipt.Stamper.Stamp in process (BenchmarkStamp: lay out,
#     print with the embedded Go fonts, attach the signed record, write;
#     BenchmarkStampNames/SCRIPT: today's layout for a name in each script,
#     latin, greek-cyrillic, vietnamese, arabic, hebrew, chinese, japanese,
#     korean, with the receipt's size; a script the receipt cannot print
#     is skipped, and listed below);
#   qpdf: a script that stamps a prepared overlay (the same text, made once)
#     onto the same template and attaches the same record, one qpdf process
#     per receipt, timed with hyperfine.
# Usage: bench/receipts.sh  (from anywhere; needs go, qpdf, hyperfine)
set -euo pipefail
cd "$(dirname "$0")/.."

need=()
command -v qpdf >/dev/null 2>&1 || need+=(qpdf)
command -v hyperfine >/dev/null 2>&1 || need+=(hyperfine)
if [ ${#need[@]} -gt 0 ]; then
  SUDO=""; [ "$(id -u)" -ne 0 ] && SUDO="sudo"
  $SUDO apt-get update -qq && DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq "${need[@]}" >/dev/null
fi

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

echo "== machine: $(nproc) cores; $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2- | sed 's/^ //')"
echo "== load before: $(uptime | sed 's/.*load average/load average/')"

echo "== chatconsent: go test -run '^\$' -bench '^BenchmarkStamp' -benchmem -count 10 ./collector/receipt"
go test -run '^$' -bench '^BenchmarkStamp' -benchmem -count 10 ./collector/receipt | tee "$tmp/go.txt"
go test -run '^$' -bench '^BenchmarkStampNames' -benchtime 1x -v ./collector/receipt 2>&1 | awk '/not printable yet/ {sub(/^ +/, ""); print "skipped: " $0}'
for b in $(awk '/^BenchmarkStamp/ {sub(/-[0-9]+$/, "", $1); print $1}' "$tmp/go.txt" | sort -u); do
  awk -v b="$b" '$1 ~ "^"b"(-[0-9]+)?$" {print $3}' "$tmp/go.txt" | sort -n |
    awk -v b="$b" '{v[NR]=$1} END {m = (NR%2) ? v[(NR+1)/2] : (v[NR/2]+v[NR/2+1])/2; printf "%s median: %.2f ms/receipt (%d runs)\n", b, m/1e6, NR}'
done

go run ./bench/receiptoverlay -o "$tmp"
cmd="qpdf $tmp/template.pdf --overlay $tmp/overlay.pdf -- --add-attachment $tmp/record.json -- $tmp/out.pdf"
echo "== qpdf $(qpdf --version | head -1 | awk '{print $NF}'): hyperfine -N --warmup 10 --runs 300 '$cmd'"
hyperfine -N --warmup 10 --runs 300 --export-json "$tmp/qpdf.json" "$cmd"
median=$(tr ',' '\n' < "$tmp/qpdf.json" | awk -F: '/"median"/ {print $2; exit}')
awk -v m="$median" 'BEGIN {printf "qpdf --overlay median: %.2f ms/receipt\n", m*1000}'
pdftotext "$tmp/out.pdf" - 2>/dev/null | grep -q "Łukasz Wróbel" && echo "qpdf output shows the name (checked with pdftotext)" || true

echo "== sizes: chatconsent receipt $(stat -c %s "$tmp/receipt.pdf") B, qpdf output $(stat -c %s "$tmp/out.pdf") B"
echo "== load after: $(uptime | sed 's/.*load average/load average/')"
