#!/usr/bin/env bash
# Regenerates the COCO test resources (category list from torchvision; RLE fixtures from the
# independent Python reference) into a scratch folder and compares them byte for byte with the
# committed files in src/test/resources/coco.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT
/usr/bin/python3 "$here/dump_categories.py" "$out" >/dev/null
/usr/bin/python3 "$here/make_rle_fixtures.py" "$out" >/dev/null
status=0
for f in torchvision_coco_categories.txt rle_fixtures.tsv; do
  if cmp -s "$out/$f" "$root/src/test/resources/coco/$f"; then
    echo "coco $f: identical to the committed file"
  else
    echo "coco $f: DIFFERS from the committed file (regenerate with tools/coco/*.py)"
    status=1
  fi
done
exit $status
