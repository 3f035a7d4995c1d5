#!/usr/bin/env bash
# Generates the whole-model parity cases into OUT_DIR (Maven runs it at generate-test-resources
# with OUT_DIR = target/parity). Without torchvision it writes OUT_DIR/SKIPPED, which makes the
# parity tests skip with that reason; with it, it regenerates only when the generator's sources
# changed (OUT_DIR/STAMP holds their sha256).
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
out="${1:?usage: generate.sh OUT_DIR}"
mkdir -p "$out"
if ! /usr/bin/python3 -c 'import torchvision' 2>/dev/null; then
  echo "torchvision not installed: apt-get install python3-torchvision" > "$out/SKIPPED"
  echo "parity cases: SKIPPED (torchvision not installed for /usr/bin/python3: apt-get install python3-torchvision)"
  exit 0
fi
stamp="$(cat "$here"/*.py "$here"/generate.sh "$here"/../goldens/golden_io.py | sha256sum | cut -d' ' -f1)"
if [ -f "$out/STAMP" ] && [ "$(cat "$out/STAMP")" = "$stamp" ] && [ ! -f "$out/SKIPPED" ]; then
  echo "parity cases: up to date in $out"
  exit 0
fi
rm -f "$out/SKIPPED" "$out/STAMP"
start=$(date +%s)
OMP_NUM_THREADS="${OMP_NUM_THREADS:-2}" /usr/bin/python3 "$here/gen_cases.py" "$out" 2> "$out/generate.log" || {
  tail -30 "$out/generate.log" >&2
  echo "parity cases: generation FAILED (log: $out/generate.log)" >&2
  exit 1
}
echo "$stamp" > "$out/STAMP"
echo "parity cases: generated in $out in $(( $(date +%s) - start )) s (log: $out/generate.log)"
