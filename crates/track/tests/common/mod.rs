//! Fixtures shared by the tracking crate's tests: the published models, 300-VW frames and
//! their annotations, shifted frames and the inter-ocular NME.
#![allow(dead_code, reason = "each test binary uses part of the helpers")]

use fdfat_config::fixtures::shared_path;
use fdfat_track::{FaceDetector, LandmarkPredictor};
use image::RgbImage;
use std::path::{Path, PathBuf};

/// The published LWModel (ReLU6, face-cls head) ONNX file.
pub const LW_ONNX: &str = "data/reference_checkpoints/LWModel_ReLU6_affine_cls/model.onnx";
/// The published LWModel `best.pt`.
pub const LW_PT: &str = "data/reference_checkpoints/LWModel_ReLU6_affine_cls/best.pt";
/// The RFB-320 face detector.
pub const RFB: &str = "data/face_detector/version-RFB-320.onnx";

/// The shared fixture at `relative`, or `None` (test skipped) when absent.
pub fn fixture(relative: &str) -> Option<PathBuf> {
    shared_path(relative)
}

/// The RFB-320 detector at the default threshold.
pub fn detector() -> Option<FaceDetector> {
    Some(FaceDetector::load(&fixture(RFB)?, 0.7).unwrap())
}

/// A landmark model from a shared file (ONNX in tract, checkpoints in burn on the CPU).
pub fn landmarks(relative: &str) -> Option<LandmarkPredictor> {
    let path = fixture(relative)?;
    let (device, _) = fdfat_models::device_for(&fdfat_config::DeviceSpec::Cpu);
    Some(
        LandmarkPredictor::load(&fdfat_config::resolve_flags(&[]).unwrap(), &path, &device)
            .unwrap(),
    )
}

/// The 68 points of an iBUG `.pts` file, 0-based pixels.
pub fn read_pts(path: &Path) -> Vec<[f32; 2]> {
    let text = std::fs::read_to_string(path).unwrap();
    let body = text.split('{').nth(1).unwrap().split('}').next().unwrap();
    let points: Vec<[f32; 2]> = body
        .lines()
        .filter_map(|l| {
            let mut it = l.split_whitespace().map(|v| v.parse::<f32>().unwrap());
            Some([it.next()? - 1.0, it.next()? - 1.0])
        })
        .collect();
    assert_eq!(points.len(), 68, "{}", path.display());
    points
}

/// The two annotated 300-VW frames of sequence 001 with their points.
pub fn vw_frames() -> Option<Vec<(RgbImage, Vec<[f32; 2]>)>> {
    let dir = fixture("data/300vw/001")?;
    Some(
        ["000006", "000009"]
            .iter()
            .map(|n| {
                let image = fdfat_data::read_rgb(&dir.join(format!("imgs/{n}.jpg"))).unwrap();
                (image, read_pts(&dir.join(format!("annot/{n}.pts"))))
            })
            .collect(),
    )
}

/// `image` moved by `(dx, dy)` whole pixels, edges repeated.
pub fn shifted(image: &RgbImage, dx: i64, dy: i64) -> RgbImage {
    let (w, h) = (i64::from(image.width()), i64::from(image.height()));
    RgbImage::from_fn(image.width(), image.height(), |x, y| {
        let sx = (i64::from(x) - dx).clamp(0, w - 1) as u32;
        let sy = (i64::from(y) - dy).clamp(0, h - 1) as u32;
        *image.get_pixel(sx, sy)
    })
}

/// Points moved by `(dx, dy)`.
pub fn shift_points(points: &[[f32; 2]], dx: f32, dy: f32) -> Vec<[f32; 2]> {
    points.iter().map(|p| [p[0] + dx, p[1] + dy]).collect()
}

/// Distance between the outer eye corners (36, 45) of 68 points.
pub fn inter_ocular(gt: &[[f32; 2]]) -> f32 {
    (gt[36][0] - gt[45][0]).hypot(gt[36][1] - gt[45][1])
}

/// Inter-ocular NME of the first 68 predicted points against 68 annotated ones.
pub fn nme(pred: &[[f32; 2]], gt: &[[f32; 2]]) -> f32 {
    let sum: f32 = pred[..68]
        .iter()
        .zip(gt)
        .map(|(p, g)| (p[0] - g[0]).hypot(p[1] - g[1]))
        .sum();
    sum / 68.0 / inter_ocular(gt)
}
