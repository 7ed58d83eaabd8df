#!/usr/bin/env bash
# `make image`: builds the aTES image (deploy/docker/Dockerfile) with podman on a
# Debian 12 base made by mmdebstrap from the package archive, so nothing is pulled
# from an image registry (ADR 0030). The base is built once and reused.
#
# The build stage compiles with the host's ccache (CCACHE_DIR, mounted on /ccache):
# after a host build (`make build`) it is nearly all cache hits. Downloaded npm
# packages are kept in .deps/image/npm for the next build. (No shared apt cache: the
# stages run in parallel and apt locks its archive folder; podman's layer cache
# keeps the installed packages anyway.)
#
# Environment: ATES_IMAGE (localhost/ates:0.1.0), ATES_IMAGE_BASE
# (localhost/ates-debian-base:bookworm), CCACHE_DIR (.ccache), CONTAINERS_CONF
# (deploy/docker/containers.conf).
set -euo pipefail
cd "$(dirname "$0")/.."
root=$PWD
image=${ATES_IMAGE:-localhost/ates:0.1.0}
base=${ATES_IMAGE_BASE:-localhost/ates-debian-base:bookworm}
export CONTAINERS_CONF=${CONTAINERS_CONF:-$root/deploy/docker/containers.conf}
export CCACHE_DIR=${CCACHE_DIR:-$root/.ccache}
cache=$root/.deps/image
step() { printf '[image] %s\n' "$*" >&2; }

for tool in podman mmdebstrap; do
  command -v "$tool" >/dev/null || { step "$tool is missing: run 'make image-deps'"; exit 1; }
done
mkdir -p "$cache/npm" "$CCACHE_DIR"

# A Debian 12 root file system like debian:12-slim's: the three bookworm suites, no
# manual pages, documentation or translations.
build_base() {
  local tmp
  tmp=$(mktemp -d -t ates-base.XXXXXX)
  step "building the Debian 12 base $base with mmdebstrap (once)"
  mmdebstrap --variant=apt --quiet \
    --dpkgopt='path-exclude=/usr/share/man/*' \
    --dpkgopt='path-exclude=/usr/share/doc/*' \
    --dpkgopt='path-include=/usr/share/doc/*/copyright' \
    --dpkgopt='path-exclude=/usr/share/locale/*' \
    --dpkgopt='path-exclude=/usr/share/info/*' \
    bookworm "$tmp/base.tar" \
    "deb http://deb.debian.org/debian bookworm main" \
    "deb http://deb.debian.org/debian bookworm-updates main" \
    "deb http://deb.debian.org/debian-security bookworm-security main" ||
    { rm -rf "$tmp"; return 1; }
  podman import --quiet "$tmp/base.tar" "$base" >/dev/null
  rm -rf "$tmp"
}
podman image exists "$base" || build_base

mounts=(-v "$CCACHE_DIR:/ccache" -v "$cache/npm:/root/.npm")
# npm in the web stage reaches the registry as this machine does (its CA bundle).
ca=${SSL_CERT_FILE:-/etc/ssl/certs/ca-certificates.crt}
[[ -f $ca ]] && mounts+=(-v "$ca:/host-ca.crt:ro")

step "building $image from $base (podman, build and web stages in parallel)"
started=$SECONDS
log=$(mktemp -t ates-image-build.XXXXXX)
trap 'rm -f "$log"' EXIT
podman build --network host --jobs 2 --layers \
  -f deploy/docker/Dockerfile --ignorefile deploy/docker/Dockerfile.dockerignore \
  --build-arg BASE_IMAGE="$base" "${mounts[@]}" -t "$image" . 2>&1 | tee "$log"

# The build stage prints its own ccache figures ("Hits: 160 / 168 (95.24%)"); a
# build whose compile step came from podman's layer cache has none.
cache_line=$(grep -m1 -E '^ *Hits:' "$log" | sed 's/^ *//' || true)
size=$(podman image inspect --format '{{.Size}}' "$image")
step "built $image in $((SECONDS - started)) s, $((size / 1000000)) MB;" \
  "compiler cache: ${cache_line:-not used (compile step cached)}"
