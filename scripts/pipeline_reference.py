#!/usr/bin/env python3
"""Throughput of the original fdfat training input pipeline, for a side-by-side comparison with
`cargo bench -p fdfat-data --bench pipeline`.

It re-implements what `fdfat/data/dataloader.py` (LandmarkDataset with a cache, aug=True) does
per sample: PIL decode, `gen_bbox` random face box (scale 1.4-1.6, offset 0.2), integer crop,
the same albumentations Compose (Resize, Affine, ToGray, Rotate, RandomBrightnessContrast,
HSV/RGB shift, blurs, ISONoise, ImageCompression 50-90) with keypoints, landmark normalisation,
`x / 127.5 - 1`, CHW, and collation into float32 batches of 64. One process, one thread.

Needs: pip install albumentations pillow numpy opencv-python-headless
Usage: python scripts/pipeline_reference.py [--images 320] [--epochs 3] [--samples DIR]
"""

import argparse
import os
import time
from pathlib import Path

os.environ.setdefault("OMP_NUM_THREADS", "1")
os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")

import albumentations as A  # noqa: E402
import cv2  # noqa: E402
import numpy as np  # noqa: E402
from PIL import Image  # noqa: E402

NAMES = ["000000", "000001", "000002", "000003", "000004", "000005", "000010", "000047", "000058", "000072"]


def gen_bbox(lmk, imgsz, scale=(1.4, 1.6), offset=0.2):
    bbox = np.array([np.min(lmk, 0), np.max(lmk, 0)])
    size = bbox[1, :] - bbox[0, :]
    m = np.max(size)
    size[0] = m
    size[1] = m
    center = (bbox[1, :] + bbox[0, :]) / 2
    offset_ab = (2 * np.random.random(2) - 1) * offset * size
    size = size * np.random.uniform(low=scale[0], high=scale[1], size=1)
    center = center + offset_ab
    nbbox = np.vstack([center - size / 2, center + size / 2])
    nbbox[:, 0] = np.clip(nbbox[:, 0], 0, imgsz[0] - 1)
    nbbox[:, 1] = np.clip(nbbox[:, 1], 0, imgsz[1] - 1)
    return nbbox


def compression():
    try:
        return A.ImageCompression(quality_range=(50, 90), p=0.5)
    except TypeError:
        return A.ImageCompression(quality_lower=50, quality_upper=90, p=0.5)


def augmentation(imgsz):
    return A.Compose(
        [
            A.Resize(imgsz, imgsz),
            A.Affine(scale=(0.85, 1.15), translate_percent=0.1),
            A.ToGray(p=0.2),
            A.Rotate(limit=10, p=0.2),
            A.RandomBrightnessContrast(p=0.2),
            A.OneOf([A.HueSaturationValue(p=0.5), A.RGBShift(p=0.7)], p=0.1),
            A.OneOf(
                [
                    A.Defocus(p=0.1),
                    A.MotionBlur(p=0.2),
                    A.MedianBlur(blur_limit=3, p=0.1),
                    A.Blur(blur_limit=3, p=0.1),
                ],
                p=0.1,
            ),
            A.ISONoise(p=0.2),
            compression(),
        ],
        keypoint_params=A.KeypointParams(format="xy", remove_invisible=False),
    )


def load_sample(path, lmk, imgsz_wh, aug):
    img = np.array(Image.open(path).convert("RGB"))
    bbox = gen_bbox(lmk, imgsz_wh)
    b = bbox.astype(np.int32).flatten().tolist()
    img = img[b[1]:b[3], b[0]:b[2], :]
    lmk = lmk.copy()
    lmk[:, 0] -= bbox[0, 0]
    lmk[:, 1] -= bbox[0, 1]
    out = aug(image=img, keypoints=lmk)
    img, lmk = out["image"], np.array(out["keypoints"])
    lmk = (lmk / img.shape[1] - 0.5).astype(np.float32)
    img = (img / 127.5 - 1).astype(np.float32).transpose((2, 0, 1))
    return img, lmk.flatten()


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--images", type=int, default=320)
    parser.add_argument("--epochs", type=int, default=3)
    parser.add_argument("--batch", type=int, default=64)
    parser.add_argument("--imgsz", type=int, default=96)
    shared = Path(os.environ.get("FDFAT_SHARED", Path(__file__).resolve().parents[1].parent / "shared"))
    parser.add_argument("--samples", type=Path, default=shared / "data/facesynthetics/samples")
    args = parser.parse_args()
    cv2.setNumThreads(1)
    np.random.seed(22)

    cache = []
    for i in range(args.images):
        name = NAMES[i % len(NAMES)]
        lmk = np.loadtxt(args.samples / f"{name}_ldmks.txt")
        path = args.samples / f"{name}.png"
        cache.append((path, lmk, Image.open(path).size))
    aug = augmentation(args.imgsz)

    best = 0.0
    for _ in range(args.epochs):
        order = np.random.permutation(len(cache))
        start = time.perf_counter()
        for b in range(0, len(order), args.batch):
            items = [load_sample(*cache[i], aug) for i in order[b:b + args.batch]]
            np.stack([x[0] for x in items]), np.stack([x[1] for x in items])
        best = max(best, len(order) / (time.perf_counter() - start))
    print(f"python reference (PIL + albumentations {A.__version__}, 1 process, 1 thread): {best:.0f} images/s")


if __name__ == "__main__":
    main()
