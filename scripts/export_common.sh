# Sourced by the export benchmarks (bench_onnx.sh, bench_tflite.sh): scripts/common.sh, and
# `$WORK/facesynthetics.yaml`, a data YAML whose val split is the shared FaceSynthetics samples.
. scripts/common.sh
SAMPLES="$SHARED/data/facesynthetics/samples"
(cd "$SAMPLES" && ls ??????.png) > "$WORK/val.txt"
printf 'base_path: %s\nval: %s\nformat: facesynthetics\n' "$SAMPLES" "$WORK/val.txt" > "$WORK/facesynthetics.yaml"
