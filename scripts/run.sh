#!/usr/bin/env bash
# The embedded default (`make run`): PostgreSQL 15 and nats-server from Debian
# with their data under .run/, the five databases, every daemon binary that has
# been built, and a first admin. Ctrl-C stops everything; the next run reuses
# the data.
#
# Usage: scripts/run.sh [BUILD_DIR]   (default: build)
#
# Knobs (environment). They are run.sh's own and are not passed to the daemons:
#   ATES_ADMIN_LOGIN (admin), ATES_ADMIN_PASSWORD (else .run/admin-password,
#   else generated and stored there), ATES_RUN_DIR (.run), ATES_RUN_BIND
#   (127.0.0.1), ATES_RUN_PG_PORT (55432), ATES_RUN_NATS_PORT (4222),
#   ATES_RUN_NATS_MONITOR_PORT (unset: monitoring off),
#   ATES_RUN_<SVC>_PORT and ATES_RUN_<SVC>_METRICS_PORT for SVC in AUTH TASKS
#   BILLING ANALYTICS SCHEDULER (50051..50055 and 9151..9155),
#   ATES_RUN_STOP_TIMEOUT (seconds a daemon gets to drain, 30),
#   ATES_RUN_CONFIG_DIR (config; the daemons get --config DIR/ates-<svc>.yaml),
#   ATES_RUN_TLS (0: plaintext; 1: gRPC over TLS with a local CA made by openssl
#   in .run/tls, and ates-auth requiring client certificates (mTLS); ADR 0014).
# Every other ATES_* variable reaches the daemons unchanged, so any config key
# can be overridden for a run, e.g. ATES_LOG_LEVEL=debug make run.
set -euo pipefail

