# Sourced by the observability tests. A missing tool fails the test with the
# Debian package to install: these checks are never skipped.

# require_command COMMAND DEBIAN_PACKAGE
require_command() {
  if ! command -v "$1" >/dev/null 2>&1; then
    echo "FAIL: '$1' is not installed: install the Debian package $2 (make deps / scripts/deps.sh)"
    exit 1
  fi
}

# require_node_yaml: node and the npm package `yaml` of the repository's
# package.json (scripts/deps.sh runs npm ci).
require_node_yaml() {
  require_command node nodejs
  if ! (cd "$(dirname "${BASH_SOURCE[0]}")" && node -e 'require.resolve("yaml")' >/dev/null 2>&1); then
    echo "FAIL: the npm package 'yaml' is missing: run scripts/deps.sh (npm ci in the repository root)"
    exit 1
  fi
}

# A scratch folder removed on exit, in $work.
make_work_dir() {
  work=$(mktemp -d "${TMPDIR:-/tmp}/ates-observability.XXXXXX")
  trap 'rm -rf "$work"' EXIT
}
