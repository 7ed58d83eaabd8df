#!/usr/bin/env bash
# Makes a local CA and certificates with openssl, for `make run` in TLS mode
# (ATES_RUN_TLS=1), the TLS tests and hand-made Kubernetes Secrets (ADR 0014).
# Keys are unencrypted; certificates last ATES_TLS_DAYS (30) days.
#
#   tls-certs.sh DIR ca NAME                  -> DIR/NAME.pem, DIR/NAME.key (a CA)
#   tls-certs.sh DIR server NAME CA [SAN...]  -> DIR/NAME.pem, DIR/NAME.key signed by DIR/CA
#                                                (server and client auth)
#   tls-certs.sh DIR client NAME CA           -> DIR/NAME.pem, DIR/NAME.key (client auth)
#
# SANs default to IP:127.0.0.1 and DNS:localhost. An existing DIR/NAME.key is
# reused, so a certificate can be renewed for the same key.
set -euo pipefail

usage() { sed -n '2,13p' "$0" >&2; exit 2; }
[[ $# -ge 3 ]] || usage
dir=$1 kind=$2 name=$3
days=${ATES_TLS_DAYS:-30}
mkdir -p "$dir"
key="$dir/$name.key" pem="$dir/$name.pem"

new_key() {
  [[ -s $key ]] || openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out "$key" 2>/dev/null
  chmod 600 "$key"
}

sign() {  # sign CA EXTENSIONS
  local ca=$1 ext=$2 csr ext_file
  csr=$(mktemp) ext_file=$(mktemp)
  printf '%s\n' "$ext" >"$ext_file"
  openssl req -new -key "$key" -subj "/CN=$name" -out "$csr" 2>/dev/null
  openssl x509 -req -in "$csr" -CA "$dir/$ca.pem" -CAkey "$dir/$ca.key" -set_serial "0x$(openssl rand -hex 16)" \
    -days "$days" -extfile "$ext_file" -out "$pem" 2>/dev/null
  rm -f "$csr" "$ext_file"
}

case $kind in
  ca)
    new_key
    openssl req -x509 -new -key "$key" -subj "/CN=$name" -days "$days" \
      -addext "basicConstraints=critical,CA:TRUE" -addext "keyUsage=critical,keyCertSign,cRLSign" \
      -out "$pem" 2>/dev/null
    ;;
  server)
    [[ $# -ge 4 ]] || usage
    ca=$4; shift 4
    sans=${*:-IP:127.0.0.1 DNS:localhost}
    new_key
    sign "$ca" "basicConstraints=CA:FALSE
keyUsage=critical,digitalSignature,keyEncipherment
extendedKeyUsage=serverAuth,clientAuth
subjectAltName=$(echo "$sans" | tr ' ' ',')"
    ;;
  client)
    [[ $# -ge 4 ]] || usage
    new_key
    sign "$4" "basicConstraints=CA:FALSE
keyUsage=critical,digitalSignature
extendedKeyUsage=clientAuth"
    ;;
  *) usage ;;
esac
