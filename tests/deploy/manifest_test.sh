#!/usr/bin/env bash
# The Kubernetes manifests: renders deploy/k8s/base and the dev and prod
# overlays with `kubectl kustomize` and checks each rendering with
# deploy_manifest_check (yaml-cpp): probes, resources, labels, security,
# Services, references, no Secrets with data in prod.
#
#   manifest_test.sh CHECKER_BINARY K8S_DIR COMPARE_BINARY
#
# Fails when kubectl is not installed (render.sh: every kubectl of
# ATES_KUBECTL renders, and they must agree). Schema validation: with
# kubeconform or kubeval when one is in PATH (neither is packaged in Debian
# 12), else with schema_validate.mjs when node can import the npm packages
# kubernetes-models and yaml (offline, schemas bundled; e.g. from the repo's
# node_modules), else it is skipped with a note.
set -euo pipefail

checker=${1:?checker binary}
k8s=${2:?deploy/k8s folder}
compare=${3:?deploy_render_compare binary}
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# shellcheck source=render.sh
source "$here/render.sh"

work=$(mktemp -d "${TMPDIR:-/tmp}/ates-manifests.XXXXXX")
trap 'rm -rf "$work"' EXIT

validator=""
if command -v kubeconform >/dev/null 2>&1; then
  validator="kubeconform -strict -summary"
elif command -v kubeval >/dev/null 2>&1; then
  validator="kubeval --strict"
elif command -v node >/dev/null 2>&1; then
  # Resolves kubernetes-models from tests/deploy upwards (the repo's node_modules).
  if node "$here/schema_validate.mjs" </dev/null >/dev/null 2>&1; then
    validator="node $here/schema_validate.mjs"
  fi
fi

failed=0
for target in base overlays/dev overlays/prod; do
  name=${target#overlays/}
  out="$work/$name.yaml"
  if ! render "$k8s/$target" "$out" "$compare"; then
    failed=1
    [[ -s $out ]] || continue
  fi
  # The daemons' config (consumer durables vs the NATS permission table).
  if ! "$checker" "$name" "$out" "$k8s/../../config"; then
    failed=1
  fi
  if [[ -n $validator ]]; then
    if ! $validator "$out"; then
      echo "FAIL: schema validation of $target ($validator)"
      failed=1
    fi
  fi
done
if [[ -z $validator ]]; then
  echo "note: no offline schema validator (kubeconform, kubeval, or node with the npm package kubernetes-models) available; structure checked by deploy_manifest_check only"
fi

if [[ $failed -ne 0 ]]; then
  echo "manifest test FAILED"
  exit 1
fi
echo "manifest test passed"
