#!/usr/bin/env python3
"""Lay the shared 300-W JPEGs out for fdfat and for the original fdfat's own trainer.

    python3 scripts/original_300w_data.py SHARED_300W WORK REPEAT [--holdout FOLDER]

Writes into WORK: `fdfat.yaml` (format 300w, the `.pts` files as they are) and `orig.yaml` (the
original's layout: `orig/<name>.jpg` linked to the image beside `orig/<name>_ldmks.txt`, one
`x y` line per point), both with the same training list (each image REPEAT times) and val list.
Without --holdout both lists hold every image; with it, the images under that folder are the val
list and the rest the training list (for a from-scratch comparison on unseen faces).
"""

import argparse
import glob
import os


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("root")
    parser.add_argument("work")
    parser.add_argument("repeat", type=int)
    parser.add_argument("--holdout")
    args = parser.parse_args()
    os.makedirs(f"{args.work}/orig", exist_ok=True)
    images = sorted(glob.glob(f"{args.root}/**/*.jpg", recursive=True))
    for jpg in images:
        lines = [l.strip() for l in open(jpg[:-4] + ".pts").read().splitlines()]
        points = lines[lines.index("{") + 1 : lines.index("}")]
        name = os.path.basename(jpg)[:-4]
        os.symlink(jpg, f"{args.work}/orig/{name}.jpg")
        with open(f"{args.work}/orig/{name}_ldmks.txt", "w") as f:
            f.write("\n".join(" ".join(p.split()[:2]) for p in points if p))
    held = f"/{args.holdout}/" if args.holdout else None
    train = [j for j in images if not held or held not in j]
    val = [j for j in images if held and held in j] or images
    for prefix, name in (("", lambda j: os.path.relpath(j, args.root)),
                         ("orig_", os.path.basename)):
        open(f"{args.work}/{prefix}train.txt", "w").write("\n".join(map(name, train * args.repeat)))
        open(f"{args.work}/{prefix}val.txt", "w").write("\n".join(map(name, val)))
    w = args.work
    open(f"{w}/fdfat.yaml", "w").write(
        f"base_path: {args.root}\ntrain: {w}/train.txt\nval: {w}/val.txt\nformat: 300w\n")
    open(f"{w}/orig.yaml", "w").write(
        f"base_path: {w}/orig\ntrain: {w}/orig_train.txt\nval: {w}/orig_val.txt\n")
    print(f"{len(train)} training JPEGs x {args.repeat}, {len(val)} val JPEGs")


if __name__ == "__main__":
    main()
