#!/usr/bin/env bash
# Regenerates every golden with torchvision into a scratch folder and compares it byte for
# byte with the committed file: the committed goldens are the oracle's output, nothing else.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT
status=0
for gen in "$here"/gen_*.py; do
  op=$(basename "$gen" .py); op=${op#gen_}
  MRCNN4J_GOLDEN_DIR="$out" /usr/bin/python3 "$gen" 2>/dev/null
  if cmp -s "$out/$op.golden" "$root/src/test/resources/goldens/$op.golden"; then
    echo "golden $op: identical to the committed file"
  else
    echo "golden $op: DIFFERS from the committed file (regenerate: /usr/bin/python3 tools/goldens/gen_$op.py)"
    status=1
  fi
done
exit $status
