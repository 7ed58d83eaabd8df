#!/usr/bin/env bash
# The alert rules: `promtool check rules`, the promtool unit tests (every alert
# fires on one series and stays silent on another, at its boundary), and
# rules_check.mjs (severity, annotations, runbook entry, known metric names).
#
#   rules_test.sh SOURCE_DIR
set -euo pipefail
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
source "$here/require.sh"
src=${1:?source dir}
obs=$src/deploy/observability

require_command promtool prometheus
require_node_yaml

promtool check rules "$obs/ates-alerts.rules.yaml"
promtool test rules "$obs/ates-alerts.test.yaml"
node "$here/rules_check.mjs" "$obs/ates-alerts.rules.yaml" "$obs/ates-alerts.test.yaml" "$src/deploy/README.md"
echo "rules test passed"
