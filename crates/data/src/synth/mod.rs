//! The toy dataset of `--task synth`: simple faces rendered from the 70-point `mean_shape_3d`
//! of `facesynthetics70` under known random yaw/pitch/roll, with shape and expression jitter,
//! random colours, textured backgrounds and noise. Written in FaceSynthetics layout:
//! `NNNNNN.png` + `NNNNNN_ldmks.txt`, `train.txt` / `val.txt`, `poses.txt` (true pose per image,
//! see [`Pose`](crate::Pose) for the convention) and `data.yaml` with `base_path: .`.
//!
//! [`generate_sequences`] renders toy video sequences instead: a face moving along holds, slow
//! moves and fast turns, with exact per-frame landmarks, in the 300-VW layout.

mod face;
mod raster;
mod render;
mod sequence;

pub use sequence::{SequenceSpec, generate_sequences};

use crate::dataset::POSES_FILE;
use crate::error::DataError;
use crate::progress;
use crate::rng::rng_for;
use crate::sample::Pose;
use fdfat_config::LandmarkScheme;
use image::ExtendedColorType;
use image::ImageEncoder;
use image::codecs::png::{CompressionType, FilterType, PngEncoder};
use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};

/// Key separating the synth RNG streams from the loader's.
const SYNTH_KEY: u64 = 0x5359_4E54_4846_4143;
/// Side of the rendered images unless told otherwise.
pub const DEFAULT_IMAGE_SIZE: u32 = 256;

/// Renders `count` toy faces of `image_size` pixels into `out` (created if needed) in
/// `threads` threads, deterministically from `seed`; returns the path of `out/data.yaml`.
/// About a tenth of the images (at least one) form the validation split.
pub fn generate(
    out: &Path,
    count: usize,
    seed: u64,
    image_size: u32,
    threads: usize,
) -> Result<PathBuf, DataError> {
    if count == 0 {
        return Err(DataError::Invalid {
            what: "synth_count",
            message: "must be at least 1".into(),
        });
    }
    if image_size < 64 {
        return Err(DataError::Invalid {
            what: "synth image size",
            message: format!("{image_size} px is too small (at least 64)"),
        });
    }
    let mean = mean_face()?;
    std::fs::create_dir_all(out).map_err(|e| DataError::io("create", out, e))?;
    let rendered = parallel(count, threads, "rendering", |i| {
        write_one(out, i, seed, image_size, &mean)
    })?;

    let mut table = String::from(
        "# name yaw pitch roll (degrees; R = Rz(roll) Ry(yaw) Rx(pitch) in camera axes x right, y down, \
         z forward, applied to the mean face (x, y, -z); focal length = image width)\n",
    );
    for (i, p) in rendered.iter().enumerate() {
        let _ = writeln!(
            table,
            "{} {:.4} {:.4} {:.4}",
            name(i),
            p.yaw,
            p.pitch,
            p.roll
        );
    }
    write(&out.join(POSES_FILE), table.as_bytes())?;
    let val = if count >= 2 { (count / 10).max(1) } else { 0 };
    let list = |range: std::ops::Range<usize>| range.map(|i| name(i) + "\n").collect::<String>();
    write(&out.join("train.txt"), list(0..count - val).as_bytes())?;
    let val_range = if val == 0 {
        0..count
    } else {
        count - val..count
    };
    write(&out.join("val.txt"), list(val_range).as_bytes())?;
    let yaml = format!(
        "# Toy faces written by `fdfat --task synth` ({count} images, seed {seed}).\n\
         base_path: .\ntrain: train.txt\nval: val.txt\ntest: val.txt\nformat: facesynthetics\n\
         landmarks: facesynthetics70\n"
    );
    let data_yaml = out.join("data.yaml");
    write(&data_yaml, yaml.as_bytes())?;
    Ok(data_yaml)
}

/// The 3D mean face of `facesynthetics70`.
fn mean_face() -> Result<Vec<[f64; 3]>, DataError> {
    LandmarkScheme::load("facesynthetics70")?
        .mean_shape_3d
        .ok_or_else(|| DataError::Invalid {
            what: "landmark scheme",
            message: "facesynthetics70 has no mean_shape_3d".into(),
        })
}

/// `job(0..count)` in `threads` threads taking the next index as they finish, with a progress
/// bar labelled `what`; the results in index order, or the first error.
fn parallel<T: Send>(
    count: usize,
    threads: usize,
    what: &str,
    job: impl Fn(usize) -> Result<T, DataError> + Sync,
) -> Result<Vec<T>, DataError> {
    let bar = progress::bar(count, what);
    let next = AtomicUsize::new(0);
    let results: Vec<Result<Vec<(usize, T)>, DataError>> = std::thread::scope(|scope| {
        let handles: Vec<_> = (0..threads.clamp(1, count.max(1)))
            .map(|_| {
                scope.spawn(|| {
                    let mut done = Vec::new();
                    loop {
                        let i = next.fetch_add(1, Ordering::Relaxed);
                        if i >= count {
                            return Ok(done);
                        }
                        done.push((i, job(i)?));
                        bar.inc(1);
                    }
                })
            })
            .collect();
        handles
            .into_iter()
            .map(|h| {
                h.join()
                    .unwrap_or_else(|_| Err(DataError::Worker("a synth thread panicked".into())))
            })
            .collect()
    });
    bar.finish_and_clear();
    let mut slots: Vec<Option<T>> = (0..count).map(|_| None).collect();
    for part in results {
        for (i, value) in part? {
            slots[i] = Some(value);
        }
    }
    slots
        .into_iter()
        .map(|v| v.ok_or_else(|| DataError::Worker("a synth job was lost".into())))
        .collect()
}

fn name(i: usize) -> String {
    format!("{i:06}.png")
}

fn write(path: &Path, bytes: &[u8]) -> Result<(), DataError> {
    std::fs::write(path, bytes).map_err(|e| DataError::io("write", path, e))
}

/// Renders and writes image `i` with its landmarks; returns its pose.
fn write_one(
    out: &Path,
    i: usize,
    seed: u64,
    size: u32,
    mean: &[[f64; 3]],
) -> Result<Pose, DataError> {
    let mut rng = rng_for(&[SYNTH_KEY, seed, i as u64]);
    let face = face::random_face(mean, size, &mut rng);
    let img = render::render(&face, size, &mut rng);
    let png_path = out.join(name(i));
    let file =
        std::fs::File::create(&png_path).map_err(|e| DataError::io("write", &png_path, e))?;
    PngEncoder::new_with_quality(
        std::io::BufWriter::new(file),
        CompressionType::Fast,
        FilterType::Adaptive,
    )
    .write_image(img.as_raw(), size, size, ExtendedColorType::Rgb8)
    .map_err(|e| DataError::image(&png_path, e))?;
    let mut text = String::with_capacity(70 * 16);
    for p in &face.landmarks {
        let _ = writeln!(text, "{:.3} {:.3}", p[0], p[1]);
    }
    write(&out.join(format!("{i:06}_ldmks.txt")), text.as_bytes())?;
    Ok(face.pose)
}
