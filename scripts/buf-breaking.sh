#!/usr/bin/env bash
# Fails when the protos in the working tree break the wire or source
# compatibility of the previous commit's protos (rules: api/proto/buf.yaml).
# Skips, with a notice, when there is no previous commit to compare with: the
# first commit, a shallow clone of depth 1, a tree without git history, or a
# previous commit without api/proto.
set -euo pipefail
cd "$(dirname "$0")/.."

readonly BUF=node_modules/.bin/buf
readonly PROTO_DIR=api/proto

skip() {
  echo "buf-breaking: skipped: $*" >&2
  exit 0
}

[[ -x $BUF ]] || { echo "buf-breaking: $BUF not found (run 'make deps')" >&2; exit 1; }
command -v git >/dev/null || skip "git is not installed"
git rev-parse --is-inside-work-tree >/dev/null 2>&1 || skip "not a git checkout"
# A shallow clone of depth 1 has HEAD but not its parent.
base=$(git rev-parse -q --verify 'HEAD~1^{commit}' 2>/dev/null) ||
  skip "no previous commit (first commit, or a shallow clone: fetch with --depth 2 or more)"
git cat-file -e "$base:$PROTO_DIR" 2>/dev/null || skip "the previous commit ${base:0:12} has no $PROTO_DIR"

echo "buf-breaking: comparing $PROTO_DIR with commit ${base:0:12}" >&2
if [[ -d .git ]]; then
  # buf reads the commit from the local repository itself: no network.
  exec "$BUF" breaking "$PROTO_DIR" --against ".git#ref=$base,subdir=$PROTO_DIR"
fi

# A linked worktree or submodule has a .git file that buf cannot clone from:
# compare with an extracted copy instead.
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
git archive "$base" "$PROTO_DIR" | tar -x -C "$tmp"
"$BUF" breaking "$PROTO_DIR" --against "$tmp/$PROTO_DIR"
