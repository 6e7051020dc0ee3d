#!/bin/sh
# Build a chatconsent release: static binaries, SHA256SUMS and Debian
# packages (issue 15 item 8: install without Go).
#
#   scripts/release.sh                 all targets into dist/
#   VERSION=v1.2.3 OUT=/tmp/rel TARGETS="linux/amd64" scripts/release.sh
#
# VERSION defaults to `git describe --tags --always --dirty` (v0.0.0-dev
# outside a git checkout) and is stamped into the binary (chatconsent
# version prints it). Binaries are built with CGO_ENABLED=0 and -trimpath:
# static, no C library needed, the same bytes on every build machine.
# The .deb (linux targets) is made by nfpm (github.com/goreleaser/nfpm),
# run with `go run` at a pinned version so that it stays out of the
# module's own dependencies; its configuration is deploy/nfpm.yaml.
set -eu

cd "$(dirname "$0")/.."
NFPM=github.com/goreleaser/nfpm/v2/cmd/nfpm@v2.45.2
OUT=${OUT:-dist}
TARGETS=${TARGETS:-"linux/amd64 linux/arm64 darwin/arm64 darwin/amd64 windows/amd64"}
if [ -z "${VERSION:-}" ]; then
	VERSION=$(git describe --tags --always --dirty 2>/dev/null || echo v0.0.0-dev)
fi
case $VERSION in
v[0-9]*) ;;
*) VERSION=v0.0.0-$VERSION ;; # a bare commit hash: Debian versions start with a digit
esac
DEBVERSION=${VERSION#v}
REVISION=$(git rev-parse HEAD 2>/dev/null || true)

mkdir -p "$OUT"
OUT=$(cd "$OUT" && pwd)
rm -f "$OUT/SHA256SUMS"

for target in $TARGETS; do
	os=${target%/*}
	arch=${target#*/}
	ext=
	[ "$os" = windows ] && ext=.exe
	bin="$OUT/chatconsent_${DEBVERSION}_${os}_${arch}$ext"
	echo "build $bin"
	CGO_ENABLED=0 GOOS=$os GOARCH=$arch go build -trimpath -buildvcs=auto \
		-ldflags "-s -w -X main.version=$VERSION -X main.revision=$REVISION" -o "$bin" ./cmd/chatconsent
	if [ "$os" = linux ]; then
		# The package installs the binary to /usr/bin: the unit from
		# deploy/ with that path, the hardening unchanged.
		work=$(mktemp -d)
		cp "$bin" "$work/chatconsent"
		sed 's#/usr/local/bin/chatconsent#/usr/bin/chatconsent#g' deploy/chatconsent.service >"$work/chatconsent.service"
		sed "s#\${NFPM_WORK}#$work#g" deploy/nfpm.yaml >"$work/nfpm.yaml"
		NFPM_ARCH=$arch NFPM_VERSION=$DEBVERSION \
			go run "$NFPM" package --config "$work/nfpm.yaml" --packager deb --target "$OUT/"
		rm -rf "$work"
	fi
done

(cd "$OUT" && rm -f SHA256SUMS && sha256sum chatconsent_* >SHA256SUMS.tmp && mv SHA256SUMS.tmp SHA256SUMS)
echo "release $VERSION in $OUT:"
cat "$OUT/SHA256SUMS"
