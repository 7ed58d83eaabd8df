#!/usr/bin/env bash
# Checks that the C++ sources match .clang-format (Google base, 100 columns).
# Lists every file that `make format` would change and exits 1 if there is one.
# Usage: scripts/check-format.sh [-v]   (-v also shows clang-format's findings)
set -euo pipefail
cd "$(dirname "$0")/.."

verbose=0
[[ ${1:-} == -v ]] && verbose=1

if ! command -v clang-format >/dev/null; then
  echo "check-format: clang-format not installed (make deps): skipped" >&2
  exit 0
fi

dirs=()
for d in cmd internal tests bench; do
  [[ -d $d ]] && dirs+=("$d")
done
files=()
if ((${#dirs[@]})); then
  mapfile -d '' files < <(find "${dirs[@]}" -type f \( -name '*.cpp' -o -name '*.hpp' \) -print0 | sort -z)
fi
if ((${#files[@]} == 0)); then
  echo "check-format: no C++ sources yet" >&2
  exit 0
fi

offenders=()
for f in "${files[@]}"; do
  if ! out=$(clang-format --style=file --dry-run --Werror "$f" 2>&1); then
    offenders+=("$f")
    if ((verbose)); then printf '%s\n' "$out" >&2; fi
  fi
done

if ((${#offenders[@]})); then
  echo "check-format: ${#offenders[@]} of ${#files[@]} files are not formatted ($(clang-format --version | grep -o 'version [0-9.]*')):" >&2
  printf '  %s\n' "${offenders[@]}" >&2
  echo "check-format: run 'make format' (or scripts/check-format.sh -v to see where)" >&2
  exit 1
fi
echo "check-format: ${#files[@]} files OK" >&2
