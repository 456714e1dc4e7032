#!/usr/bin/env bash
# Exports the published LWModel and LWCSPModel (`best.pt`) with `fdfat --task export`, int8
# variants included (calibrated on the shared FaceSynthetics samples), then times the exported
# files side by side with the published `model.onnx` (LWModel) and `model_reexported.onnx`
# (LWCSPModel) in onnxruntime, 1 thread, batch 1 (scripts/bench_onnx.py; target ratio <= 1.0).
# Reference (../shared/reference/README.md, CI-like 2-core machine): 0.88 ms and 1.80 ms.
# Usage: scripts/bench_onnx.sh [bench_onnx.py options]; FDFAT names a binary to use.
set -euo pipefail
cd "$(dirname "$0")/.."
BENCH_ARGS=("$@")
. scripts/export_common.sh

for model in "LWModel ReLU6 LWModel_ReLU6_affine_cls lw" "LWCSPModel SiLU LWCSPModel_SiLU_affine_facecls csp"; do
  set -- $model
  echo "== export $1"
  "$FDFAT" --task export --export_format onnx --model "$1" --activation "$2" --face_cls true \
    --checkpoint "$REF/$3/best.pt" --export_path "$WORK/$4.onnx" \
    --export_int8 true --data "$WORK/facesynthetics.yaml" --cache false --export_calib 10 \
    | sed -n '/^exported/,$p'
done
python3 scripts/bench_onnx.py \
  --pair LWModel "$WORK/lw.onnx" "$REF/LWModel_ReLU6_affine_cls/model.onnx" \
  --pair LWCSPModel "$WORK/csp.onnx" "$REF/LWCSPModel_SiLU_affine_facecls/model_reexported.onnx" \
  --pair LWModel-int8 "$WORK/lw_int8.onnx" "$WORK/lw.onnx" \
  --pair LWCSP-int8 "$WORK/csp_int8.onnx" "$WORK/csp.onnx" \
  "${BENCH_ARGS[@]}"
