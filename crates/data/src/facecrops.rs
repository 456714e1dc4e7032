//! `--task facecrops`: face and non-face crops for the face-classification stage, from images
//! with WIDER FACE boxes in YOLO text form (`class cx cy w h` normalised to the image, extra
//! columns ignored), as the original's `generate_face_cls_data.py`:
//!
//! - per face, the landmark-style box (square of 1.2 x the larger side, moved down by 0.1 of the
//!   height) and two random variants of it (moved by up to 0.2, sides scaled 0.8-1.1), kept
//!   when at least 72 pixels a side, saved under `out/1/`;
//! - five random squares (64 px to 0.3 of the width) per image, kept when their IoU with every
//!   face box is below 0.3, saved under `out/0/`.
//!
//! Crops are named `<image index>_<k>.jpg`; every tenth source image goes to `val.txt`, the
//! others to `train.txt`, and `out/data.yaml` (`format: facecrops`) describes the result.

use crate::dataset::Skipped;
use crate::error::DataError;
use crate::formats::facecrops::{FACE_DIR, NON_FACE_DIR};
use crate::formats::is_image;
use crate::formats::numbers::{finite, read_text};
use crate::image_io::read_rgb;
use crate::progress;
use crate::rng::rng_for;
use fdfat_config::Config;
use image::RgbImage;
use image::codecs::jpeg::JpegEncoder;
use rand::Rng;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};

/// Key separating the facecrops RNG streams from the others.
const FACECROPS_KEY: u64 = 0x4641_4345_4352_4F50;
/// Smallest kept face crop side, pixels.
pub const MIN_FACE_SIDE: i64 = 72;
/// Smallest non-face crop side, pixels.
pub const MIN_NON_FACE_SIDE: i64 = 64;
/// Largest IoU of a non-face crop with any face box.
pub const MAX_NON_FACE_IOU: f64 = 0.3;

/// What `generate` wrote.
#[derive(Debug, Clone, PartialEq)]
pub struct FaceCropsSummary {
    /// The data YAML of the crops.
    pub data_yaml: PathBuf,
    /// Source images used.
    pub images: usize,
    /// Face crops written.
    pub faces: usize,
    /// Non-face crops written.
    pub non_faces: usize,
    /// Images skipped: no label file, or unreadable (with `skip_bad`).
    pub skipped: Vec<Skipped>,
}

/// Cuts face / non-face crops from every image under `images_dir` (recursively, sorted) whose
/// label is `labels_dir/<same relative path>.txt`, writing them under `out`. Uses `cfg.seed`,
/// `cfg.workers` and `cfg.skip_bad`.
pub fn generate(
    images_dir: &Path,
    labels_dir: &Path,
    out: &Path,
    cfg: &Config,
) -> Result<FaceCropsSummary, DataError> {
    let mut images = Vec::new();
    collect_images(images_dir, &mut images)?;
    images.sort();
    if images.is_empty() {
        return Err(DataError::EmptySplit {
            path: images_dir.to_path_buf(),
            hint: " (no .jpg/.png image under it)".into(),
        });
    }
    for dir in [FACE_DIR, NON_FACE_DIR] {
        let d = out.join(dir);
        std::fs::create_dir_all(&d).map_err(|e| DataError::io("create", &d, e))?;
    }
    let bar = progress::bar(images.len(), "face crops");
    let next = AtomicUsize::new(0);
    let threads = cfg.workers.clamp(1, images.len());
    let results: Vec<Result<Vec<(usize, Outcome)>, DataError>> = std::thread::scope(|scope| {
        let handles: Vec<_> = (0..threads)
            .map(|_| {
                scope.spawn(|| {
                    let mut done = Vec::new();
                    loop {
                        let i = next.fetch_add(1, Ordering::Relaxed);
                        if i >= images.len() {
                            return Ok(done);
                        }
                        let label = label_path(images_dir, labels_dir, &images[i]);
                        let outcome = match crop_one(&images[i], &label, out, i, cfg.seed) {
                            Ok(o) => o,
                            Err(e) if cfg.skip_bad => Outcome::Skipped(Skipped {
                                path: images[i].clone(),
                                reason: e.to_string(),
                            }),
                            Err(e) => return Err(e),
                        };
                        done.push((i, outcome));
                        bar.inc(1);
                    }
                })
            })
            .collect();
        handles
            .into_iter()
            .map(|h| {
                h.join().unwrap_or_else(|_| {
                    Err(DataError::Worker("a facecrops thread panicked".into()))
                })
            })
            .collect()
    });
    bar.finish_and_clear();
    let mut outcomes: Vec<(usize, Outcome)> = Vec::new();
    for part in results {
        outcomes.extend(part?);
    }
    outcomes.sort_by_key(|(i, _)| *i);

    let (mut train, mut val) = (String::new(), String::new());
    let mut summary = FaceCropsSummary {
        data_yaml: out.join("data.yaml"),
        images: 0,
        faces: 0,
        non_faces: 0,
        skipped: Vec::new(),
    };
    for (i, outcome) in outcomes {
        match outcome {
            Outcome::Written(names) => {
                summary.images += 1;
                let list = if i % 10 == 9 { &mut val } else { &mut train };
                for name in names {
                    if name.starts_with(FACE_DIR) {
                        summary.faces += 1;
                    } else {
                        summary.non_faces += 1;
                    }
                    list.push_str(&name);
                    list.push('\n');
                }
            }
            Outcome::Skipped(s) => summary.skipped.push(s),
        }
    }
    if !summary.skipped.is_empty() {
        eprintln!(
            "warning: facecrops skipped {} image(s):",
            summary.skipped.len()
        );
        for s in summary.skipped.iter().take(20) {
            eprintln!("  {}", s.reason);
        }
    }
    if val.is_empty() {
        val = train.clone();
    }
    write(&out.join("train.txt"), &train)?;
    write(&out.join("val.txt"), &val)?;
    write(
        &summary.data_yaml,
        &format!(
            "# Face (1/) and non-face (0/) crops written by `fdfat --task facecrops` from\n\
             # {} (seed {}).\nbase_path: .\ntrain: train.txt\nval: val.txt\ntest: val.txt\n\
             format: facecrops\n",
            images_dir.display(),
            cfg.seed
        ),
    )?;
    Ok(summary)
}

