#!/usr/bin/env bash
# End-to-end training throughput on real JPEGs, side by side with the original fdfat recipe:
# the shared 300-W faces (each listed REPEAT times) trained for EPOCHS epochs with the
# published `workers: 8`, first by `fdfat` (crop_cache off, then on), then by the original's
# own trainer (PIL + albumentations, torch DataLoader workers) on the same images, written in
# its `<image>_ldmks.txt` layout. Prints each tool's per-epoch img/s.
# Usage: ORIGINAL=/path/to/Fast-6DoF-Face-Alignment-and-Tracking scripts/bench_train_e2e.sh
# (the original's checkout; python3 needs torch, albumentations 1.3.1, opencv-python-headless,
# pillow, pandas, seaborn, fvcore, filterpy and setuptools<80 for its pkg_resources).
# FDFAT names a binary to use; REPEAT (30) and EPOCHS (3) size the run.
set -euo pipefail
cd "$(dirname "$0")/.."
: "${ORIGINAL:?set ORIGINAL to a checkout of RyanDam/Fast-6DoF-Face-Alignment-and-Tracking}"
SHARED="${FDFAT_SHARED:-$(cd .. && pwd)/shared}"
REPEAT="${REPEAT:-30}"
EPOCHS="${EPOCHS:-3}"
WORK="$(mktemp -d)"
trap 'rm -rf "$WORK"' EXIT
if [ -z "${FDFAT:-}" ]; then
  cargo build --release --quiet
  FDFAT=target/release/fdfat
fi

# the same JPEGs in both layouts: 300-W .pts for fdfat, <name>_ldmks.txt for the original
python3 - "$SHARED/data/300w" "$WORK" "$REPEAT" <<'PY'
import glob, os, sys
root, work, repeat = sys.argv[1], sys.argv[2], int(sys.argv[3])
os.makedirs(f"{work}/orig", exist_ok=True)
images = sorted(glob.glob(f"{root}/**/*.jpg", recursive=True))
for jpg in images:
    lines = [l.strip() for l in open(jpg[:-4] + ".pts").read().splitlines()]
    points = lines[lines.index("{") + 1 : lines.index("}")]
    name = os.path.basename(jpg)[:-4]
    os.symlink(jpg, f"{work}/orig/{name}.jpg")
    with open(f"{work}/orig/{name}_ldmks.txt", "w") as f:
        f.write("\n".join(" ".join(p.split()[:2]) for p in points if p))
rel = [os.path.relpath(j, root) for j in images]
names = [os.path.basename(j) for j in images]
open(f"{work}/train.txt", "w").write("\n".join(rel * repeat))
open(f"{work}/val.txt", "w").write("\n".join(rel))
open(f"{work}/orig_train.txt", "w").write("\n".join(names * repeat))
open(f"{work}/orig_val.txt", "w").write("\n".join(names))
print(f"{len(images)} JPEGs x {repeat} = {len(images) * repeat} training samples per epoch")
PY
printf 'base_path: %s\ntrain: %s/train.txt\nval: %s/val.txt\nformat: 300w\n' \
  "$SHARED/data/300w" "$WORK" "$WORK" > "$WORK/fdfat.yaml"
printf 'base_path: %s/orig\ntrain: %s/orig_train.txt\nval: %s/orig_val.txt\n' \
  "$WORK" "$WORK" "$WORK" > "$WORK/orig.yaml"

for cache in false true; do
  echo "== fdfat, workers 8, crop_cache $cache"
  "$FDFAT" --task train --data "$WORK/fdfat.yaml" --epoch "$EPOCHS" --workers 8 \
    --crop_cache "$cache" --dump_batch 0 --project "$WORK/runs" --name "fdfat_$cache" \
    | grep -E "^epoch [0-9]+/" | sed -E 's/^(epoch [0-9]+\/[0-9]+): train loss [^(]*\(([^)]*)\).*/\1: \2/'
done
echo "== original fdfat recipe, workers 8 (tqdm: batches of 64 per second over the epoch)"
(cd "$ORIGINAL" && python3 -c "
import sys
sys.argv = ['fdfat', '--task', 'train', '--data', '$WORK/orig.yaml', '--epoch', '$EPOCHS',
            '--lmk_num', '68', '--workers', '8', '--project', '$WORK/orig_runs',
            '--cache', 'False', '--dump_batch', '0']
from fdfat.cli import entrypoint
entrypoint()" 2>&1) | tr '\r' '\n' | grep -E "Train epoch.*100%" | awk 'NR % 2 == 0' \
  | sed -E 's/.*Train epoch \[ *([0-9]+)\/ *([0-9]+)\].*\[([0-9:]+)<.*, *([0-9.]+)it\/s\]/epoch \1\/\2: \3 for the epoch, \4 batches\/s/' \
  | awk '{ print $0 " = " $(NF-1) * 64 " img/s" }'
