#!/usr/bin/env bash
# Exports the published LWModel and LWCSPModel (`best.pt`) with `fdfat --task export` as TFLite
# (float32, float16, int8 full-integer and integer, int16x8) and as ONNX (float, int8 QDQ),
# calibrated and scored on the shared 300-W faces and on the FaceSynthetics samples (NME of
# each file against float32, per pose bucket, printed by the export), then times the files at
# batch 1, 1 thread: TFLite in LiteRT beside ONNX in onnxruntime (scripts/bench_tflite.py).
# Usage: scripts/bench_tflite.sh [bench_tflite.py options]; FDFAT names a binary to use.
set -euo pipefail
cd "$(dirname "$0")/.."
BENCH_ARGS=("$@")
. scripts/export_common.sh
printf 'base_path: %s\nval: .\nformat: 300w\n' "$SHARED/data/300w" > "$WORK/300w.yaml"

for model in "LWModel ReLU6 LWModel_ReLU6_affine_cls lw" "LWCSPModel SiLU LWCSPModel_SiLU_affine_facecls csp"; do
  set -- $model
  args=(--model "$1" --activation "$2" --face_cls true --checkpoint "$REF/$3/best.pt" --cache false)
  for data in 300w facesynthetics; do
    echo "== $1 TFLite, calibrated and scored on $data"
    "$FDFAT" --task export --export_format tflite "${args[@]}" \
      --export_path "$WORK/$data/${4}_float32.tflite" --data "$WORK/$data.yaml" \
      --export_int8 true --export_int16x8 true --export_calib 100 \
      | sed -n '/NME on/,$p'
  done
  "$FDFAT" --task export --export_format onnx "${args[@]}" --export_path "$WORK/$4.onnx" \
    --export_int8 true --data "$WORK/300w.yaml" --export_calib 100 > /dev/null
done
echo "== latency (batch 1, 1 thread)"
python3 scripts/bench_tflite.py \
  "lw.onnx=$WORK/lw.onnx" "lw_float32.tflite=$WORK/300w/lw_float32.tflite" \
  "lw_int8.onnx=$WORK/lw_int8.onnx" "lw_full_integer.tflite=$WORK/300w/lw_full_integer_quant.tflite" \
  "lw_integer.tflite=$WORK/300w/lw_integer_quant.tflite" \
  "csp.onnx=$WORK/csp.onnx" "csp_float32.tflite=$WORK/300w/csp_float32.tflite" \
  "csp_int8.onnx=$WORK/csp_int8.onnx" "csp_full_integer.tflite=$WORK/300w/csp_full_integer_quant.tflite" \
  "csp_integer.tflite=$WORK/300w/csp_integer_quant.tflite" \
  "csp_int16x8.tflite=$WORK/300w/csp_integer_quant_with_int16_act.tflite" \
  "${BENCH_ARGS[@]}"
