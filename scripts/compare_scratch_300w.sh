#!/usr/bin/env bash
# From scratch on real faces, fdfat beside the original fdfat's own trainer: LWModel with the
# published landmark config (68 points) trained for EPOCHS epochs on the shared 300-W JPEGs
# outside helen_testset (each REPEAT times), then both best checkpoints evaluated by
# `fdfat --task val` on the held-out helen_testset faces (one protocol for both: the original's
# best.pt is imported as a checkpoint).
# Usage: ORIGINAL=/path/to/Fast-6DoF-Face-Alignment-and-Tracking scripts/compare_scratch_300w.sh
# (see scripts/original_common.sh); FDFAT names a binary, REPEAT (30) and EPOCHS (40) size it.
set -euo pipefail
cd "$(dirname "$0")/.."
. scripts/original_common.sh
REPEAT="${REPEAT:-30}"
EPOCHS="${EPOCHS:-40}"
CFG="$REF/LWModel_ReLU6_affine_cls/config_landmark.yaml"
python3 scripts/original_300w_data.py "$SHARED/data/300w" "$WORK" "$REPEAT" --holdout helen_testset

echo "== fdfat, $EPOCHS epochs"
"$FDFAT" --cfg "$CFG" --data "$WORK/fdfat.yaml" --lmk_num 68 --epoch "$EPOCHS" --device cpu \
  --dump_batch 0 --project "$WORK/runs" --name ours | grep -E "^done in|val NME: best"
echo "== the original, $EPOCHS epochs"
run_original "$WORK/orig.yaml" "$EPOCHS" "$WORK/orig_runs" | tail -1 | sed -E 's/: *[0-9]+%.*//'
echo "== both best checkpoints on the held-out faces (fdfat --task val)"
# the original's head always has 70 points (`70*2` in its model.py), of which 300-W trains the
# first 68: its best.pt is read as a 70-point model, evaluated on the 68 points both share
for who in ours orig; do
  if [ "$who" = ours ]; then
    checkpoint="$WORK/runs/ours/weights/best.bpk" points=68
  else
    checkpoint="$(find "$WORK/orig_runs" -name best.pt | head -1)" points=70
  fi
  "$FDFAT" --task val --cfg "$CFG" --device cpu --lmk_num "$points" --data "$WORK/fdfat.yaml" \
    --checkpoint "$checkpoint" --val_report "$WORK/$who.json" --project "$WORK/runs" \
    --name "val_$who" > /dev/null
  python3 -c "
import json, sys
r = json.load(open(sys.argv[1]))
print(f'{sys.argv[2]}: NME {r[\"nme_mean\"]:.4f} on {r[\"count\"]} held-out faces')" "$WORK/$who.json" "$who"
done
