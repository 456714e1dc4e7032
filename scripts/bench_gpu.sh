#!/usr/bin/env bash
# GPU training benchmark (issue 10), on a toy dataset it renders itself (no downloads):
#   1. the input pipeline alone (images/s), with and without the pre-cropped cache;
#   2. training images/s at batch 64 and 256 for both models on each device given, as the
#      trainer prints them for its second epoch (overall, model step alone, data wait);
#   3. one epoch over a 100,000-image list (LWModel, batch 256, pre-cropped cache) on the first
#      device;
#   4. the loss curve of a short run on the first device and on the CPU, side by side.
# Usage: scripts/bench_gpu.sh [device...]   (default: wgpu). FDFAT names the binary (built with
# `--features wgpu` or `cuda`), PIPELINE the input-pipeline bench binary (`cargo bench -p
# fdfat-data --bench pipeline --no-run` prints it; step 1 is skipped without it), WORK a scratch
# folder (a toy set already rendered there is reused), COUNT the list size (default 100000),
# STEPS which steps run (default "pipeline throughput epoch curve").
set -euo pipefail
FDFAT="${FDFAT:-target/release/fdfat}"
WORK="${WORK:-$(mktemp -d)}"
COUNT="${COUNT:-100000}"
THREADS="$(nproc)"
DEVICES=("${@:-wgpu}")
STEPS="${STEPS:-pipeline throughput epoch curve}"
TOY="$WORK/toy"
step() { [[ " $STEPS " == *" $1 "* ]]; }

if [ ! -f "$TOY/all.txt" ]; then
  echo "== toy data: $COUNT faces, $THREADS threads"
  start=$(date +%s)
  "$FDFAT" --task synth --synth_out "$TOY" --synth_count "$COUNT" --workers "$THREADS" --save false
  echo "rendered in $(( $(date +%s) - start )) s"
  (cd "$TOY" && ls | grep -E '^[0-9]{6}\.png$' > all.txt && head -n 6400 all.txt > bench.txt \
    && head -n 512 val.txt > val_small.txt)
fi
yaml() { printf 'base_path: %s\ntrain: %s\nval: %s\nformat: facesynthetics\nlandmarks: facesynthetics70\n' \
  "$TOY" "$1" "$2" > "$TOY/$3"; }
yaml all.txt val_small.txt full.yaml
yaml bench.txt val_small.txt bench.yaml

train() { # device model activation batch epochs data extra...
  local device=$1 model=$2 act=$3 batch=$4 epochs=$5 data=$6
  shift 6
  "$FDFAT" --task train --data "$TOY/$data" --device "$device" --model "$model" --activation "$act" \
    --batch_size "$batch" --epoch "$epochs" --workers "$THREADS" --project "$WORK/runs" \
    --name "$device-$model-$batch" --dump_batch 0 "$@"
}

if step pipeline && [ -n "${PIPELINE:-}" ]; then
  echo "== input pipeline alone (6,400 toy images, 256x256 PNG)"
  FDFAT_BENCH_DATA="$TOY/bench.yaml" FDFAT_BENCH_THREADS="1,$((THREADS / 2)),$THREADS" \
    "$PIPELINE" --quick
fi

step throughput && echo "== training throughput (second epoch of 6,400 images; the first compiles and tunes kernels)"
step throughput && for device in "${DEVICES[@]}"; do
  for model in "LWModel ReLU6" "LWCSPModel SiLU"; do
    set -- $model
    for batch in 64 256; do
      line=$(train "$device" "$1" "$2" "$batch" 2 bench.yaml --save false 2>&1 \
        | tee "$WORK/last.log" | grep '^epoch 2/' || true)
      echo "$device $1 batch $batch: ${line:-failed}"
      [ -n "$line" ] || tail -n 5 "$WORK/last.log"
    done
  done
done

device="${DEVICES[0]}"
if step epoch; then
echo "== one epoch over $(wc -l < "$TOY/all.txt") images on $device (LWModel, batch 256, crop cache)"
start=$(date +%s)
train "$device" LWModel ReLU6 256 1 full.yaml --save false --crop_cache true | grep '^epoch\|^done'
echo "wall time $(( $(date +%s) - start )) s (rendering the crop cache included)"
fi

if step curve; then
echo "== loss curve, 6 epochs of 1,280 images, $device against the CPU"
(cd "$TOY" && head -n 1280 all.txt > curve.txt)
yaml curve.txt val_small.txt curve.yaml
for d in "$device" cpu; do
  train "$d" LWModel ReLU6 64 6 curve.yaml --seed 0 --save false | grep '^epoch' | sed "s/^/$d /"
done
fi
