#!/usr/bin/env bash
# The GPU training benchmark of issue 14, in ONE run on a machine with a GPU and nothing to
# download (the toy data is rendered here):
#   1. PyTorch (scripts/torch_train_reference.py --device cuda) against ours, both models,
#      batch 64 and 256, on each device given (default: cuda wgpu): images/s of the model step
#      alone, ours as the trainer prints it for its second epoch (the first compiles and tunes
#      kernels), PyTorch's on fixed random data;
#   2. one epoch over a COUNT-image toy list (LWModel, batch 256, pre-cropped cache) on the
#      first device, and the projected time of the published recipe (250 epochs of 100,000);
#   3. the CPU scaling table of issue 17 (THREADS_LIST, ours and PyTorch, model step alone);
#   4. the loss curve of a short run on the first device and on the CPU, side by side.
# A table of the results is printed last.
#
# Usage: scripts/bench_gpu.sh [device...]
# Environment: FDFAT the binary (built with `--features wgpu,cuda`; default
# target/release/fdfat), or FDFAT_WGPU and FDFAT_CUDA, one binary per device kind, PYTHON (python3 with torch; its rows are skipped without it), WORK a
# scratch folder (a toy set already rendered there is reused), COUNT the epoch list (100000),
# BENCH_COUNT the images of a throughput run (5120), THREADS_LIST (1 2 4 8 16), STEPS which
# steps run (default "throughput epoch scaling curve").
set -euo pipefail
cd "$(dirname "$0")/.."
FDFAT="${FDFAT:-target/release/fdfat}"
PYTHON="${PYTHON:-python3}"
WORK="${WORK:-$(mktemp -d)}"
COUNT="${COUNT:-100000}"
BENCH_COUNT="${BENCH_COUNT:-5120}"
THREADS="$(nproc)"
THREADS_LIST="${THREADS_LIST:-1 2 4 8 16}"
if [ $# -gt 0 ]; then DEVICES=("$@"); else DEVICES=(cuda wgpu); fi
STEPS="${STEPS:-throughput epoch scaling curve}"
TOY="$WORK/toy"
TABLE="$WORK/table.txt"
: > "$TABLE"
step() { [[ " $STEPS " == *" $1 "* ]]; }
row() { echo "$*" | tee -a "$TABLE"; }
have_torch() { "$PYTHON" -c 'import torch' 2>/dev/null; }

if [ ! -f "$TOY/all.txt" ]; then
  echo "== toy data: $COUNT faces, $THREADS threads"
  start=$(date +%s)
  "$FDFAT" --task synth --synth_out "$TOY" --synth_count "$COUNT" --workers "$THREADS" --save false
  echo "rendered in $(( $(date +%s) - start )) s"
  (cd "$TOY" && ls | grep -E '^[0-9]{6}\.png$' > all.txt && head -n "$BENCH_COUNT" all.txt > bench.txt \
    && head -n 1280 all.txt > curve.txt && head -n 640 all.txt > scaling.txt \
    && head -n 512 val.txt > val_small.txt)
fi
yaml() { printf 'base_path: %s\ntrain: %s\nval: %s\nformat: facesynthetics\nlandmarks: facesynthetics70\n' \
  "$TOY" "$1" "$2" > "$TOY/$3"; }
yaml all.txt val_small.txt full.yaml
yaml bench.txt val_small.txt bench.yaml
yaml curve.txt val_small.txt curve.yaml
yaml scaling.txt val_small.txt scaling.yaml

bin_for() { # device: the binary that trains on it
  case "$1" in
    wgpu*) echo "${FDFAT_WGPU:-$FDFAT}" ;;
    cuda*) echo "${FDFAT_CUDA:-$FDFAT}" ;;
    *) echo "$FDFAT" ;;
  esac
}
train() { # device model activation batch epochs data extra...
  local device=$1 model=$2 act=$3 batch=$4 epochs=$5 data=$6
  shift 6
  "$(bin_for "$device")" --task train --data "$TOY/$data" --device "$device" --model "$model" --activation "$act" \
    --batch_size "$batch" --epoch "$epochs" --workers "$THREADS" --project "$WORK/runs" \
    --name "$device-$model-$batch" --dump_batch 0 "$@"
}
# The "N img/s model step only" figure of the trainer's line for epoch 2.
step_rate() { grep '^epoch 2/' | grep -oE '[0-9.]+ img/s model step only' | grep -oE '^[0-9.]+' || echo failed; }
torch_rate() { # device model batch threads
  have_torch || { echo "no-torch"; return; }
  "$PYTHON" scripts/torch_train_reference.py --device "$1" --models "$2" --batch "$3" \
    --threads "$4" --steps 10 --warmup 3 | grep -oE 'img_per_s=[0-9.]+' | cut -d= -f2 || echo failed
}

