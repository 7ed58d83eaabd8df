#!/usr/bin/env bash
# The PrometheusRule carries the rule file's groups: the checked-in
# prometheus-rule.yaml is what render-prometheus-rule.sh makes of the rule file
# today, the PrometheusRule `kubectl kustomize` renders equals the rule file as
# parsed YAML, and its spec passes `promtool check rules`.
#
#   prometheus_rule_test.sh SOURCE_DIR
set -euo pipefail
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
source "$here/require.sh"
src=${1:?source dir}
obs=$src/deploy/observability

require_command promtool prometheus
require_command kubectl kubernetes-client
require_node_yaml
make_work_dir

"$obs/render-prometheus-rule.sh" >"$work/prometheus-rule.yaml"
if ! diff -u "$obs/prometheus-rule.yaml" "$work/prometheus-rule.yaml"; then
  echo "FAIL: prometheus-rule.yaml is stale; regenerate it:"
  echo "  deploy/observability/render-prometheus-rule.sh > deploy/observability/prometheus-rule.yaml"
  exit 1
fi
kubectl kustomize "$obs" >"$work/rendered.yaml" 2>"$work/kustomize.err" || {
  echo "FAIL: kubectl kustomize deploy/observability:"; cat "$work/kustomize.err"; exit 1; }
node "$here/prometheus_rule_check.mjs" "$obs/ates-alerts.rules.yaml" "$work/rendered.yaml" "$work/spec.yaml"
promtool check rules "$work/spec.yaml"
echo "PrometheusRule test passed"
