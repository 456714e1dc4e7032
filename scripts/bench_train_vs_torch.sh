#!/usr/bin/env bash
# Training throughput at batch 64 of both models, burn (release, default flex backend with the
# training kernels of fdfat-kernels) against PyTorch on the same cores, in ONE run:
# the two are timed alternately, ROUNDS rounds each, and the medians compared.
#   burn:    cargo bench -p fdfat-models --features flex --bench models -- --train-only
#   PyTorch: scripts/torch_train_reference.py (same models, NAdam, L1, torch.set_num_threads)
# Prints, per model and thread count, the median images/s of each and the ratio burn / PyTorch
# (target >= 1.0); with several thread counts also the scaling table (efficiency = img/s at N
# threads / (N x img/s at the fewest)).
# Usage: scripts/bench_train_vs_torch.sh [rounds] (default 3). Environment: THREADS (default 2;
# both sides use that many threads; a list such as "1 2 4 8 16" measures each, and "scaling"
# means 1, 2, 4, ... up to the cores visible), CPUS (a taskset CPU list to pin both to, e.g. 0,1),
# FDFAT_MODELS_BENCH (a built bench binary to use instead of building one), PYTHON (python3),
# FDFAT_REFERENCE_OPS=1 (time burn's own operations instead of the kernels).
set -euo pipefail
cd "$(dirname "$0")/.."
ROUNDS="${1:-3}"
THREADS="${THREADS:-2}"
PYTHON="${PYTHON:-python3}"
WORK="$(mktemp -d)"
trap 'rm -rf "$WORK"' EXIT

if [ -z "${FDFAT_MODELS_BENCH:-}" ]; then
  FDFAT_MODELS_BENCH=$(cargo bench -p fdfat-models --features flex --bench models --no-run \
    --message-format=json 2>/dev/null | "$PYTHON" -c '
import json, sys
for line in sys.stdin:
    m = json.loads(line)
    if m.get("reason") == "compiler-artifact" and m["target"]["name"] == "models":
        if m.get("executable"):
            print(m["executable"])')
fi
pin=()
if [ -n "${CPUS:-}" ]; then pin=(taskset -c "$CPUS"); fi
if [ "$THREADS" = scaling ]; then
  THREADS=""
  for ((t = 1; t <= $(nproc); t *= 2)); do THREADS="$THREADS $t"; done
fi

torch_version=$("$PYTHON" -c 'import torch; print(torch.__version__)')
echo "burn: $FDFAT_MODELS_BENCH; PyTorch: $torch_version; threads:" $THREADS"," \
  "$(nproc) cores visible, ${CPUS:+pinned to CPUs $CPUS, }$ROUNDS rounds"
for round in $(seq "$ROUNDS"); do
  for threads in $THREADS; do
    RAYON_NUM_THREADS="$threads" OMP_NUM_THREADS="$threads" "${pin[@]}" \
      "$FDFAT_MODELS_BENCH" --train-only | sed "s/^/burn $threads /" | tee -a "$WORK/runs"
    OMP_NUM_THREADS="$threads" "${pin[@]}" "$PYTHON" scripts/torch_train_reference.py \
      --steps 10 --threads "$threads" | grep step_ms= | sed "s/^/torch $threads /" \
      | tee -a "$WORK/runs"
  done
done

"$PYTHON" - "$WORK/runs" <<'PY'
import re, statistics, sys
runs = {}
for line in open(sys.argv[1]):
    side, threads, model = line.split()[:3]
    rate = float(re.search(r"img_per_s=([0-9.]+)", line).group(1))
    runs.setdefault((side, int(threads), model), []).append(rate)
counts = sorted({t for _, t, _ in runs})
median = {key: statistics.median(rates) for key, rates in runs.items()}
print(f"\n{'model':<11} {'threads':>7} {'burn img/s':>11} {'torch img/s':>12} {'burn/torch':>11}"
      "  (medians)")
for model in ("LWModel", "LWCSPModel"):
    for t in counts:
        burn, torch = median[("burn", t, model)], median[("torch", t, model)]
        print(f"{model:<11} {t:>7} {burn:>11.1f} {torch:>12.1f} {burn / torch:>11.2f}")
if len(counts) > 1:
    first, last = counts[0], counts[-1]
    print(f"\nscaling efficiency at {last} threads (img/s / ({last // first} x img/s at {first})):")
    for model in ("LWModel", "LWCSPModel"):
        eff = {s: median[(s, last, model)] / (last // first * median[(s, first, model)])
               for s in ("burn", "torch")}
        print(f"{model:<11} burn {eff['burn']:.2f}  torch {eff['torch']:.2f}")
PY