if step throughput; then
  echo "== training images/s, model step alone (ours: second epoch of $BENCH_COUNT images)"
  row "| device | model | batch | ours img/s | PyTorch img/s | ours / PyTorch |"
  row "|---|---|---|---|---|---|"
  for device in "${DEVICES[@]}"; do
    for model in "LWModel ReLU6" "LWCSPModel SiLU"; do
      set -- $model
      for batch in 64 256; do
        ours=$(train "$device" "$1" "$2" "$batch" 2 bench.yaml --save false 2>&1 \
          | tee "$WORK/last.log" | step_rate)
        [ "$ours" != failed ] || tail -n 5 "$WORK/last.log"
        torch_device=$device; [ "$device" = wgpu ] && torch_device=cuda
        theirs=$(torch_rate "$torch_device" "$1" "$batch" "$THREADS")
        ratio=$(awk -v a="$ours" -v b="$theirs" 'BEGIN { if (a + 0 > 0 && b + 0 > 0) printf "%.2f", a / b; else print "-" }')
        row "| $device | $1 | $batch | $ours | $theirs | $ratio |"
      done
    done
  done
fi

device="${DEVICES[0]}"
if step epoch; then
  images=$(wc -l < "$TOY/all.txt")
  echo "== one epoch over $images images on $device (LWModel, batch 256, crop cache)"
  start=$(date +%s)
  train "$device" LWModel ReLU6 256 1 full.yaml --save false --crop_cache true 2>&1 \
    | tee "$WORK/epoch.log" | grep '^epoch\|^done' || true
  seconds=$(( $(date +%s) - start ))
  # The overall training images/s of the epoch line (crop cache rendering and validation aside).
  rate=$(grep '^epoch 1/' "$WORK/epoch.log" | grep -oE '\([0-9.]+ img/s' | head -n 1 | grep -oE '[0-9.]+' || echo 0)
  projected=$(awk -v r="$rate" 'BEGIN { if (r > 0) printf "%.0f min", 250 * 100000 / r / 60; else print "-" }')
  row ""
  row "| one epoch, $images toy faces, $device | ${seconds} s wall (crop cache included) | ${rate} img/s | published recipe (250 x 100k) projected: $projected |"
fi

if step scaling; then
  echo "== CPU scaling, model step alone (ours: second epoch of 640 images, batch 64)"
  row ""
  row "| threads | LWModel ours | LWModel PyTorch | LWCSPModel ours | LWCSPModel PyTorch |"
  row "|---|---|---|---|---|"
  for t in $THREADS_LIST; do
    [ "$t" -le "$THREADS" ] || continue
    cells=()
    for model in "LWModel ReLU6" "LWCSPModel SiLU"; do
      set -- $model
      ours=$(RAYON_NUM_THREADS=$t taskset -c "0-$((t - 1))" "$FDFAT" --task train \
        --data "$TOY/scaling.yaml" --device cpu --model "$1" --activation "$2" --batch_size 64 \
        --epoch 2 --workers "$t" --project "$WORK/runs" --name "cpu-$1-$t" --dump_batch 0 \
        --save false 2>&1 | step_rate)
      theirs=$(taskset -c "0-$((t - 1))" bash -c "$(declare -f torch_rate have_torch); PYTHON=$PYTHON torch_rate cpu $1 64 $t")
      cells+=("$ours" "$theirs")
    done
    row "| $t | ${cells[0]} | ${cells[1]} | ${cells[2]} | ${cells[3]} |"
  done
fi

if step curve; then
  echo "== loss curve, 6 epochs of 1,280 images, $device against the CPU"
  for d in "$device" cpu; do
    train "$d" LWModel ReLU6 64 6 curve.yaml --seed 0 --save false 2>&1 | grep '^epoch' | sed "s/^/$d /"
  done
fi

echo
echo "== summary ($(date -u +%F), $(nvidia-smi --query-gpu=name --format=csv,noheader 2>/dev/null | head -n 1 || echo 'no nvidia-smi'), $THREADS cores)"
cat "$TABLE"
