#!/usr/bin/env bash
# Regenerates src/test/resources/weights/torchvision_default_weights.txt with torchvision into a
# scratch folder and compares it byte for byte with the committed file.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT
/usr/bin/python3 "$here/dump_default_weights.py" "$out" >/dev/null
f=torchvision_default_weights.txt
if cmp -s "$out/$f" "$root/src/test/resources/weights/$f"; then
  echo "weights $f: identical to the committed file"
else
  echo "weights $f: DIFFERS from the committed file (regenerate: /usr/bin/python3 tools/weights/dump_default_weights.py)"
  exit 1
fi
