#!/bin/bash
# ates-provision: creates the aTES databases that do not exist yet, then exits.
# Idempotent, so the Job may run on every deploy. Tables are created by each
# daemon's migrations at start, and JetStream streams by each daemon at start
# (js_AddStream / js_UpdateStream), so neither is done here.
#
# Environment:
#   ATES_PROVISION_ADMIN_URL   libpq URL of a role allowed to CREATE DATABASE,
#                              e.g. postgresql://postgres:PW@postgres:5432/postgres
#   ATES_PROVISION_DATABASES   default: ates_auth ates_tasks ates_billing
#                              ates_analytics ates_scheduler
#   ATES_PROVISION_OWNER       optional role that should own the new databases
#   ATES_PROVISION_WAIT        seconds to wait for PostgreSQL (default 120)
set -euo pipefail

admin_url=${ATES_PROVISION_ADMIN_URL:?set ATES_PROVISION_ADMIN_URL}
databases=${ATES_PROVISION_DATABASES:-ates_auth ates_tasks ates_billing ates_analytics ates_scheduler}
owner=${ATES_PROVISION_OWNER:-}
wait_s=${ATES_PROVISION_WAIT:-120}
export PGCONNECT_TIMEOUT=5

log() { printf '{"level":"info","service":"ates-provision","msg":"%s"}\n' "$*" >&2; }
fail() { printf '{"level":"error","service":"ates-provision","msg":"%s"}\n' "$*" >&2; exit 1; }
psql_admin() { psql -X -q -v ON_ERROR_STOP=1 -d "$admin_url" "$@"; }

ident='^[a-z_][a-z0-9_]{0,62}$'
[[ -z $owner || $owner =~ $ident ]] || fail "ATES_PROVISION_OWNER '$owner' is not a plain lower-case identifier"
for db in $databases; do
  [[ $db =~ $ident ]] || fail "database name '$db' is not a plain lower-case identifier"
done

deadline=$((SECONDS + wait_s))
until pg_isready -q -d "$admin_url"; do
  ((SECONDS < deadline)) || fail "PostgreSQL not reachable within ${wait_s}s"
  sleep 2
done

for db in $databases; do
  if [[ -n $(psql_admin -tA -c "SELECT 1 FROM pg_database WHERE datname = '$db'") ]]; then
    log "database $db exists"
    continue
  fi
  log "creating database $db"
  # Two Jobs racing each other: the loser's CREATE fails, and the check after it passes.
  psql_admin -c "CREATE DATABASE $db${owner:+ OWNER $owner}" ||
    [[ -n $(psql_admin -tA -c "SELECT 1 FROM pg_database WHERE datname = '$db'") ]] ||
    fail "could not create database $db"
done
log "done"
