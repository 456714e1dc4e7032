#!/usr/bin/env bash
# End-to-end training throughput on real JPEGs, side by side with the original fdfat recipe:
# the shared 300-W faces (each listed REPEAT times) trained for EPOCHS epochs with the
# published `workers: 8`, first by `fdfat` (crop_cache off, then on), then by the original's
# own trainer (PIL + albumentations, torch DataLoader workers) on the same images, written in
# its `<image>_ldmks.txt` layout. Prints each tool's per-epoch img/s.
# Usage: ORIGINAL=/path/to/Fast-6DoF-Face-Alignment-and-Tracking scripts/bench_train_e2e.sh
# (see scripts/original_common.sh for the original's Python packages).
# FDFAT names a binary to use; REPEAT (30) and EPOCHS (3) size the run.
set -euo pipefail
cd "$(dirname "$0")/.."
. scripts/original_common.sh
REPEAT="${REPEAT:-30}"
EPOCHS="${EPOCHS:-3}"

python3 scripts/original_300w_data.py "$SHARED/data/300w" "$WORK" "$REPEAT"

for cache in false true; do
  echo "== fdfat, workers 8, crop_cache $cache"
  "$FDFAT" --task train --data "$WORK/fdfat.yaml" --epoch "$EPOCHS" --workers 8 \
    --crop_cache "$cache" --dump_batch 0 --project "$WORK/runs" --name "fdfat_$cache" \
    | grep -E "^epoch [0-9]+/" | sed -E 's/^(epoch [0-9]+\/[0-9]+): train loss [^(]*\(([^)]*)\).*/\1: \2/'
done
echo "== original fdfat recipe, workers 8 (tqdm: batches of 64 per second over the epoch)"
run_original "$WORK/orig.yaml" "$EPOCHS" "$WORK/orig_runs" \
  | sed -E 's/.*Train epoch \[ *([0-9]+)\/ *([0-9]+)\].*\[([0-9:]+)<.*, *([0-9.]+)it\/s\]/epoch \1\/\2: \3 for the epoch, \4 batches\/s/' \
  | awk '{ print $0 " = " $(NF-1) * 64 " img/s" }'
