#!/usr/bin/env bash
# `kubectl kustomize deploy/observability` renders (with the kubectl in PATH:
# Debian 12's 1.20 with kustomize v2.0.3, or a current one) the PrometheusRule,
# the PodMonitor and one ConfigMap per dashboard; kustomize_check.mjs checks them
# against the dashboard files and the Deployments of deploy/k8s/base.
#
#   kustomize_test.sh SOURCE_DIR
set -euo pipefail
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
source "$here/require.sh"
src=${1:?source dir}

require_command kubectl kubernetes-client
require_node_yaml
make_work_dir

kubectl kustomize "$src/deploy/observability" >"$work/observability.yaml" 2>"$work/kustomize.err" || {
  echo "FAIL: kubectl kustomize deploy/observability:"; cat "$work/kustomize.err"; exit 1; }
node "$here/kustomize_check.mjs" "$work/observability.yaml" "$src/deploy/k8s/base" \
  "$src/deploy/observability/dashboards"
echo "kustomize test passed"
