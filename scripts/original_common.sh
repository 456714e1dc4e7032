# Sourced by the scripts that run the original fdfat's own trainer beside ours
# (bench_train_e2e.sh, compare_scratch_300w.sh): scripts/common.sh; ORIGINAL, a checkout of
# RyanDam/Fast-6DoF-Face-Alignment-and-Tracking, and `run_original DATA_YAML EPOCHS PROJECT`,
# which trains the original's LWModel (ReLU6, 68 points, workers 8: its published landmark
# config otherwise) and prints its per-epoch tqdm lines. python3 needs torch, albumentations
# 1.3.1, opencv-python-headless, pillow, pandas, seaborn, fvcore, filterpy and setuptools<80.
: "${ORIGINAL:?set ORIGINAL to a checkout of RyanDam/Fast-6DoF-Face-Alignment-and-Tracking}"
. scripts/common.sh

run_original() {
  (cd "$ORIGINAL" && python3 -c "
import sys
sys.argv = ['fdfat', '--task', 'train', '--data', '$1', '--epoch', '$2', '--lmk_num', '68',
            '--workers', '8', '--project', '$3', '--name', 'orig', '--cache', 'False',
            '--dump_batch', '0']
from fdfat.cli import entrypoint
entrypoint()" 2>&1) | tr '\r' '\n' | grep -E "Train epoch.*100%" | awk 'NR % 2 == 0'
}
