#!/usr/bin/env bash
# gRPC TLS in Kubernetes (ADR 0014): the prod overlay mounts the Secret
# ates-<daemon>-grpc-tls into each daemon, points grpc.tls.* and auth.tls.* at
# it and probes with `atesctl health` over TLS; the prod-cert-manager overlay
# renders, passes the manifest checker and has one cert-manager Certificate
# per daemon writing exactly the Secret that daemon mounts.
#
#   tls_overlay_test.sh CHECKER_BINARY K8S_DIR COMPARE_BINARY
#
# Fails when kubectl is missing; renders with every kubectl of ATES_KUBECTL
# (render.sh).
set -euo pipefail

checker=${1:?checker binary}
k8s=${2:?deploy/k8s folder}
compare=${3:?deploy_render_compare binary}
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# shellcheck source=render.sh
source "$here/render.sh"
work=$(mktemp -d "${TMPDIR:-/tmp}/ates-tls-manifests.XXXXXX")
trap 'rm -rf "$work"' EXIT

failed=0
fail() { echo "FAIL: $*"; failed=1; }

render "$k8s/overlays/prod" "$work/prod.yaml" "$compare" || fail "rendering prod"
render "$k8s/overlays/prod-cert-manager" "$work/cm.yaml" "$compare" || fail "rendering prod-cert-manager"
"$checker" prod "$work/cm.yaml" "$k8s/../../config" || fail "manifest check of prod-cert-manager"

for svc in auth tasks billing analytics scheduler gateway; do
  for var in ATES_GRPC_TLS_CERT ATES_GRPC_TLS_KEY; do
    grep -q "name: $var" "$work/prod.yaml" || fail "prod: no $var"
  done
  grep -q "secretName: ates-$svc-grpc-tls" "$work/prod.yaml" || fail "prod: ates-$svc mounts no ates-$svc-grpc-tls"
  n=$(grep -c "secretName: ates-$svc-grpc-tls" "$work/cm.yaml")
  [[ $n -eq 2 ]] || fail "prod-cert-manager: ates-$svc-grpc-tls named $n times (want the volume and the Certificate)"
done
[[ $(grep -c "^kind: Certificate$" "$work/cm.yaml") -eq 6 ]] || fail "prod-cert-manager: not 6 Certificates"
[[ $(grep -c "^kind: Certificate$" "$work/prod.yaml") -eq 0 ]] || fail "prod: Certificates without cert-manager"
[[ $(grep -c "name: ATES_AUTH_TLS_CA" "$work/prod.yaml") -eq 4 ]] || fail "prod: not 4 daemons verifying ates-auth"
grep -q "grpc:" <(grep -A2 "readinessProbe:" "$work/prod.yaml") && fail "prod: a plaintext gRPC probe against a TLS port"
grep -q "kubernetes.io/h2c" "$work/prod.yaml" && fail "prod: a Service still says h2c"
((failed == 0)) && echo "OK: prod serves gRPC over TLS; prod-cert-manager issues the Secrets"
exit "$failed"