cd "$(dirname "$0")/.."
readonly ROOT=$PWD
BUILD_DIR=${1:-build}
[[ $BUILD_DIR == /* ]] || BUILD_DIR=$ROOT/$BUILD_DIR
readonly BUILD_DIR

RUN_DIR=${ATES_RUN_DIR:-$ROOT/.run}
[[ $RUN_DIR == /* ]] || RUN_DIR=$ROOT/$RUN_DIR
readonly RUN_DIR
readonly LOG_DIR=$RUN_DIR/logs PID_DIR=$RUN_DIR/pids
CONFIG_DIR=${ATES_RUN_CONFIG_DIR:-$ROOT/config}
[[ $CONFIG_DIR == /* ]] || CONFIG_DIR=$ROOT/$CONFIG_DIR
readonly CONFIG_DIR
readonly BIND=${ATES_RUN_BIND:-127.0.0.1}
readonly PG_PORT=${ATES_RUN_PG_PORT:-55432}
readonly NATS_PORT=${ATES_RUN_NATS_PORT:-4222}
readonly NATS_MONITOR_PORT=${ATES_RUN_NATS_MONITOR_PORT:-}
readonly STOP_TIMEOUT=${ATES_RUN_STOP_TIMEOUT:-30}
readonly ADMIN_LOGIN=${ATES_ADMIN_LOGIN:-admin}
readonly RUN_TLS=${ATES_RUN_TLS:-0}
readonly TLS_DIR=$RUN_DIR/tls
[[ $RUN_TLS == 0 || $RUN_TLS == 1 ]] || { printf '[run] error: ATES_RUN_TLS must be 0 or 1\n' >&2; exit 1; }

readonly SERVICES=(auth tasks billing analytics scheduler)
declare -A GRPC_PORT=([auth]=50051 [tasks]=50052 [billing]=50053 [analytics]=50054 [scheduler]=50055)
declare -A METRICS_PORT=([auth]=9151 [tasks]=9152 [billing]=9153 [analytics]=9154 [scheduler]=9155)
for svc in "${SERVICES[@]}"; do
  up=${svc^^}
  var=ATES_RUN_${up}_PORT && GRPC_PORT[$svc]=${!var:-${GRPC_PORT[$svc]}}
  var=ATES_RUN_${up}_METRICS_PORT && METRICS_PORT[$svc]=${!var:-${METRICS_PORT[$svc]}}
done

PG_BIN=${ATES_RUN_PG_BIN:-/usr/lib/postgresql/15/bin}
IS_ROOT=0
[[ $(id -u) -eq 0 ]] && IS_ROOT=1

say() { printf '[run] %s\n' "$*" >&2; }
die() { printf '[run] error: %s\n' "$*" >&2; exit 1; }

# Runs a PostgreSQL server tool as the user that owns the cluster: initdb and
# postgres refuse root, so as root that is the `postgres` system user.
pg_as() {
  if ((IS_ROOT)); then
    (cd / && runuser -u postgres -- "$@")
  else
    "$@"
  fi
}

port_in_use() {
  local port=$1
  if command -v ss >/dev/null; then
    [[ -n $(ss -Hltn "sport = :$port" 2>/dev/null) ]]
  else
    (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null
  fi
}

require_free_port() {
  local port=$1 what=$2
  if port_in_use "$port"; then
    local owner=""
    command -v ss >/dev/null && owner=$(ss -Hltnp "sport = :$port" 2>/dev/null | grep -o 'users:(([^)]*' | head -1 || true)
    die "port $port ($what) is already in use${owner:+ by ${owner#users:((}}; stop that process or choose another port with the ATES_RUN_* variables (see the top of scripts/run.sh)"
  fi
}

# Stops a process recorded in a pid file by an earlier run that was killed
# without cleaning up, but only if it still is that program.
stop_stale() {
  local pidfile=$1 pattern=$2 pid
  [[ -f $pidfile ]] || return 0
  pid=$(<"$pidfile")
  rm -f "$pidfile"
  [[ $pid =~ ^[0-9]+$ ]] || return 0
  if [[ -r /proc/$pid/cmdline ]] && tr '\0' ' ' <"/proc/$pid/cmdline" | grep -qF -- "$pattern"; then
    say "stopping $pattern left over from an earlier run (pid $pid)"
    terminate "$pid" "$STOP_TIMEOUT"
  fi
}

# A zombie counts as gone: a process left over from an earlier run is not our
# child, and its reaper may take its time.
alive() {
  local stat
  kill -0 "$1" 2>/dev/null || return 1
  stat=$(cat "/proc/$1/stat" 2>/dev/null) || return 1
  stat=${stat##*) }
  [[ ${stat:0:1} != Z ]]
}

# SIGTERM, then SIGKILL after $2 seconds. Works for processes that are not our
# children (left over from an earlier run) too.
terminate() {
  local pid=$1 timeout=$2 i
  kill -TERM "$pid" 2>/dev/null || return 0
  for ((i = 0; i < timeout * 10; i++)); do
    alive "$pid" || break
    sleep 0.1
  done
  if alive "$pid"; then
    say "pid $pid did not stop within ${timeout}s: killing it"
    kill -KILL "$pid" 2>/dev/null || true
  fi
  wait "$pid" 2>/dev/null || true
}

# Where a program lands in the build tree: build/bin/NAME, build/cmd/NAME/NAME
# or build/cmd/NAME, whichever exists. Prints nothing when it is not built.
find_bin() {
  local name=$1 candidate
  for candidate in "$BUILD_DIR/bin/$name" "$BUILD_DIR/cmd/$name/$name" "$BUILD_DIR/cmd/$name"; do
    if [[ -f $candidate && -x $candidate ]]; then
      printf '%s\n' "$candidate"
      return
    fi
  done
}

# --- checks ------------------------------------------------------------------
[[ -x $PG_BIN/initdb && -x $PG_BIN/pg_ctl ]] ||
  die "PostgreSQL 15 server tools not found in $PG_BIN (run 'make deps', or set ATES_RUN_PG_BIN)"
command -v nats-server >/dev/null || die "nats-server not found (run 'make deps')"
command -v psql >/dev/null || die "psql not found (run 'make deps')"
[[ $RUN_TLS == 0 ]] || command -v openssl >/dev/null || die "openssl not found (run 'make deps'); needed by ATES_RUN_TLS=1"
if ((IS_ROOT)); then
  getent passwd postgres >/dev/null || die "running as root needs the 'postgres' system user (installed with the postgresql package)"
fi

mkdir -p "$RUN_DIR" "$LOG_DIR" "$PID_DIR"
chmod 755 "$RUN_DIR"

# One run per data folder: a second `make run` must not adopt (and later stop)
# the servers of the first one.
exec 9>"$RUN_DIR/run.lock"
flock -n 9 || die "another scripts/run.sh is already running with $RUN_DIR; stop it first (Ctrl-C in its terminal)"

# --- clean-up ------------------------------------------------------------------
declare -A DAEMON_PID=()
NATS_PID=""
PG_STARTED=0
CLEANED=0

cleanup() {
  local rc=$?
  ((CLEANED)) && return
  CLEANED=1
  trap '' INT TERM HUP
  local svc pid
  if ((${#DAEMON_PID[@]})); then
    say "stopping daemons: ${!DAEMON_PID[*]}"
    for svc in "${!DAEMON_PID[@]}"; do kill -TERM "${DAEMON_PID[$svc]}" 2>/dev/null || true; done
    for svc in "${!DAEMON_PID[@]}"; do
      pid=${DAEMON_PID[$svc]}
      terminate "$pid" "$STOP_TIMEOUT"
      rm -f "$PID_DIR/$svc.pid"
    done
  fi
  if [[ -n $NATS_PID ]]; then
    say "stopping nats-server"
    terminate "$NATS_PID" 10
    rm -f "$PID_DIR/nats.pid"
  fi
  if ((PG_STARTED)) && pg_as "$PG_BIN/pg_ctl" -D "$PG_DATA" status >/dev/null 2>&1 9>&-; then
    say "stopping PostgreSQL"
    pg_as "$PG_BIN/pg_ctl" -D "$PG_DATA" -m fast -w stop >/dev/null 9>&- || say "pg_ctl stop failed: see $PG_LOG"
  fi
  if ((PG_STARTED)) || [[ -n $NATS_PID ]]; then
    say "stopped; data kept in $RUN_DIR (remove it for a fresh start)"
  fi
  exit "$rc"
}
trap cleanup EXIT
trap 'exit 0' INT TERM HUP

# --- leftovers and ports ----------------------------------------------------------
# Everything is checked before anything starts. PostgreSQL's port is checked
# below, since a server left running on our data folder is reused.
missing=()
declare -A BIN=()
for svc in "${SERVICES[@]}"; do
  bin=$(find_bin "ates-$svc")
  stop_stale "$PID_DIR/$svc.pid" "ates-$svc --config"
  [[ -n $bin ]] || { missing+=("ates-$svc"); continue; }
  BIN[$svc]=$bin
  [[ -f $CONFIG_DIR/ates-$svc.yaml ]] || die "$CONFIG_DIR/ates-$svc.yaml is missing"
  require_free_port "${GRPC_PORT[$svc]}" "ates-$svc gRPC"
  require_free_port "${METRICS_PORT[$svc]}" "ates-$svc metrics"
done
stop_stale "$PID_DIR/nats.pid" "$RUN_DIR/nats"
require_free_port "$NATS_PORT" "nats-server"
[[ -z $NATS_MONITOR_PORT ]] || require_free_port "$NATS_MONITOR_PORT" "nats-server monitoring"

# --- PostgreSQL ----------------------------------------------------------------
# As root the data folder must be reachable by the postgres user. When the
# repository lives where it cannot traverse (e.g. under /root), keep the data in
# /var/tmp and link it from .run/.
PG_DATA=$RUN_DIR/pg
PG_SOCK=$RUN_DIR/pgsock
PG_LOG=$LOG_DIR/postgres.log
if ((IS_ROOT)) && ! runuser -u postgres -- test -x "$RUN_DIR" 2>/dev/null; then
  alt=/var/tmp/ates-run-$(printf '%s' "$RUN_DIR" | md5sum | cut -c1-12)
  say "the postgres user cannot reach $RUN_DIR: keeping PostgreSQL data in $alt (linked from $RUN_DIR/pg)"
  [[ -L $PG_DATA || ! -e $PG_DATA ]] || die "$PG_DATA exists but the postgres user cannot reach it; move the repository or remove $PG_DATA"
  mkdir -p "$alt"
  chmod 755 "$alt"
  PG_DATA=$alt/pg
  PG_SOCK=$alt/pgsock
  PG_LOG=$alt/postgres.log
  ln -sfn "$PG_DATA" "$RUN_DIR/pg"
  ln -sfn "$PG_LOG" "$LOG_DIR/postgres.log"
fi
# Unix socket paths are limited to 107 bytes.
if ((${#PG_SOCK} > 90)); then
  PG_SOCK=/tmp/ates-pgsock-$(printf '%s' "$RUN_DIR" | md5sum | cut -c1-12)
fi
readonly PG_DATA PG_SOCK PG_LOG
mkdir -p "$PG_DATA" "$PG_SOCK"
touch "$PG_LOG"
if ((IS_ROOT)); then
  chown postgres:postgres "$PG_DATA" "$PG_SOCK" "$PG_LOG"
else
  owner=$(stat -c %U "$PG_DATA")
  [[ $owner == "$(id -un)" ]] ||
    die "$PG_DATA belongs to '$owner' (an earlier run as root?); run as root again, or remove $PG_DATA"
fi
chmod 700 "$PG_DATA"

if [[ ! -f $PG_DATA/PG_VERSION ]]; then
  say "initialising PostgreSQL in $PG_DATA"
  find "$PG_DATA" -mindepth 1 -delete # left by an interrupted initdb
  pg_as "$PG_BIN/initdb" -D "$PG_DATA" -U postgres --auth=trust -E UTF8 --locale=C \
    >"$LOG_DIR/initdb.log" 2>&1 9>&- || { cat "$LOG_DIR/initdb.log" >&2; die "initdb failed"; }
fi

pg_running_port() {
  pg_as "$PG_BIN/pg_ctl" -D "$PG_DATA" status >/dev/null 2>&1 9>&- || return 1
  sed -n 4p "$PG_DATA/postmaster.pid" 2>/dev/null
}
if running_port=$(pg_running_port); then
  if [[ $running_port == "$PG_PORT" ]]; then
    say "PostgreSQL from an earlier run is still up on port $PG_PORT: reusing it"
  else
    say "PostgreSQL from an earlier run is up on port $running_port: restarting it on $PG_PORT"
    pg_as "$PG_BIN/pg_ctl" -D "$PG_DATA" -m fast -w stop >/dev/null 9>&-
  fi
fi
if ! pg_running_port >/dev/null; then
  require_free_port "$PG_PORT" "PostgreSQL"
  PG_STARTED=1
  say "starting PostgreSQL on 127.0.0.1:$PG_PORT"
  pg_as "$PG_BIN/pg_ctl" -D "$PG_DATA" -l "$PG_LOG" -w -t 60 \
    -o "-p $PG_PORT -k '$PG_SOCK' -c listen_addresses=127.0.0.1 -c max_connections=200" start \
    >/dev/null 9>&- || { tail -n 20 "$PG_LOG" >&2; die "PostgreSQL did not start (log: $PG_LOG)"; }
fi
PG_STARTED=1 # also when reused: this run owns it now and stops it at the end
for _ in $(seq 1 100); do
  pg_isready -q -h 127.0.0.1 -p "$PG_PORT" -U postgres && break
  sleep 0.1
done
pg_isready -q -h 127.0.0.1 -p "$PG_PORT" -U postgres || die "PostgreSQL does not accept connections on 127.0.0.1:$PG_PORT"

psql_admin() { psql -X -q -v ON_ERROR_STOP=1 -h 127.0.0.1 -p "$PG_PORT" -U postgres -d postgres "$@"; }
for svc in "${SERVICES[@]}"; do
  db=ates_$svc
  if [[ -z $(psql_admin -tAc "SELECT 1 FROM pg_database WHERE datname = '$db'") ]]; then
    say "creating database $db"
    psql_admin -c "CREATE DATABASE $db"
  fi
done

# --- NATS JetStream ------------------------------------------------------------
mkdir -p "$RUN_DIR/nats"
# Each daemon connects as its own NATS user (ADR 15): passwords are generated
# once into $RUN_DIR/nats-passwords/ (0600), the permissions come from the
# table shared with Kubernetes and the tests.
readonly NATS_PASSWORD_DIR=$RUN_DIR/nats-passwords
(umask 077 && mkdir -p "$NATS_PASSWORD_DIR")
nats_users=""
for svc in "${SERVICES[@]}"; do
  pw_file=$NATS_PASSWORD_DIR/ates-$svc
  if [[ ! -s $pw_file ]]; then
    pw=""
    while ((${#pw} < 32)); do pw+=$(LC_ALL=C tr -dc 'A-Za-z0-9' < <(head -c 256 /dev/urandom)); done
    (umask 077 && printf '%s\n' "${pw:0:32}" >"$pw_file")
  fi
  chmod 600 "$pw_file"
  nats_users+="    {user: \"ates-$svc\", password: \"$(head -n 1 "$pw_file")\", permissions: \$ATES_${svc^^}_PERMISSIONS}"$'\n'
done
cp "$ROOT/deploy/k8s/base/nats/ates-permissions.conf" "$RUN_DIR/ates-permissions.conf"
(umask 077 && cat >"$RUN_DIR/nats.conf" <<NATSCONF
# Written by scripts/run.sh at every start; passwords: $NATS_PASSWORD_DIR/.
include ./ates-permissions.conf
authorization {
  users = [
$nats_users  ]
}
NATSCONF
)
say "starting nats-server (JetStream) on 127.0.0.1:$NATS_PORT"
nats_args=(-c "$RUN_DIR/nats.conf" -js -sd "$RUN_DIR/nats" -a 127.0.0.1 -p "$NATS_PORT")
[[ -z $NATS_MONITOR_PORT ]] || nats_args+=(-m "$NATS_MONITOR_PORT")
# setsid: a Ctrl-C in the terminal must reach only this script, which then
# stops the daemons before the broker they drain into.
setsid nats-server "${nats_args[@]}" >>"$LOG_DIR/nats.log" 2>&1 </dev/null 9>&- &
NATS_PID=$!
echo "$NATS_PID" >"$PID_DIR/nats.pid"

# The server greets every client with an INFO line once it is ready.
nats_ready() {
  (
    exec 3<>"/dev/tcp/127.0.0.1/$NATS_PORT" || exit 1
    read -r -t 2 line <&3 || exit 1
    [[ $line == INFO* ]]
  ) 2>/dev/null
}
for _ in $(seq 1 100); do
  nats_ready && break
  kill -0 "$NATS_PID" 2>/dev/null || { tail -n 20 "$LOG_DIR/nats.log" >&2; die "nats-server exited (log: $LOG_DIR/nats.log)"; }
  sleep 0.1
done
nats_ready || die "nats-server does not accept connections on 127.0.0.1:$NATS_PORT"

# --- first admin -----------------------------------------------------------------
if [[ -n ${ATES_ADMIN_PASSWORD:-} ]]; then
  ADMIN_PASSWORD=$ATES_ADMIN_PASSWORD
  if [[ ! -f $RUN_DIR/admin-password ]]; then
    (umask 077 && printf '%s\n' "$ADMIN_PASSWORD" >"$RUN_DIR/admin-password")
  fi
elif [[ -s $RUN_DIR/admin-password ]]; then
  ADMIN_PASSWORD=$(head -n 1 "$RUN_DIR/admin-password")
else
  ADMIN_PASSWORD=""
  while ((${#ADMIN_PASSWORD} < 20)); do
    ADMIN_PASSWORD+=$(LC_ALL=C tr -dc 'A-Za-z0-9' < <(head -c 256 /dev/urandom))
  done
  ADMIN_PASSWORD=${ADMIN_PASSWORD:0:20}
  (umask 077 && printf '%s\n' "$ADMIN_PASSWORD" >"$RUN_DIR/admin-password")
fi
chmod 600 "$RUN_DIR/admin-password"

# --- key that seals ates-auth's signing keys at rest (ADR 16) ----------------------
if [[ -n ${ATES_AUTH_KEY_ENCRYPTION_KEY:-} ]]; then
  KEY_ENCRYPTION_KEY=$ATES_AUTH_KEY_ENCRYPTION_KEY
else
  if [[ ! -s $RUN_DIR/auth-key-encryption-key ]]; then
    (umask 077 && head -c 32 /dev/urandom | base64 >"$RUN_DIR/auth-key-encryption-key")
  fi
  KEY_ENCRYPTION_KEY=$(head -n 1 "$RUN_DIR/auth-key-encryption-key")
fi

# --- TLS (ATES_RUN_TLS=1) ----------------------------------------------------------
# A local CA, a server certificate per daemon (127.0.0.1, localhost and the bind
# address) and client certificates for the daemons' calls to ates-auth and for
# atesctl. Kept across runs; remade when missing or expiring within a day.
tls_valid() { [[ -s $TLS_DIR/$1.pem ]] && openssl x509 -checkend 86400 -noout -in "$TLS_DIR/$1.pem" >/dev/null 2>&1; }
make_tls() {
  local certs=scripts/tls-certs.sh svc sans="IP:127.0.0.1 DNS:localhost"
  [[ $BIND == 127.0.0.1 || $BIND == 0.0.0.0 ]] || sans+=" IP:$BIND"
  if ! tls_valid ca; then
    say "making a local CA in $TLS_DIR"
    rm -rf "$TLS_DIR"
    "$certs" "$TLS_DIR" ca ca
  fi
  for svc in "${SERVICES[@]}"; do
    tls_valid "ates-$svc" || "$certs" "$TLS_DIR" server "ates-$svc" ca $sans
    tls_valid "ates-$svc-client" || "$certs" "$TLS_DIR" client "ates-$svc-client" ca
  done
  tls_valid atesctl || "$certs" "$TLS_DIR" client atesctl ca
  chmod 700 "$TLS_DIR"
}
[[ $RUN_TLS == 0 ]] || make_tls

# --- daemons ---------------------------------------------------------------------
# Variables that are run.sh's own must not reach the daemons, whose config
# loader maps ATES_* to config keys.
unset_args=()
while IFS='=' read -r name _; do
  [[ $name == ATES_RUN_* || $name == ATES_ADMIN_LOGIN || $name == ATES_ADMIN_PASSWORD ]] && unset_args+=(-u "$name")
done < <(env)

started=()

for svc in "${SERVICES[@]}"; do
  bin=${BIN[$svc]:-}
  [[ -n $bin ]] || continue
  svc_env=(
    "ATES_DATABASE_URL=postgresql://postgres@127.0.0.1:$PG_PORT/ates_$svc"
    "ATES_NATS_URL=nats://127.0.0.1:$NATS_PORT"
    "ATES_NATS_PASSWORD_FILE=$NATS_PASSWORD_DIR/ates-$svc"
    "ATES_GRPC_LISTEN=$BIND:${GRPC_PORT[$svc]}"
    "ATES_ADMIN_LISTEN=$BIND:${METRICS_PORT[$svc]}"
  )
  if [[ $svc == auth ]]; then
    svc_env+=("ATES_BOOTSTRAP_ADMIN_LOGIN=$ADMIN_LOGIN" "ATES_BOOTSTRAP_ADMIN_PASSWORD=$ADMIN_PASSWORD"
      "ATES_AUTH_KEY_ENCRYPTION_KEY=$KEY_ENCRYPTION_KEY")
  else
    # Where the other daemons fetch the token-verification keys.
    svc_env+=("ATES_AUTH_KEYS_URL=127.0.0.1:${GRPC_PORT[auth]}")
  fi
  if [[ $RUN_TLS == 1 ]]; then
    svc_env+=("ATES_GRPC_TLS_CERT=$TLS_DIR/ates-$svc.pem" "ATES_GRPC_TLS_KEY=$TLS_DIR/ates-$svc.key")
    if [[ $svc == auth ]]; then
      svc_env+=("ATES_GRPC_TLS_CLIENT_CA=$TLS_DIR/ca.pem")
    else
      svc_env+=("ATES_AUTH_TLS_CA=$TLS_DIR/ca.pem" "ATES_AUTH_TLS_CERT=$TLS_DIR/ates-$svc-client.pem"
        "ATES_AUTH_TLS_KEY=$TLS_DIR/ates-$svc-client.key")
    fi
  fi
  log=$LOG_DIR/$svc.log
  printf '\n' >>"$log"
  # The daemon writes JSON lines; the log file keeps them as they are, the
  # terminal gets them prefixed with the service name. The filter ignores
  # Ctrl-C so it prints the daemon's last lines while it drains.
  setsid env "${unset_args[@]}" "${svc_env[@]}" "$bin" --config "$CONFIG_DIR/ates-$svc.yaml" \
    </dev/null 9>&- > >(exec 9>&-; trap '' INT TERM; tee -a "$log" | sed -u "s/^/[$svc] /") 2>&1 &
  DAEMON_PID[$svc]=$!
  echo "$!" >"$PID_DIR/$svc.pid"
  started+=("ates-$svc")
  say "started ates-$svc (pid $!): gRPC $BIND:${GRPC_PORT[$svc]}, metrics http://$BIND:${METRICS_PORT[$svc]}/metrics, log $log"
done

# --- banner -----------------------------------------------------------------------
{
  echo
  echo "================================ aTES is running ================================"
  printf '  PostgreSQL   127.0.0.1:%s  (user postgres, no password; data %s)\n' "$PG_PORT" "$PG_DATA"
  printf '  NATS         nats://127.0.0.1:%s  (JetStream, data %s/nats)\n' "$NATS_PORT" "$RUN_DIR"
  printf '               one user per daemon (ADR 15), passwords in %s/\n' "$NATS_PASSWORD_DIR"
  if [[ $RUN_TLS == 1 ]]; then
    printf '  gRPC TLS     CA %s/ca.pem; ates-auth requires client certificates (mTLS)\n' "$TLS_DIR"
  else
    printf '  gRPC         plaintext (ATES_RUN_TLS=1 for TLS)\n'
  fi
  for svc in "${SERVICES[@]}"; do
    state="running"
    [[ -n ${DAEMON_PID[$svc]:-} ]] || state="not built"
    printf '  %-15s gRPC %s:%-6s metrics %s:%-5s %s\n' "ates-$svc" "$BIND" "${GRPC_PORT[$svc]}" "$BIND" "${METRICS_PORT[$svc]}" "$state"
  done
  echo
  printf '  admin login:    %s\n' "$ADMIN_LOGIN"
  printf '  admin password: %s   (stored in %s/admin-password)\n' "$ADMIN_PASSWORD" "$RUN_DIR"
  echo "  (the admin is created only when that login does not exist yet; later password"
  echo "   changes are not reflected here)"
  if [[ -n ${DAEMON_PID[auth]:-} ]]; then
    echo
    echo "  Log in:"
    atesctl=$(find_bin atesctl)
    login_body=$(printf '{"login":"%s","password":"%s"}' "$ADMIN_LOGIN" "$ADMIN_PASSWORD")
    if [[ $RUN_TLS == 1 ]]; then
      tls=${TLS_DIR#"$ROOT"/}
      if [[ -n $atesctl ]]; then
        printf '    export ATES_TLS_CA=%s/ca.pem ATES_TLS_CERT=%s/atesctl.pem ATES_TLS_KEY=%s/atesctl.key\n' "$tls" "$tls" "$tls"
        printf '    %s login --user %s   (or the flags --tls-ca/--tls-cert/--tls-key)\n' "${atesctl#"$ROOT"/}" "$ADMIN_LOGIN"
      fi
      printf "    node_modules/.bin/buf curl --protocol grpc --cacert %s/ca.pem --cert %s/atesctl.pem --key %s/atesctl.key -d '%s' https://127.0.0.1:%s/ates.auth.v1.AuthService/Login\n" \
        "$tls" "$tls" "$tls" "$login_body" "${GRPC_PORT[auth]}"
      printf "    grpcurl -cacert %s/ca.pem -cert %s/atesctl.pem -key %s/atesctl.key -d '%s' 127.0.0.1:%s ates.auth.v1.AuthService/Login\n" \
        "$tls" "$tls" "$tls" "$login_body" "${GRPC_PORT[auth]}"
    else
      if [[ -n $atesctl ]]; then
        printf '    %s login --user %s\n' "${atesctl#"$ROOT"/}" "$ADMIN_LOGIN"
      fi
      printf "    node_modules/.bin/buf curl --protocol grpc --http2-prior-knowledge -d '%s' http://127.0.0.1:%s/ates.auth.v1.AuthService/Login\n" \
        "$login_body" "${GRPC_PORT[auth]}"
    fi
  fi
  if ((${#missing[@]})); then
    echo
    if ((${#started[@]} == 0)); then
      echo "  No daemon binary found in ${BUILD_DIR#"$ROOT"/}/bin or ${BUILD_DIR#"$ROOT"/}/cmd (run 'make build')."
      echo "  PostgreSQL and NATS stay up for daemons you start yourself, e.g.:"
      printf '    ATES_DATABASE_URL=postgresql://postgres@127.0.0.1:%s/ates_auth ATES_NATS_URL=nats://127.0.0.1:%s \\\n' "$PG_PORT" "$NATS_PORT"
      printf '    ATES_NATS_PASSWORD_FILE=%s/ates-auth \\\n' "$NATS_PASSWORD_DIR"
      printf '    ATES_BOOTSTRAP_ADMIN_LOGIN=%s ATES_BOOTSTRAP_ADMIN_PASSWORD=... BIN --config config/ates-auth.yaml\n' "$ADMIN_LOGIN"
    else
      echo "  Not built (skipped): ${missing[*]}"
    fi
  fi
  echo
  echo "  Logs: $LOG_DIR/   Ctrl-C stops everything; data stays in $RUN_DIR."
  echo "=================================================================================="
  echo
} >&2

# --- supervise --------------------------------------------------------------------
# A daemon that exits on its own (bad config exits 2) takes the others down, so
# a broken start is not mistaken for a running system.
while true; do
  for svc in "${!DAEMON_PID[@]}"; do
    pid=${DAEMON_PID[$svc]}
    if ! kill -0 "$pid" 2>/dev/null; then
      rc=0
      wait "$pid" || rc=$?
      unset "DAEMON_PID[$svc]"
      rm -f "$PID_DIR/$svc.pid"
      say "ates-$svc exited with status $rc (log: $LOG_DIR/$svc.log); stopping the rest"
      exit 1
    fi
  done
  if ! kill -0 "$NATS_PID" 2>/dev/null; then
    NATS_PID=""
    say "nats-server exited (log: $LOG_DIR/nats.log); stopping the rest"
    exit 1
  fi
  sleep 1 9>&- &
  wait $! || true
done
