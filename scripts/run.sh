#!/usr/bin/env bash
# `make run` without make: starts the local stack with cmd/ates-devstack
# (PostgreSQL and nats-server with their data in .run/, every daemon that has
# been built, a first admin; Ctrl-C stops everything, the next run reuses the
# data). Its knobs (ATES_RUN_* ports, ATES_RUN_DIR, ATES_RUN_TLS=1,
# ATES_ADMIN_LOGIN/ATES_ADMIN_PASSWORD, ...): BUILD_DIR/bin/ates-devstack --help.
#
# Usage: scripts/run.sh [BUILD_DIR]   (default: build; builds ates_programs first)
set -euo pipefail
cd "$(dirname "$0")/.."
BUILD_DIR=${1:-build}
cmake --build "$BUILD_DIR" --target ates_programs >&2
exec "$BUILD_DIR/bin/ates-devstack" "$BUILD_DIR"
