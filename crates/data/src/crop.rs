//! The evaluation / prediction crop, exactly as the reference protocol: a square box of 1.5
//! times the larger side of the landmark extent, centred, clipped to the image, corners
//! truncated to integers, bilinear resize to the input size (cv2.resize INTER_LINEAR, half-pixel
//! centres), then `x / 127.5 - 1`, NCHW.

use crate::error::DataError;
use crate::geometry::{CropBox, CropTransform};
use crate::warp::{Region, RgbView, warp_rgb};
use image::RgbImage;

/// Scale of the evaluation box relative to the larger side of the landmark extent.
pub const EVAL_SCALE: f64 = 1.5;

/// A model input made from one image.
#[derive(Debug, Clone, PartialEq)]
pub struct CropInput {
    /// `3 * size * size` floats, CHW (normalised to `[-1, 1]` when `pre_norm`, else 0-255).
    pub pixels: Vec<f32>,
    /// The pixel box that was cropped.
    pub crop: CropBox,
    /// Maps normalised crop points (model output) back to image pixels.
    pub transform: CropTransform,
}

/// Crops `crop` of `image` and resizes it to `size x size` (cv2.resize INTER_LINEAR on the
/// cropped pixels); the result as RGB8 bytes, row-major.
pub fn crop_resize_rgb(image: &RgbImage, crop: &CropBox, size: usize) -> Vec<u8> {
    let view = RgbView {
        data: image.as_raw(),
        width: image.width() as usize,
        height: image.height() as usize,
    };
    let region = Region {
        x0: f64::from(crop.x0),
        y0: f64::from(crop.y0),
        x1: f64::from(crop.x1),
        y1: f64::from(crop.y1),
    };
    let out_to_src = crop
        .to_output(size)
        .inverse()
        .unwrap_or(crate::geometry::Affine2::IDENTITY);
    let mut out = vec![0u8; size * size * 3];
    warp_rgb(view, &out_to_src, region, size, &mut out);
    out
}

/// Writes RGB8 pixels as CHW floats: `x / 127.5 - 1` when `pre_norm`, else `x`.
pub fn to_chw(rgb: &[u8], size: usize, pre_norm: bool, out: &mut [f32]) {
    let plane = size * size;
    for (k, px) in rgb.chunks_exact(3).enumerate() {
        for c in 0..3 {
            let v = f32::from(px[c]);
            out[c * plane + k] = if pre_norm { v / 127.5 - 1.0 } else { v };
        }
    }
}

/// The model input of a crop box.
pub fn crop_input(image: &RgbImage, crop: &CropBox, size: usize, pre_norm: bool) -> CropInput {
    let rgb = crop_resize_rgb(image, crop, size);
    let mut pixels = vec![0.0; 3 * size * size];
    to_chw(&rgb, size, pre_norm, &mut pixels);
    CropInput {
        pixels,
        crop: *crop,
        transform: CropTransform::from_box(crop),
    }
}

/// The evaluation input of an image with ground-truth `landmarks` (the reference protocol).
pub fn eval_crop(
    image: &RgbImage,
    landmarks: &[[f32; 2]],
    size: usize,
    pre_norm: bool,
) -> Result<CropInput, DataError> {
    let crop = CropBox::around_landmarks(landmarks, EVAL_SCALE, [image.width(), image.height()])
        .ok_or_else(|| DataError::Invalid {
            what: "evaluation crop",
            message: "the landmarks are empty or lie outside the image".into(),
        })?;
    Ok(crop_input(image, &crop, size, pre_norm))
}
