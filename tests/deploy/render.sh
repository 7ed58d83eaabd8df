# Sourced by the deploy tests: renders an overlay with every kubectl to test
# and checks they agree.
#
#   ATES_KUBECTL="kubectl /path/to/kubectl-1.20"   (default: kubectl)
#
# Each must be on PATH or a path; a missing one FAILS the test (never a skip):
# the manifests would not have been rendered. The first renders what the test
# checks; every other must render the same objects (deploy_render_compare),
# e.g. Debian 12's kubectl 1.20 (kustomize v2.0.3) next to a current one
# (kustomize v5), ADR 0034.
# shellcheck shell=bash

read -r -a kubectls <<<"${ATES_KUBECTL:-kubectl}"
for k in "${kubectls[@]}"; do
  if ! command -v "$k" >/dev/null 2>&1; then
    echo "FAIL: kubectl ('$k') not found, so the manifests cannot be rendered or checked."
    echo "      Install Debian's package kubernetes-client (make deps does it when no kubectl is on PATH):"
    echo "      sudo apt-get install kubernetes-client"
    exit 1
  fi
done

# render TARGET OUT.yaml COMPARE_BINARY: renders deploy/k8s/TARGET (a folder)
# with every kubectl; OUT.yaml is the first one's. Returns 1 (with the
# messages printed) when one fails or they differ.
render() {
  local target=$1 out=$2 compare=$3 i=0 k t0 t1 status=0
  for k in "${kubectls[@]}"; do
    local dest=$out
    if ((i > 0)); then dest=$out.$i; fi
    t0=$(date +%s%N)
    if ! "$k" kustomize "$target" >"$dest" 2>"$dest.err"; then
      echo "FAIL: $k kustomize $target:"
      cat "$dest.err"
      return 1
    fi
    t1=$(date +%s%N)
    echo "rendered ${target##*/k8s/} with $k ($("$k" version --client 2>/dev/null | grep -o 'v[0-9]*\.[0-9]*\.[0-9]*' | head -1)) in $(((t1 - t0) / 1000000)) ms"
    if ((i > 0)) && ! "$compare" "$out" "$dest"; then
      echo "FAIL: ${kubectls[0]} and $k render $target to different objects"
      status=1
    fi
    i=$((i + 1))
  done
  return $status
}
