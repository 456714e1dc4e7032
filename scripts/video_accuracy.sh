#!/usr/bin/env bash
# Video accuracy of the tracker with the published LWModel (ONNX in tract) and the RFB-320
# detector: renders toy sequences (640x480, 30 fps, holds, slow moves and fast turns, exact
# per-frame landmarks) and evaluates the whole tracker on them with every smoother (none,
# Kalman, One-Euro): NME, still and high-frequency jitter, lag on turns, lost faces, identity
# switches and latency per frame by stage. Then the same on the real 300-VW frames of
# ../shared (or $FDFAT_SHARED). Reports go to $OUT (default runs/video_accuracy).
# Usage: scripts/video_accuracy.sh [sequences] [frames] [seed]
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/common.sh
OUT="${OUT:-runs/video_accuracy}"
SEQUENCES="${1:-4}"
FRAMES="${2:-120}"
SEED="${3:-22}"
MODELS=(--track_detector "$SHARED/data/face_detector/version-RFB-320.onnx"
        --track_landmark "$REF/LWModel_ReLU6_affine_cls/model.onnx")
"$FDFAT" --task synth --synth_out "$WORK/seqs" --synth_sequences "$SEQUENCES" \
  --synth_frames "$FRAMES" --seed "$SEED" --workers 2 | tail -n 1
# the published face-cls head scores the toy faces 0.3-0.99: keep faces from 0.2
"$FDFAT" --task val --data "$WORK/seqs" "${MODELS[@]}" --track_face_threshold 0.2 \
  --project "$OUT" --name rendered --override true | sed -n '/^smoother/,$p'
"$FDFAT" --task val --data "$SHARED/data/300vw" "${MODELS[@]}" \
  --project "$OUT" --name 300vw --override true | sed -n '/^smoother/,$p'
