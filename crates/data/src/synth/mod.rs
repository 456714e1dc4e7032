//! The toy dataset of `--task synth`: simple faces rendered from the 70-point `mean_shape_3d`
//! of `facesynthetics70` under known random yaw/pitch/roll, with shape and expression jitter,
//! random colours, textured backgrounds and noise. Written in FaceSynthetics layout:
//! `NNNNNN.png` + `NNNNNN_ldmks.txt`, `train.txt` / `val.txt`, `poses.txt` (true pose per image,
//! see [`Pose`](crate::Pose) for the convention) and `data.yaml` with `base_path: .`.

mod face;
mod raster;
mod render;

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
    let scheme = LandmarkScheme::load("facesynthetics70")?;
    let mean = scheme
        .mean_shape_3d
        .clone()
        .ok_or_else(|| DataError::Invalid {
            what: "landmark scheme",
            message: "facesynthetics70 has no mean_shape_3d".into(),
        })?;
    std::fs::create_dir_all(out).map_err(|e| DataError::io("create", out, e))?;

    let bar = progress::bar(count, "rendering");
    let next = AtomicUsize::new(0);
    let results: Vec<Result<Vec<(usize, Pose)>, DataError>> = std::thread::scope(|scope| {
        let handles: Vec<_> = (0..threads.clamp(1, count))
            .map(|_| {
                scope.spawn(|| {
                    let mut done = Vec::new();
                    loop {
                        let i = next.fetch_add(1, Ordering::Relaxed);
                        if i >= count {
                            return Ok(done);
                        }
                        done.push((i, write_one(out, i, seed, image_size, &mean)?));
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
    let mut poses = vec![None; count];
    for part in results {
        for (i, pose) in part? {
            poses[i] = Some(pose);
        }
    }

    let mut table = String::from(
        "# name yaw pitch roll (degrees; R = Rz(roll) Ry(yaw) Rx(pitch) in camera axes x right, y down, \
         z forward, applied to the mean face (x, y, -z); focal length = image width)\n",
    );
    for (i, pose) in poses.iter().enumerate() {
        if let Some(p) = pose {
            let _ = writeln!(
                table,
                "{} {:.4} {:.4} {:.4}",
                name(i),
                p.yaw,
                p.pitch,
                p.roll
            );
        }
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
