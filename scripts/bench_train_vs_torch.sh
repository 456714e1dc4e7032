#!/usr/bin/env bash
# Training throughput at batch 64 of both models, burn (release, default flex backend with the
# training kernels of fdfat-kernels) against PyTorch on the same cores, in ONE run:
# the two are timed alternately, ROUNDS rounds each, and the medians compared.
#   burn:    cargo bench -p fdfat-models --features flex --bench models -- --train-only
#   PyTorch: scripts/torch_train_reference.py (same models, NAdam, L1, torch.set_num_threads)
# Prints, per model, the median images/s of each and the ratio burn / PyTorch (target >= 1.0).
# Usage: scripts/bench_train_vs_torch.sh [rounds] (default 3). Environment: THREADS (default 2;
# both sides use that many threads), CPUS (a taskset CPU list to pin both to, e.g. 0,1),
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
export RAYON_NUM_THREADS="$THREADS" OMP_NUM_THREADS="$THREADS"

torch_version=$("$PYTHON" -c 'import torch; print(torch.__version__)')
echo "burn: $FDFAT_MODELS_BENCH; PyTorch: $torch_version; $THREADS threads," \
  "$(nproc) cores visible, ${CPUS:+pinned to CPUs $CPUS, }$ROUNDS rounds"
for round in $(seq "$ROUNDS"); do
  "${pin[@]}" "$FDFAT_MODELS_BENCH" --train-only | sed 's/^/burn /' | tee -a "$WORK/runs"
  "${pin[@]}" "$PYTHON" scripts/torch_train_reference.py --steps 10 --threads "$THREADS" \
    | grep step_ms= | sed 's/^/torch /' | tee -a "$WORK/runs"
done

"$PYTHON" - "$WORK/runs" <<'PY'
import re, statistics, sys
runs = {}
for line in open(sys.argv[1]):
    side, model = line.split()[:2]
    rate = float(re.search(r"img_per_s=([0-9.]+)", line).group(1))
    runs.setdefault((side, model), []).append(rate)
print(f"\n{'model':<11} {'burn img/s':>11} {'torch img/s':>12} {'burn/torch':>11}  (medians)")
for model in ("LWModel", "LWCSPModel"):
    burn, torch = (statistics.median(runs[(s, model)]) for s in ("burn", "torch"))
    print(f"{model:<11} {burn:>11.1f} {torch:>12.1f} {burn / torch:>11.2f}")
PY
