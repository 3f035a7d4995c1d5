#!/usr/bin/env bash
# Generates the whole-model parity cases into OUT_DIR (Maven runs it at generate-test-resources
# with OUT_DIR = target/parity). Without torchvision it writes OUT_DIR/SKIPPED, which makes the
# parity tests skip with that reason; with it, it regenerates only when the generator's sources
# changed (OUT_DIR/STAMP holds their sha256). Generation takes minutes on two cores, so finished
# cases are also kept in a cache shared by checkouts on the machine (PARITY_CACHE, default
# ~/.cache/maskrcnn4j/parity/<stamp>, hard-linked, only the latest stamp kept; PARITY_CACHE=none
# disables it). The tests only read the files.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
out="${1:?usage: generate.sh OUT_DIR}"
python="${PARITY_PYTHON:-/usr/bin/python3}"  # the oracle's interpreter (overridable to test the skip)
mkdir -p "$out"
if ! "$python" -c 'import torchvision' 2>/dev/null; then
  echo "torchvision not installed: apt-get install python3-torchvision" > "$out/SKIPPED"
  echo "parity cases: SKIPPED (torchvision not installed for $python: apt-get install python3-torchvision)"
  exit 0
fi
stamp="$(cat "$here"/*.py "$here"/../goldens/golden_io.py | sha256sum | cut -d' ' -f1)"
if [ -f "$out/STAMP" ] && [ "$(cat "$out/STAMP")" = "$stamp" ] && [ ! -f "$out/SKIPPED" ]; then
  echo "parity cases: up to date in $out"
  exit 0
fi
cache_root="${PARITY_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/maskrcnn4j/parity}"
rm -rf "$out"
mkdir -p "$out"
if [ "$cache_root" != none ] && [ -f "$cache_root/$stamp/STAMP" ] && cp -al "$cache_root/$stamp/." "$out/" 2>/dev/null; then
  echo "parity cases: linked from the cache $cache_root/$stamp"
  exit 0
fi
rm -rf "$out"
mkdir -p "$out"
start=$(date +%s)
OMP_NUM_THREADS="${OMP_NUM_THREADS:-2}" "$python" "$here/gen_cases.py" "$out" 2> "$out/generate.log" || {
  tail -30 "$out/generate.log" >&2
  echo "parity cases: generation FAILED (log: $out/generate.log)" >&2
  exit 1
}
echo "$stamp" > "$out/STAMP"
if [ "$cache_root" != none ] && mkdir -p "$cache_root" 2>/dev/null; then
  find "$cache_root" -mindepth 1 -maxdepth 1 -not -name "$stamp" -exec rm -rf {} + 2>/dev/null || true
  rm -rf "$cache_root/$stamp.tmp"
  if cp -al "$out" "$cache_root/$stamp.tmp" 2>/dev/null; then
    mv "$cache_root/$stamp.tmp" "$cache_root/$stamp" 2>/dev/null || rm -rf "$cache_root/$stamp.tmp"
  fi
fi
echo "parity cases: generated in $out in $(( $(date +%s) - start )) s (log: $out/generate.log)"
