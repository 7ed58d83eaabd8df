#!/usr/bin/env bash
# Installs the Debian packages given as arguments and the npm packages of
# package.json and web/package.json, but only what is missing or whose lock
# changed, so a second run takes a second.
set -euo pipefail
cd "$(dirname "$0")/.."

missing=()
for pkg in "$@"; do
  if ! dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "install ok installed"; then
    missing+=("$pkg")
  fi
done
if ((${#missing[@]})); then
  echo "deps: installing ${missing[*]}" >&2
  SUDO=""
  if [[ $(id -u) -ne 0 ]]; then SUDO="sudo"; fi
  export DEBIAN_FRONTEND=noninteractive
  $SUDO apt-get update -qq
  $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

# kubectl renders the Kubernetes manifests in tests/deploy (`kubectl
# kustomize`): Debian's kubernetes-client (1.20, kustomize v2.0.3) only when no
# kubectl is on PATH, since it conflicts with a kubectl installed otherwise.
if ! command -v kubectl >/dev/null; then
  echo "deps: installing kubernetes-client (kubectl)" >&2
  SUDO=""
  if [[ $(id -u) -ne 0 ]]; then SUDO="sudo"; fi
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends kubernetes-client >/dev/null
fi

# npm comes with the machine's Node.js; Debian's npm package only when none is there
# (installing it next to a vendor's nodejs would conflict).
if ! command -v npm >/dev/null; then
  echo "deps: installing nodejs and npm" >&2
  SUDO=""
  if [[ $(id -u) -ne 0 ]]; then SUDO="sudo"; fi
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends nodejs npm >/dev/null
fi

# npm packages never download browsers or binaries of their own: the browser
# tests drive Debian's chromium.
export PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD=1

if [[ ! -x node_modules/.bin/buf || package.json -nt node_modules/.stamp ]]; then
  echo "deps: installing npm tools (buf)" >&2
  npm ci --no-audit --no-fund --loglevel=error
  touch node_modules/.stamp
fi

# The web app's own packages (vite, preact, protoc-gen-es, connect-web,
# playwright-core for the browser tests), again only when its lock changed.
if [[ ! -x web/node_modules/.bin/vite || web/package-lock.json -nt web/node_modules/.stamp ]]; then
  echo "deps: installing the web app's npm packages" >&2
  (cd web && npm ci --no-audit --no-fund --loglevel=error)
  touch web/node_modules/.stamp
fi
