#!/usr/bin/env bash
# Runs the JMH benchmarks and torchvision on the same sizes, in the same session, and prints
# each of our times with its ratio to the peer's. Usage: benchmarks/run.sh [JMH regex] [peer filter]
#   JMH_ARGS="-f 1 -wi 3 -i 5" to change the JMH run; THREADS (default 2).
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/.." && pwd)
regex=${1:-.}
peer_only=${2:-}
threads=${THREADS:-2}

(cd "$root" && mvn -B -q -ntp install -DskipTests)
(cd "$here" && mvn -B -q -ntp package)

# The peer at its best here: Debian's OpenBLAS (OpenMP build) and jemalloc that keeps its pages,
# unpacked into a scratch folder (nothing installed system-wide).
libs=${PEER_LIBS:-/tmp/maskrcnn4j-peer-libs}
if [ ! -e "$libs/root/usr/lib/x86_64-linux-gnu/libjemalloc.so.2" ]; then
  mkdir -p "$libs"
  (cd "$libs" && { apt-get download libopenblas0-openmp libjemalloc2 >/dev/null 2>&1 || { apt-get update -qq && apt-get download libopenblas0-openmp libjemalloc2; }; }
   for d in *.deb; do dpkg -x "$d" root; done)
fi
peer_out=$(mktemp)
LD_LIBRARY_PATH=$libs/root/usr/lib/x86_64-linux-gnu/openblas-openmp \
LD_PRELOAD=$libs/root/usr/lib/x86_64-linux-gnu/libjemalloc.so.2 \
MALLOC_CONF=dirty_decay_ms:-1,muzzy_decay_ms:-1 \
  /usr/bin/python3 "$here/peer/torchvision_ops.py" --threads "$threads" --only "$peer_only" | tee "$peer_out"
# The whole model: the peer writes the checkpoint and image MaskRcnnBenchmark loads, and times itself.
bench_dir=${BENCH_DIR:-/tmp/maskrcnn4j-bench}
if echo "dev.maskrcnn4j.bench.MaskRcnnBenchmark.forward_800x1216" | grep -Eq -- "$regex"; then
  LD_LIBRARY_PATH=$libs/root/usr/lib/x86_64-linux-gnu/openblas-openmp \
  LD_PRELOAD=$libs/root/usr/lib/x86_64-linux-gnu/libjemalloc.so.2 \
  MALLOC_CONF=dirty_decay_ms:-1,muzzy_decay_ms:-1 \
    /usr/bin/python3 "$here/peer/maskrcnn_forward.py" --write "$bench_dir" --threads "$threads" | tee -a "$peer_out"
fi

jmh_out=$(mktemp)
# Ours: OpenMP threads sleep when idle (spinning distorts a 2-core machine). The peer keeps
# torch's own OpenMP defaults, its best setting.
OMP_NUM_THREADS=$threads OMP_WAIT_POLICY=passive java -Dmaskrcnn4j.bench.dir="$bench_dir" -jar "$here/target/benchmarks.jar" ${JMH_ARGS:--f 1 -wi 3 -i 5 -w 2s -r 2s} -rf csv -rff "$jmh_out" "$regex"

echo
echo "== ours vs torchvision (${threads} threads), median / mean ms"
/usr/bin/python3 - "$jmh_out" "$peer_out" <<'PY'
import csv, sys
peer = {}
for line in open(sys.argv[2]):
    p = line.split()
    if p and p[0] == "peer":
        peer[p[1]] = float(p[2])
for row in csv.DictReader(open(sys.argv[1])):
    name = row["Benchmark"].split(".")[-1]
    params = [v for k, v in row.items() if k.startswith("Param: ") and v]
    key = "_".join([name] + params) if params else name
    unit = row["Unit"]
    score = float(row["Score"])
    ms = score if unit == "ms/op" else score / 1000.0 if unit == "us/op" else None
    ref = peer.get(key)
    ratio = f"  x{ref / ms:.2f} vs torchvision {ref:.2f} ms" if (ms and ref) else ""
    print(f"{key:40s} {score:10.3f} {unit}{ratio}")
PY
