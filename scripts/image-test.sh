#!/usr/bin/env bash
# `make test-image`: proves the image (ADR 0030). PostgreSQL and nats-server run on
# this machine on free ports; ates-provision and the six daemons run from the image
# as containers (podman, host network, config by ATES_* variables). Then a short
# business day through them with this machine's atesctl: an admin logs in, creates
# a worker and a task, the worker completes it, the admin closes the day, and the
# worker's postings, balance and payout must be what the prices say. Last, every
# daemon gets SIGTERM (`podman stop`) and must drain and exit 0 within its grace.
# Containers, servers and data are removed on every exit path.
#
# Environment: ATES_IMAGE (localhost/ates:0.1.0), BUILD_DIR (build: atesctl),
# CONTAINERS_CONF (deploy/docker/containers.conf), ATES_IMAGE_TEST_KEEP=1 keeps
# the data folder for a look afterwards.
set -euo pipefail
cd "$(dirname "$0")/.."
root=$PWD
image=${ATES_IMAGE:-localhost/ates:0.1.0}
atesctl=$root/${BUILD_DIR:-build}/bin/atesctl
export CONTAINERS_CONF=${CONTAINERS_CONF:-$root/deploy/docker/containers.conf}
pg_bin=${ATES_RUN_PG_BIN:-/usr/lib/postgresql/15/bin}
daemons=(auth tasks billing analytics scheduler gateway)
stop_grace_s=30
started_at=$SECONDS

step() { printf '[test-image %3ds] %s\n' "$((SECONDS - started_at))" "$*" >&2; }
fail() {
  printf '[test-image] FAIL: %s\n' "$*" >&2
  exit 1
}

work=$(mktemp -d -t img-test.XXXXXX)
chmod 0755 "$work"
run_id=ates-img-$$
containers=()
nats_pid=""
pg_port="" nats_port="" http_port="" # set by free_port

