#!/usr/bin/env bash
# Training throughput of both models at batch 64 on the default backend, with the input
# pipeline included (decode + crop + augment of 512x512 FaceSynthetics PNGs) and excluded
# (the model step alone), as printed by the trainer per epoch.
# Reference (../shared/reference/README.md, PyTorch 2.15, 2 threads, CI-like 2-core machine):
# LWModel 159 img/s, LWCSPModel 146 img/s for the model step.
# Usage: scripts/bench_train.sh [images per epoch] (default 320); FDFAT names a binary to use.
set -euo pipefail
cd "$(dirname "$0")/.."
IMAGES="${1:-320}"
SHARED="${FDFAT_SHARED:-$(cd .. && pwd)/shared}"
SAMPLES="$SHARED/data/facesynthetics/samples"
WORK="$(mktemp -d)"
trap 'rm -rf "$WORK"' EXIT

names=$(cd "$SAMPLES" && ls ??????.png)
: > "$WORK/list.txt"
while [ "$(wc -l < "$WORK/list.txt")" -lt "$IMAGES" ]; do printf '%s\n' $names >> "$WORK/list.txt"; done
head -n "$IMAGES" "$WORK/list.txt" > "$WORK/train.txt"
printf '%s\n' $names > "$WORK/val.txt"
printf 'base_path: %s\ntrain: %s\nval: %s\n' "$SAMPLES" "$WORK/train.txt" "$WORK/val.txt" > "$WORK/data.yaml"

if [ -z "${FDFAT:-}" ]; then
  cargo build --release --quiet
  FDFAT=target/release/fdfat
fi
for model in "LWModel ReLU6" "LWCSPModel SiLU"; do
  set -- $model
  echo "== $1 ($2), batch 64, $IMAGES images per epoch, $(nproc) cores"
  "$FDFAT" --task train --data "$WORK/data.yaml" --project "$WORK/runs" --name "$1" \
    --model "$1" --activation "$2" --epoch 2 --batch_size 64 --save false --cache false \
    | grep '^epoch [0-9]'
done
