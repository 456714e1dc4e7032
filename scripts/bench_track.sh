#!/usr/bin/env bash
# Predict and track throughput on the CPU at 640x480 with one face (release build), with the
# RFB-320 detector and the published LWModel (ONNX in tract, best.pt in burn), from the
# fixtures of ../shared (or $FDFAT_SHARED). Prints per-stage latencies, then predict and track
# frames per second.
# Usage: scripts/bench_track.sh [--quick]
set -euo pipefail
cd "$(dirname "$0")/.."
cargo bench -p fdfat-track --bench track -- "$@"