enum Outcome {
    Written(Vec<String>),
    Skipped(Skipped),
}

fn write(path: &Path, text: &str) -> Result<(), DataError> {
    std::fs::write(path, text).map_err(|e| DataError::io("write", path, e))
}

fn collect_images(dir: &Path, out: &mut Vec<PathBuf>) -> Result<(), DataError> {
    let read = std::fs::read_dir(dir).map_err(|e| DataError::io("list", dir, e))?;
    for item in read {
        let path = item.map_err(|e| DataError::io("list", dir, e))?.path();
        if path.is_dir() {
            collect_images(&path, out)?;
        } else if is_image(&path) {
            out.push(path);
        }
    }
    Ok(())
}

fn label_path(images_dir: &Path, labels_dir: &Path, image: &Path) -> PathBuf {
    let rel = image.strip_prefix(images_dir).unwrap_or(image);
    labels_dir.join(rel).with_extension("txt")
}

/// Face boxes `[x0, y0, x1, y1]` in pixels from a YOLO label file.
fn read_boxes(path: &Path, w: f64, h: f64) -> Result<Vec<[f64; 4]>, DataError> {
    if !path.is_file() {
        return Err(DataError::annotation(path, None, "label file not found"));
    }
    let text = read_text(path)?;
    let mut boxes = Vec::new();
    for (i, line) in text.lines().enumerate() {
        let fields: Vec<&str> = line.split_whitespace().collect();
        if fields.is_empty() {
            continue;
        }
        if fields.len() < 5 {
            return Err(DataError::annotation(
                path,
                Some(i + 1),
                format!("expected `class cx cy w h`, found `{}`", line.trim()),
            ));
        }
        let v: Vec<f64> = fields[1..5]
            .iter()
            .map(|f| finite(f, path, i + 1).map(f64::from))
            .collect::<Result<_, _>>()?;
        let (cx, cy, bw, bh) = (v[0] * w, v[1] * h, v[2] * w, v[3] * h);
        boxes.push([cx - bw / 2.0, cy - bh / 2.0, cx + bw / 2.0, cy + bh / 2.0]);
    }
    Ok(boxes)
}

/// The original's `to_landmark_box`: a square of 1.2 x the larger side, moved down by 0.1 of
/// the height, corners truncated to integers.
fn landmark_box(b: &[f64; 4]) -> [i64; 4] {
    let (w, h) = (b[2] - b[0], b[3] - b[1]);
    let (cx, cy) = ((b[0] + b[2]) / 2.0, (b[1] + b[3]) / 2.0 + 0.1 * h);
    let s = w.max(h) * 1.2;
    [cx - s / 2.0, cy - s / 2.0, cx + s / 2.0, cy + s / 2.0].map(|v| v as i64)
}

