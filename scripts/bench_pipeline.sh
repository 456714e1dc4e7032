#!/usr/bin/env bash
# Input-pipeline throughput, fdfat-rs and the original Python pipeline side by side, on the
# FaceSynthetics samples of ../shared (or $FDFAT_SHARED). Python needs:
#   pip install albumentations pillow numpy opencv-python-headless
# Usage: scripts/bench_pipeline.sh [images]   (default 320); PYTHON selects the interpreter.
set -euo pipefail
cd "$(dirname "$0")/.."
images="${1:-320}"
python="${PYTHON:-python3}"
FDFAT_BENCH_IMAGES="$images" cargo bench -p fdfat-data --bench pipeline -- --stages
if "$python" -c "import albumentations, cv2, PIL, numpy" 2>/dev/null; then
    "$python" scripts/pipeline_reference.py --images "$images"
else
    echo "python reference skipped: $python lacks albumentations, opencv, pillow or numpy"
fi