cleanup() {
  local rc=$?
  trap - EXIT INT TERM
  ((${#containers[@]} == 0)) || podman rm -f -t 0 "${containers[@]}" >/dev/null 2>&1 || true
  if [[ -n $nats_pid ]]; then kill "$nats_pid" 2>/dev/null || true; wait "$nats_pid" 2>/dev/null || true; fi
  if [[ -f $work/pg/postmaster.pid ]]; then as_postgres "$pg_bin/pg_ctl" -D "$work/pg" -m immediate stop >/dev/null 2>&1 || true; fi
  if [[ ${ATES_IMAGE_TEST_KEEP:-0} == 1 ]]; then step "data kept in $work"; else rm -rf "$work"; fi
  if ((rc == 0)); then step "PASS"; else step "FAILED (exit $rc)"; fi
  exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# initdb and postgres refuse root: run them as the postgres system user (TOOLCHAIN.md).
as_postgres() {
  if [[ $(id -u) == 0 ]]; then runuser -u postgres -- "$@"; else "$@"; fi
}

# `free_port VAR`: a port nobody listens on (random, checked with a connect attempt,
# never handed out twice) into VAR.
used_ports=" "
free_port() {
  local p
  for _ in $(seq 200); do
    p=$((20000 + RANDOM % 12000))
    ((p >= 21000 && p <= 21999)) && continue # left for manual tests
    [[ $used_ports == *" $p "* ]] && continue
    if ! (exec 3<>"/dev/tcp/127.0.0.1/$p") 2>/dev/null; then
      used_ports+="$p "
      printf -v "$1" '%s' "$p"
      return
    fi
  done
  fail "no free port found"
}

# `json EXPR < input`: one value of atesctl's -o json output (protobuf JSON), by a
# JavaScript expression over `j` (Node.js is there for the web app's tools).
json() {
  node -e 'try { const j = JSON.parse(require("fs").readFileSync(0, "utf8") || "{}");
             const v = ('"$1"'); process.stdout.write(v === undefined || v === null ? "" : String(v));
           } catch (e) { console.error(e.message); process.exit(1); }'
}

preflight() {
  command -v podman >/dev/null || fail "podman is missing: run 'make image-deps'"
  podman image exists "$image" || fail "$image is missing: run 'make image'"
  [[ -x $atesctl ]] || fail "$atesctl is missing: run 'make build'"
  [[ -x $pg_bin/initdb ]] || fail "PostgreSQL 15 is missing ($pg_bin): run 'make deps'"
  command -v nats-server >/dev/null || fail "nats-server is missing: run 'make deps'"
  command -v node >/dev/null || fail "node is missing: run 'make deps'"
}

# What is in the image: the eight programs and nothing else in /usr/local/bin, no
# compiler, a non-root user.
check_contents() {
  local want="ates-analytics ates-auth ates-billing ates-gateway ates-provision ates-scheduler ates-tasks atesctl"
  local got
  got=$(podman run --rm "$image" sh -c 'echo $(ls /usr/local/bin); id -u;
    for t in cc gcc g++ c++ cmake ninja; do command -v $t; done; true')
  [[ $got == "$want"$'\n'"10001" ]] ||
    fail "image contents: want '$want', uid 10001, no compiler; got: $got"
  step "image holds the 8 programs only, no toolchain, runs as uid 10001"
}

start_postgres() {
  free_port pg_port
  mkdir -p "$work/pg" "$work/pgsock"
  [[ $(id -u) == 0 ]] && chown postgres: "$work/pg" "$work/pgsock"
  as_postgres "$pg_bin/initdb" -D "$work/pg" -U postgres --auth=trust -E UTF8 --no-sync \
    --no-locale >"$work/initdb.log" 2>&1 || fail "initdb: $(tail -5 "$work/initdb.log")"
  as_postgres "$pg_bin/pg_ctl" -D "$work/pg" -l "$work/pg/postgres.log" -w -t 60 \
    -o "-p $pg_port -k $work/pgsock -c listen_addresses=127.0.0.1 -c fsync=off" start \
    >/dev/null || fail "PostgreSQL did not start: $(tail -5 "$work/pg/postgres.log")"
  step "PostgreSQL on 127.0.0.1:$pg_port"
}

start_nats() {
  free_port nats_port
  mkdir -p "$work/nats"
  nats-server -js -sd "$work/nats" -a 127.0.0.1 -p "$nats_port" -l "$work/nats.log" &
  nats_pid=$!
  for _ in $(seq 100); do
    (exec 3<>"/dev/tcp/127.0.0.1/$nats_port") 2>/dev/null && {
      step "nats-server (JetStream) on 127.0.0.1:$nats_port"
      return
    }
    kill -0 "$nats_pid" 2>/dev/null || break
    sleep 0.1
  done
  fail "nats-server did not start: $(tail -5 "$work/nats.log" 2>/dev/null)"
}

# ates-provision from the image creates the five databases (as the k8s Job does).
provision() {
  podman run --rm --network host --name "$run_id-provision" \
    -e ATES_PROVISION_ADMIN_URL="postgresql://postgres@127.0.0.1:$pg_port/postgres" \
    "$image" /usr/local/bin/ates-provision >"$work/provision.log" 2>&1 ||
    fail "ates-provision: $(cat "$work/provision.log")"
  step "ates-provision created the databases"
}

declare -A grpc_port admin_port
run_daemon() {
  local svc=$1
  shift
  local name=$run_id-$svc
  [[ -n ${grpc_port[$svc]:-} ]] || free_port "grpc_port[$svc]"
  free_port "admin_port[$svc]"
  containers+=("$name")
  podman run -d --name "$name" --network host \
    -e ATES_GRPC_LISTEN="127.0.0.1:${grpc_port[$svc]}" \
    -e ATES_ADMIN_LISTEN="127.0.0.1:${admin_port[$svc]}" \
    "$@" "$image" "/usr/local/bin/ates-$svc" --config "/etc/ates/ates-$svc.yaml" >/dev/null
}

# The environment every service daemon (not the gateway) shares.
service_env() {
  local svc=$1
  printf '%s\n' -e "ATES_DATABASE_URL=postgresql://postgres@127.0.0.1:$pg_port/ates_$svc" \
    -e "ATES_NATS_URL=nats://127.0.0.1:$nats_port" -e "ATES_NATS_USER=" \
    -e "ATES_AUTH_KEYS_URL=127.0.0.1:${grpc_port[auth]}"
}

start_daemons() {
  admin_password=$(head -c 18 /dev/urandom | base64 | tr -d '/+=')
  mkdir -p "$work/mail"
  chmod 0777 "$work/mail" # the image runs as uid 10001
  free_port 'grpc_port[auth]' # every daemon is told auth's address
  local svc
  for svc in auth tasks billing analytics scheduler; do
    local extra=()
    mapfile -t extra < <(service_env "$svc")
    case $svc in
      auth) extra+=(-e "ATES_BOOTSTRAP_ADMIN_LOGIN=admin" -e "ATES_BOOTSTRAP_ADMIN_PASSWORD=$admin_password"
        -e "ATES_AUTH_KEY_ENCRYPTION_KEY=$(head -c 32 /dev/urandom | base64)") ;;
      billing) extra+=(-v "$work/mail:/var/spool/ates-mail" -e "ATES_BILLING_MAIL_DIR=/var/spool/ates-mail") ;;
    esac
    run_daemon "$svc" "${extra[@]}"
  done
  free_port http_port
  local up=()
  for svc in auth tasks billing analytics scheduler; do
    up+=(-e "ATES_GATEWAY_UPSTREAMS_${svc^^}=127.0.0.1:${grpc_port[$svc]}")
  done
  run_daemon gateway -e "ATES_GATEWAY_LISTEN=127.0.0.1:$http_port" \
    -e "ATES_GATEWAY_WEB_ROOT=/usr/local/share/ates/web" "${up[@]}"
  step "started ${#daemons[@]} containers from $image"
}

container_state() { podman inspect -f '{{.State.Status}} {{.State.ExitCode}}' "$1" 2>/dev/null; }

fail_with_log() {
  local svc=$1
  shift
  printf '[test-image] --- last lines of %s ---\n' "$run_id-$svc" >&2
  podman logs --tail 40 "$run_id-$svc" >&2 || true
  fail "ates-$svc: $*"
}

# gRPC health "readiness" of every daemon, by atesctl (the gateway answers the
# same health service: asked as if it were ates-auth).
wait_ready() {
  local svc deadline=$((SECONDS + 120))
  for svc in "${daemons[@]}"; do
    local kind=$svc
    [[ $svc == gateway ]] && kind=auth
    until "$atesctl" health "$kind" "--$kind" "127.0.0.1:${grpc_port[$svc]}" --timeout 1s >/dev/null 2>&1; do
      [[ $(container_state "$run_id-$svc") == running* ]] ||
        fail_with_log "$svc" "exited before it was ready ($(container_state "$run_id-$svc"))"
      ((SECONDS < deadline)) || fail_with_log "$svc" "not SERVING after 120 s"
      sleep 0.5
    done
  done
  step "all ${#daemons[@]} daemons SERVING (gRPC health)"
}

# The web app from the image, through the gateway's HTTP port.
check_web_app() {
  local reply
  reply=$(exec 3<>"/dev/tcp/127.0.0.1/$http_port" &&
    printf 'GET / HTTP/1.0\r\nHost: localhost\r\n\r\n' >&3 && timeout 10 cat <&3) ||
    fail_with_log gateway "no HTTP answer on $http_port"
  [[ $reply == "HTTP/1."?" 200"* && $reply == *"<html"* ]] ||
    fail_with_log gateway "GET / did not return the web app: ${reply:0:200}"
  step "the gateway serves the web app on 127.0.0.1:$http_port"
}

# `ctl WHO ARGS...`: atesctl against the containers, logged in as WHO (admin, worker).
ctl() {
  local who=$1
  shift
  HOME=$work NO_COLOR=1 "$atesctl" --token-file "$work/$who.token" --auth "127.0.0.1:${grpc_port[auth]}" \
    --tasks "127.0.0.1:${grpc_port[tasks]}" --billing "127.0.0.1:${grpc_port[billing]}" \
    --analytics "127.0.0.1:${grpc_port[analytics]}" \
    --scheduler "127.0.0.1:${grpc_port[scheduler]}" "$@"
}

# `retry SECONDS CMD...`: runs CMD until it succeeds; its output on stdout.
retry() {
  local deadline=$((SECONDS + $1)) out
  shift
  until out=$("$@" 2>"$work/retry.err"); do  # the last failure's message is kept
    ((SECONDS < deadline)) || fail "'$*' kept failing: $(cat "$work/retry.err")"
    sleep 0.5
  done
  printf '%s' "$out"
}

# `postings ACCOUNT`: "<fee> <reward> <business date>" of the account's postings
# today, once billing has both (it learns them from the task events).
postings() {
  ctl admin -o json billing transactions --account "$1" | json '
    (() => { const t = j.transactions || [];
      const sum = k => t.filter(x => x.kind === k).reduce((a, x) => a + Number(x.amountCents), 0);
      const fee = t.filter(x => x.kind === "TRANSACTION_KIND_ASSIGN_FEE");
      const reward = t.filter(x => x.kind === "TRANSACTION_KIND_COMPLETION_REWARD");
      if (fee.length !== 1 || reward.length !== 1) throw new Error("not yet: " + t.length);
      return sum("TRANSACTION_KIND_ASSIGN_FEE") + " " + sum("TRANSACTION_KIND_COMPLETION_REWARD") +
        " " + fee[0].businessDate; })()'
}

balance() { ctl admin -o json billing balance --account "$1" | json 'j.balanceCents'; }

# Payouts of ACCOUNT on DATE, "<count> <total cents>".
payouts() {
  ctl admin -o json billing payouts --account "$1" --from "$2" --to "$2" | json '
    (() => { const p = j.payouts || [];
      return p.length + " " + p.reduce((a, x) => a + Number(x.amountCents), 0); })()'
}

run_day() {
  printf '%s\n' "$admin_password" | ctl admin login -u admin --password-stdin >"$work/login.log" 2>&1 ||
    fail "admin login failed: $(cat "$work/login.log")"
  local worker_id task_id assignee
  worker_id=$(printf 'worker-password-1\n' | ctl admin -o json accounts create \
    --login img-worker --name "Image Worker" --email img-worker@example.com --role worker \
    --password-stdin | json 'j.account.id')
  [[ -n $worker_id ]] || fail "accounts create returned no id"
  printf 'worker-password-1\n' | ctl worker login -u img-worker --password-stdin >"$work/login.log" 2>&1 ||
    fail "worker login failed: $(cat "$work/login.log")"
  step "admin logged in, worker $worker_id created"
  # ates-tasks assigns to workers it has heard of (ACCOUNTS events): retried with
  # one request id, so at most one task is created.
  local out
  out=$(retry 60 ctl admin -o json tasks create --title "Feed the parrot" \
    --jira-id UP-1 --request-id "image-test-$$")
  task_id=$(json 'j.task.id' <<<"$out")
  assignee=$(json 'j.task.assigneeId' <<<"$out")
  [[ $assignee == "$worker_id" ]] || fail "task $task_id assigned to '$assignee', not the only worker"
  ctl worker tasks complete "$task_id" >/dev/null || fail "tasks complete failed"
  step "task $task_id created, assigned to the worker and completed"

  local fee reward day before
  out=$(retry 60 postings "$worker_id")
  read -r fee reward day <<<"$out"
  ((fee < 0 && reward > 0)) || fail "postings fee=$fee reward=$reward: a fee is negative, a reward positive"
  before=$(balance "$worker_id")
  ((before == fee + reward)) || fail "balance $before, not fee $fee + reward $reward"
  step "billing posted fee $fee and reward $reward cents on $day; balance $before"

  ctl admin day close "$day" >/dev/null || fail "day close $day failed"
  local expect_count=0 expect_total=0
  if ((before > 0)); then expect_count=1 expect_total=$before; fi
  local got after
  local deadline=$((SECONDS + 60))
  until got=$(payouts "$worker_id" "$day") && [[ $got == "$expect_count $expect_total" ]] &&
    after=$(balance "$worker_id") && ((after == before - expect_total)); do
    ((SECONDS < deadline)) || fail "after closing $day: payouts '${got:-}' (want '$expect_count $expect_total'), balance ${after:-?} (want $((before - expect_total)))"
    sleep 0.5
  done
  step "day $day closed: payout $expect_total cents, balance now $after"
}

# SIGTERM to each daemon (podman stop, SIGKILL only after the grace); each must
# log that it is stopping on SIGTERM and that it stopped (the runtime's last line,
# after the server, consumers and relay have drained) and exit 0.
stop_daemons() {
  local svc t0 state logs
  for svc in gateway scheduler analytics billing tasks auth; do
    t0=$SECONDS
    podman stop -t "$stop_grace_s" "$run_id-$svc" >/dev/null || fail_with_log "$svc" "podman stop failed"
    state=$(container_state "$run_id-$svc")
    [[ $state == "exited 0" ]] ||
      fail_with_log "$svc" "after SIGTERM: '$state' (want 'exited 0'; 137 means it was killed after ${stop_grace_s}s)"
    logs=$(podman logs "$run_id-$svc" 2>&1)
    [[ $logs == *'"msg":"stopping"'*'"signal":"Terminated"'* && $logs == *'"msg":"stopped"'* ]] ||
      fail_with_log "$svc" "exited 0 but did not log 'stopping' on SIGTERM and then 'stopped'"
    step "ates-$svc stopped on SIGTERM in $((SECONDS - t0)) s, exit 0"
  done
}

preflight
step "image $image ($(podman image inspect --format '{{.Size}}' "$image" | awk '{ printf "%d MB", $1 / 1e6 }'))"
check_contents
start_postgres
start_nats
provision
start_daemons
wait_ready
check_web_app
run_day
stop_daemons
