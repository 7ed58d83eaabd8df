#!/usr/bin/env bash
# The Grafana dashboards: dashboards_check.mjs (JSON, unique ids, the
# ${datasource}/namespace/job variables, known metric names), then every PromQL
# expression, as a recording rule, through `promtool check rules`.
#
#   dashboards_test.sh SOURCE_DIR
set -euo pipefail
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
source "$here/require.sh"
src=${1:?source dir}

require_command promtool prometheus
require_command node nodejs
make_work_dir

node "$here/dashboards_check.mjs" "$src/deploy/observability/dashboards" "$work/dashboard-rules.yaml"
promtool check rules "$work/dashboard-rules.yaml"
echo "dashboards test passed"
