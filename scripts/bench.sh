#!/usr/bin/env bash
# `make bench`: starts a private PostgreSQL 15 and nats-server (JetStream, file
# storage) on free ports in a temporary folder, runs the benchmark programs of
# BUILD_DIR/bench against them, prints every figure and a side-by-side table,
# and stops and removes everything on exit. Exits non-zero if a program fails.
# Benchmarks print figures; they never fail on speed.
#
# Usage: scripts/bench.sh [BUILD_DIR]   (default: build)
# Knobs: ATES_BENCH_EVENTS (200000), ATES_BENCH_PG_BIN (/usr/lib/postgresql/15/bin),
#        ATES_BENCH_KEEP=1 keeps the temporary folder (logs) after the run,
#        ATES_BENCH_PROGRAMS="bench_raw_pg bench_services" runs only those programs
#        (bench_services also reads ATES_BENCH_ONLY=create,shuffle,...),
#        ATES_BENCH_PG_OPTS="-c shared_preload_libraries=pg_stat_statements" adds
#        server options (for profiling; figures are meant with the defaults).
set -euo pipefail

cd "$(dirname "$0")/.."
readonly ROOT=$PWD
BUILD_DIR=${1:-build}
[[ $BUILD_DIR == /* ]] || BUILD_DIR=$ROOT/$BUILD_DIR
readonly BUILD_DIR BIN_DIR=$BUILD_DIR/bench
readonly PG_BIN=${ATES_BENCH_PG_BIN:-/usr/lib/postgresql/15/bin}
export ATES_BENCH_EVENTS=${ATES_BENCH_EVENTS:-200000}
read -r -a PROGRAMS <<<"${ATES_BENCH_PROGRAMS:-bench_raw_nats bench_raw_pg bench_platform bench_services}"
readonly PROGRAMS

say() { printf '[bench] %s\n' "$*" >&2; }
die() { printf '[bench] error: %s\n' "$*" >&2; exit 1; }

for p in "${PROGRAMS[@]}"; do
  [[ -x $BIN_DIR/$p ]] || die "$BIN_DIR/$p is missing: build first (make build, or cmake --build $BUILD_DIR --target ates_bench)"
done
[[ -x $PG_BIN/initdb ]] || die "PostgreSQL 15 not found in $PG_BIN (apt-get install postgresql)"
command -v nats-server >/dev/null || die "nats-server not found (apt-get install nats-server)"

IS_ROOT=0
[[ $(id -u) -eq 0 ]] && IS_ROOT=1

# initdb and postgres refuse root: as root, run them as the `postgres` system user.
pg_as() {
  if ((IS_ROOT)); then
    (cd / && runuser -u postgres -- "$@")
  else
    "$@"
  fi
}

port_in_use() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }

# A port nobody listens on: the kernel's pick for port 0, else random probing.
free_port() {
  local port
  if command -v python3 >/dev/null; then
    port=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
    port_in_use "$port" || { echo "$port"; return; }
  fi
  for _ in $(seq 200); do
    port=$((20000 + RANDOM % 30000))
    port_in_use "$port" || { echo "$port"; return; }
  done
  die "no free port found"
}

WORK=$(mktemp -d /tmp/ates-bench.XXXXXX)
readonly WORK
NATS_PID=""
PG_STARTED=0

cleanup() {
  local rc=$?
  set +e
  if [[ -n $NATS_PID ]]; then
    kill -TERM "$NATS_PID" 2>/dev/null
    wait "$NATS_PID" 2>/dev/null
  fi
  if ((PG_STARTED)); then
    pg_as "$PG_BIN/pg_ctl" -D "$WORK/pg/data" -m fast -w -t 60 stop >/dev/null 2>&1 ||
      pg_as "$PG_BIN/pg_ctl" -D "$WORK/pg/data" -m immediate -w stop >/dev/null 2>&1
  fi
  if [[ ${ATES_BENCH_KEEP:-0} == 1 ]]; then
    say "kept $WORK"
  else
    rm -rf "$WORK"
  fi
  exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

# PostgreSQL with its normal durability (fsync, full_page_writes and synchronous
# commit on); only sizes are raised so that checkpoints do not dominate the run.
chmod 755 "$WORK"
mkdir -p "$WORK/pg/data" "$WORK/pg/sock" "$WORK/nats"
((IS_ROOT)) && chown -R postgres:postgres "$WORK/pg"
PG_PORT=$(free_port)
say "PostgreSQL on 127.0.0.1:$PG_PORT, data in $WORK/pg"
# --no-sync only skips flushing initdb's own files; the server runs with fsync on.
pg_as "$PG_BIN/initdb" -D "$WORK/pg/data" -U postgres --auth=trust -E UTF8 --no-locale \
  --no-sync >"$WORK/initdb.log" 2>&1 || { cat "$WORK/initdb.log" >&2; die "initdb failed"; }
PG_STARTED=1
pg_as "$PG_BIN/pg_ctl" -D "$WORK/pg/data" -l "$WORK/pg/postgres.log" -w -t 60 \
  -o "-p $PG_PORT -k $WORK/pg/sock -c listen_addresses=127.0.0.1 -c fsync=on -c synchronous_commit=on -c shared_buffers=256MB -c max_wal_size=4GB -c checkpoint_timeout=15min ${ATES_BENCH_PG_OPTS:-}" \
  start >/dev/null || { cat "$WORK/pg/postgres.log" >&2; die "PostgreSQL did not start"; }
for db in ates_bench_raw ates_bench_platform ates_bench_services; do
  "$PG_BIN/createdb" -h 127.0.0.1 -p "$PG_PORT" -U postgres "$db"
done

NATS_PORT=$(free_port)
[[ $NATS_PORT != "$PG_PORT" ]] || NATS_PORT=$(free_port)
say "nats-server on 127.0.0.1:$NATS_PORT, store in $WORK/nats"
nats-server -js -sd "$WORK/nats" -a 127.0.0.1 -p "$NATS_PORT" >"$WORK/nats.log" 2>&1 &
NATS_PID=$!
for i in $(seq 100); do
  port_in_use "$NATS_PORT" && break
  kill -0 "$NATS_PID" 2>/dev/null || { cat "$WORK/nats.log" >&2; die "nats-server exited"; }
  ((i < 100)) || die "nats-server did not listen on $NATS_PORT"
  sleep 0.1
done

export ATES_BENCH_NATS_URL=nats://127.0.0.1:$NATS_PORT
export ATES_BENCH_RESULTS=$WORK/results.tsv
: >"$ATES_BENCH_RESULTS"
readonly PG_URL_BASE=postgresql://postgres@127.0.0.1:$PG_PORT

failed=()
run() {
  local program=$1 db=$2
  printf '\n== %s ==\n' "$program"
  if ! ATES_BENCH_PG_URL=$PG_URL_BASE/$db "$BIN_DIR/$program"; then
    failed+=("$program")
  fi
}
start=$SECONDS
load_start=$(cut -d' ' -f1 /proc/loadavg 2>/dev/null || echo '?')
for p in "${PROGRAMS[@]}"; do
  case $p in
    bench_raw_*) run "$p" ates_bench_raw ;;
    bench_platform) run "$p" ates_bench_platform ;;
    # Starts the daemons itself (each with a fresh database on this server).
    bench_services) run "$p" ates_bench_services ;;
    *) die "unknown benchmark program $p" ;;
  esac
done

cores=$(nproc)
load_end=$(cut -d' ' -f1 /proc/loadavg 2>/dev/null || echo '?')
printf '\n== aTES benchmark: platform %s events of ~200 B, %s cores, PostgreSQL 15 (fsync on), nats-server %s ==\n' \
  "$ATES_BENCH_EVENTS" "$cores" "$(nats-server --version 2>/dev/null | awk '{print $NF}')"
# Everything shares the cores: other work on the machine lowers every figure alike.
printf 'load average %s at the start, %s at the end\n' "$load_start" "$load_end"
awk -F'\t' '
  function grouped(n,   s, out) {
    s = sprintf("%d", n); out = ""
    while (length(s) > 3) { out = "," substr(s, length(s) - 2) out; s = substr(s, 1, length(s) - 3) }
    return s out
  }
  { key[NR] = $1; label[NR] = $2; count[NR] = $3; secs[NR] = $4; rate[NR] = $5; unit[NR] = $6; by[$1] = $5; sec[$1] = $4; cnt[$1] = $3 }
  END {
    printf "%-56s %10s %8s %14s\n", "figure", "count", "seconds", "rate"
    for (i = 1; i <= NR; i++) {
      if (key[i] ~ /^6-outbox-fill-2/) continue
      printf "%-56s %10s %8.2f %14s %s\n", label[i], grouped(count[i]), secs[i], grouped(rate[i]), unit[i]
    }
    printf "\n"
    if (("4-relay" in by) && ("1-js-publish" in by))
      printf "outbox relay    %8s events/s = %3.0f%% of raw JetStream async publish (goal >= 30,000: %s)\n",
        grouped(by["4-relay"]), 100 * by["4-relay"] / by["1-js-publish"], (by["4-relay"] >= 30000) ? "met" : "MISSED"
    if (("5-consumer" in by) && ("2-js-fetch" in by))
      printf "consumer+inbox  %8s events/s = %3.0f%% of raw JetStream fetch+ack  (goal >= 25,000: %s)\n",
        grouped(by["5-consumer"]), 100 * by["5-consumer"] / by["2-js-fetch"], (by["5-consumer"] >= 25000) ? "met" : "MISSED"
    if ("3-pg-pipeline" in by)
      printf "raw PostgreSQL  %8s rows/s batched (pipeline), %s rows/s (unnest), 1-row commits %s/s (1 conn) %s/s (8 conns)\n",
        grouped(by["3-pg-pipeline"]), grouped(by["3-pg-unnest"]), grouped(by["3-pg-commit-1"]), grouped(by["3-pg-commit-8"])
    if ("7-tasks-create" in by) {
      # Against the raw commits measured moments before and after it (the
      # speed of the machine drifts over a run), else the raw program figure.
      if (("7-tasks-raw-before" in by) && ("7-tasks-raw-after" in by)) {
        raw = (by["7-tasks-raw-before"] + by["7-tasks-raw-after"]) / 2; raw_what = "before/after"
      } else if ("3-pg-commit-8" in by) {
        raw = by["3-pg-commit-8"]; raw_what = "bench_raw_pg"
      } else raw = 0
      if (raw > 0)
        printf "CreateTask      %8s calls/s  = %3.0f%% of raw 1-row commits, 8 conns (%s: %s/s)  (goal >= 60%%: %s; GetTask %3.0f%%, health check %3.0f%%)\n",
          grouped(by["7-tasks-create"]), 100 * by["7-tasks-create"] / raw, raw_what, grouped(raw),
          (by["7-tasks-create"] >= 0.6 * raw) ? "met" : "MISSED",
          100 * by["7-tasks-get"] / raw, 100 * by["7-tasks-health"] / raw
    }
    if ("8-shuffle-commit" in sec)
      printf "shuffle 100k    committed in %.2f s (goal <= 3 s: %s), all events on TASKS %.2f s later (goal <= 5 s: %s; raw relay %s events/s)\n",
        sec["8-shuffle-commit"], (sec["8-shuffle-commit"] <= 3) ? "met" : "MISSED",
        sec["8-shuffle-publish"], (sec["8-shuffle-publish"] <= 5) ? "met" : "MISSED", grouped(by["4-relay"])
    if (("9-billing-apply" in by) && ("2-js-fetch" in by))
      printf "billing apply   %8s events/s = %3.0f%% of raw JetStream fetch+ack, %3.0f%% of raw PG unnest insert (goal >= 15,000: %s)\n",
        grouped(by["9-billing-apply"]), 100 * by["9-billing-apply"] / by["2-js-fetch"], 100 * by["9-billing-apply"] / by["3-pg-unnest"],
        (by["9-billing-apply"] >= 15000) ? "met" : "MISSED"
    if ("9-billing-close" in sec)
      printf "billing close   %.2f s for the day close of %s accounts (goal <= 5 s: %s)\n",
        sec["9-billing-close"], grouped(cnt["9-billing-close"]), (sec["9-billing-close"] <= 5) ? "met" : "MISSED"
    if (("10-analytics-apply" in by) && ("2-js-fetch" in by))
      printf "analytics apply %8s events/s = %3.0f%% of raw JetStream fetch+ack  (goal >= 10,000: %s)\n",
        grouped(by["10-analytics-apply"]), 100 * by["10-analytics-apply"] / by["2-js-fetch"], (by["10-analytics-apply"] >= 10000) ? "met" : "MISSED"
  }' "$ATES_BENCH_RESULTS"
say "done in $((SECONDS - start)) s (servers included: $SECONDS s)"

if ((${#failed[@]})); then
  say "FAILED: ${failed[*]} (logs: PostgreSQL and nats-server output are in $WORK, set ATES_BENCH_KEEP=1 to keep them)"
  exit 1
fi