/// The original's `random_transform_box`: moved by up to 0.2 of each side, sides scaled 0.8-1.1.
fn jitter_box(b: &[i64; 4], rng: &mut impl Rng) -> [i64; 4] {
    let (w, h) = ((b[2] - b[0]) as f64, (b[3] - b[1]) as f64);
    let (cx, cy) = ((b[0] + b[2]) as f64 / 2.0, (b[1] + b[3]) as f64 / 2.0);
    let (tx, ty) = (
        w * rng.random_range(-0.2..0.2),
        h * rng.random_range(-0.2..0.2),
    );
    let (nw, nh) = (
        w * rng.random_range(0.8..1.1),
        h * rng.random_range(0.8..1.1),
    );
    let (ncx, ncy) = (cx + tx, cy + ty);
    [
        ncx - nw / 2.0,
        ncy - nh / 2.0,
        ncx + nw / 2.0,
        ncy + nh / 2.0,
    ]
    .map(|v| v as i64)
}

/// Clips a box to the image.
fn inside(b: [i64; 4], w: i64, h: i64) -> [i64; 4] {
    [b[0].max(0), b[1].max(0), b[2].min(w), b[3].min(h)]
}

fn iou(a: &[i64; 4], b: &[i64; 4]) -> f64 {
    let iw = (a[2].min(b[2]) - a[0].max(b[0])).max(0) as f64;
    let ih = (a[3].min(b[3]) - a[1].max(b[1])).max(0) as f64;
    let inter = iw * ih;
    let area = |r: &[i64; 4]| ((r[2] - r[0]) * (r[3] - r[1])) as f64;
    let union = area(a) + area(b) - inter;
    if union > 0.0 { inter / union } else { 0.0 }
}

fn save_crop(img: &RgbImage, b: &[i64; 4], path: &Path) -> Result<(), DataError> {
    let (w, h) = ((b[2] - b[0]) as u32, (b[3] - b[1]) as u32);
    let crop = image::imageops::crop_imm(img, b[0] as u32, b[1] as u32, w, h).to_image();
    let file = std::fs::File::create(path).map_err(|e| DataError::io("write", path, e))?;
    JpegEncoder::new_with_quality(std::io::BufWriter::new(file), 90)
        .encode_image(&crop)
        .map_err(|e| DataError::image(path, e))
}

fn crop_one(
    image: &Path,
    label: &Path,
    out: &Path,
    index: usize,
    seed: u64,
) -> Result<Outcome, DataError> {
    let img = read_rgb(image)?;
    let (w, h) = (i64::from(img.width()), i64::from(img.height()));
    let faces: Vec<[i64; 4]> = read_boxes(label, w as f64, h as f64)?
        .iter()
        .map(landmark_box)
        .collect();
    let mut rng = rng_for(&[FACECROPS_KEY, seed, index as u64]);
    let mut names = Vec::new();
    let mut k = 0;
    for face in &faces {
        for variant in 0..3 {
            let b = inside(
                if variant == 0 {
                    *face
                } else {
                    jitter_box(face, &mut rng)
                },
                w,
                h,
            );
            if (b[2] - b[0]).max(b[3] - b[1]) < MIN_FACE_SIDE || b[2] <= b[0] || b[3] <= b[1] {
                continue;
            }
            let name = format!("{FACE_DIR}/{index:06}_{k:03}.jpg");
            save_crop(&img, &b, &out.join(&name))?;
            names.push(name);
            k += 1;
        }
    }
    let max_side = (w as f64 * 0.3) as i64;
    for _ in 0..5 {
        if max_side < MIN_NON_FACE_SIDE {
            break;
        }
        let s = rng.random_range(MIN_NON_FACE_SIDE..=max_side);
        let sh = s.min(h);
        let x = rng.random_range(0..=(w - s).max(0));
        let y = rng.random_range(0..=(h - sh).max(0));
        let b = inside([x, y, x + s, y + sh], w, h);
        if faces.iter().all(|f| iou(&b, f) < MAX_NON_FACE_IOU) {
            let name = format!("{NON_FACE_DIR}/{index:06}_{k:03}.jpg");
            save_crop(&img, &b, &out.join(&name))?;
            names.push(name);
            k += 1;
        }
    }
    Ok(Outcome::Written(names))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn landmark_box_is_a_lowered_square() {
        assert_eq!(landmark_box(&[10.0, 20.0, 30.0, 60.0]), [-4, 20, 44, 68]);
    }

    #[test]
    fn iou_of_boxes() {
        assert_eq!(iou(&[0, 0, 10, 10], &[0, 0, 10, 10]), 1.0);
        assert_eq!(iou(&[0, 0, 10, 10], &[20, 20, 30, 30]), 0.0);
        assert!((iou(&[0, 0, 10, 10], &[5, 0, 15, 10]) - 1.0 / 3.0).abs() < 1e-9);
    }
}
