#!/usr/bin/env bash
# The README's second command: on a fresh Debian machine that has only Go,
# install what the tests need (as root, or with sudo), then run every check
# CI runs. .ci/run calls exactly this script.
#
#   ./test.sh            install what is missing, then vet, gofmt, all tests
#
# A Go developer who has the tools can still run `go test ./...` directly.
set -euo pipefail
cd "$(dirname "$0")"

# Debian packages the tests need, as "package:command" (the command tells
# whether the package is there; empty after the colon: ask dpkg). Add yours
# here, with a comment saying which tests need it.
PACKAGES=(
  # pdftotext, pdffonts: receipt text and fonts (collector/receipt,
  # cmd/chatconsent receipt and end-to-end tests)
  poppler-utils:pdftotext
  # headless browser for e2e/ (flows, axe-core accessibility, focus order)
  chromium:chromium
  # the HTTPS reverse proxy in front of the collector (e2e/deploy_test.go)
  caddy:caddy
  # systemd-analyze verify of deploy/chatconsent.service (e2e/deploy_test.go)
  systemd:systemd-analyze
  # the README's own site copy and nightly backup commands
  # (e2e/deploydocs_test.go)
  rsync:rsync
  # npm ci of axe-core for e2e/axe_test.go (pulls in nodejs)
  npm:npm
  # qpdf: bench/receiptoverlay stamps a template with it, and receipts
  # re-saved by another PDF tool (receipt verification by visible text)
  qpdf:qpdf
  # mutool clean, the other re-saving tool receipts must survive
  # (collector/receipt TestResavedReceiptsVerify)
  mupdf-tools:mutool
  # zbarimg reads the QR code of a layout-3 receipt's withdrawal link back
  # from its rendered page (collector/receipt TestLayout3)
  zbar-tools:zbarimg
  # fonts for receipts in every script a name can be written in (Latin,
  # Greek, Cyrillic, Arabic, Hebrew, ...; CJK in its own package)
  fonts-noto-core:
  fonts-noto-cjk:
  # the HTTP load generator of bench/load.sh (the issue's load goal: 64
  # clients, >= 5,000 decisions/s, p99 < 20 ms); test.sh only checks the
  # script's syntax, but a fresh machine can then run the benchmark as is
  wrk:wrk
  # a MySQL-compatible server for the transparency log on Tessera's AWS
  # driver: collector/translog's TestDrivers/aws and TestAWSErrors start
  # mariadbd themselves (temporary data folder, loopback port)
  mariadb-server:
)

missing=()
for entry in "${PACKAGES[@]}"; do
  pkg=${entry%%:*} cmd=${entry#*:}
  if [ -n "$cmd" ]; then
    command -v "$cmd" >/dev/null 2>&1 && continue
  else
    dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "install ok installed" && continue
  fi
  missing+=("$pkg")
done
if [ ${#missing[@]} -gt 0 ]; then
  echo "test.sh: installing ${missing[*]}" >&2
  SUDO=""
  [ "$(id -u)" -ne 0 ] && SUDO="sudo"
  export DEBIAN_FRONTEND=noninteractive
  $SUDO apt-get update -qq
  $SUDO apt-get install -y -qq "${missing[@]}" >/dev/null
fi

# axe-core for the accessibility tests, pinned by e2e/package-lock.json.
(cd e2e && npm ci --prefer-offline --no-audit --no-fund --loglevel=error)

# Tests whose prerequisite this script guarantees fail instead of skipping
# when it is missing (collector/translog's MariaDB tests).
export CHATCONSENT_TEST_SH=1

go vet ./...
unformatted=$(gofmt -l .)
if [ -n "$unformatted" ]; then
  echo "test.sh: gofmt needed on:" >&2
  echo "$unformatted" >&2
  exit 1
fi
# -trimpath: compiled packages are cached by content, not by the clone's
# folder, so a fresh clone on a machine that ran the tests before rebuilds
# nothing that did not change (without it: about 3 minutes of compiling).
go test -race -count=1 -trimpath ./...
# The load benchmark is run by hand (bench/README.md); check that it parses.
bash -n bench/load.sh
echo "test.sh: all checks passed"
