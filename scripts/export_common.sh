# Sourced by the export benchmarks (bench_onnx.sh, bench_tflite.sh): the shared fixtures, a
# temporary WORK folder (removed on exit) holding `facesynthetics.yaml` (a data YAML whose val
# split is the shared FaceSynthetics samples), and FDFAT, the binary (built in release unless
# FDFAT names one).
SHARED="${FDFAT_SHARED:-$(cd .. && pwd)/shared}"
REF="$SHARED/data/reference_checkpoints"
SAMPLES="$SHARED/data/facesynthetics/samples"
WORK="$(mktemp -d)"
trap 'rm -rf "$WORK"' EXIT

(cd "$SAMPLES" && ls ??????.png) > "$WORK/val.txt"
printf 'base_path: %s\nval: %s\nformat: facesynthetics\n' "$SAMPLES" "$WORK/val.txt" > "$WORK/facesynthetics.yaml"

if [ -z "${FDFAT:-}" ]; then
  cargo build --release --quiet
  FDFAT=target/release/fdfat
fi
