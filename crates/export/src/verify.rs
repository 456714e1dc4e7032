//! The self-check of an exported file: a sample batch run through the file in tract and
//! through the burn model must agree within [`TOLERANCE`].

use crate::error::ExportError;
use crate::lower::InputLayout;
use crate::runtime::{Input, OnnxRunner};
use burn::tensor::{Device, Tensor, TensorData};
use fdfat_models::LandmarkModel;
use std::path::Path;

/// The largest absolute difference allowed between the file's and the burn model's outputs.
pub const TOLERANCE: f32 = 1e-4;

/// A batch of images in both input layouts.
#[derive(Debug, Clone, PartialEq)]
pub struct SampleBatch {
    /// Number of images.
    pub n: usize,
    /// Image side in pixels.
    pub size: usize,
    /// `[N, H, W, 3]` uint8 RGB pixels.
    pub pixels: Vec<u8>,
    /// The same images as normalised `[N, 3, H, W]` float32 (`pixel / 127.5 - 1`).
    pub normalised: Vec<f32>,
}

impl SampleBatch {
    /// `n` pseudo-random `size` x `size` images, the same for the same `seed`.
    pub fn noise(n: usize, size: usize, seed: u64) -> Self {
        let mut state = seed ^ 0x9e37_79b9_7f4a_7c15;
        let pixels = (0..n * size * size * 3)
            .map(|_| {
                // xorshift64*
                state ^= state >> 12;
                state ^= state << 25;
                state ^= state >> 27;
                (state.wrapping_mul(0x2545_f491_4f6c_dd1d) >> 56) as u8
            })
            .collect();
        Self::from_pixels(n, size, pixels)
    }

    /// The batch of `[N, H, W, 3]` uint8 `pixels`.
    pub fn from_pixels(n: usize, size: usize, pixels: Vec<u8>) -> Self {
        let mut normalised = vec![0.0; pixels.len()];
        let plane = size * size;
        for (i, &p) in pixels.iter().enumerate() {
            let (image, rest) = (i / (plane * 3), i % (plane * 3));
            let (pixel, channel) = (rest / 3, rest % 3);
            normalised[image * plane * 3 + channel * plane + pixel] = f32::from(p) / 127.5 - 1.0;
        }
        Self {
            n,
            size,
            pixels,
            normalised,
        }
    }

    /// The batch of normalised `[N, 3, H, W]` float32 images; the pixels are those values
    /// rounded back to uint8.
    pub fn from_normalised(n: usize, size: usize, normalised: Vec<f32>) -> Self {
        let plane = size * size;
        let mut pixels = vec![0u8; normalised.len()];
        for (i, &v) in normalised.iter().enumerate() {
            let (image, rest) = (i / (plane * 3), i % (plane * 3));
            let (channel, pixel) = (rest / plane, rest % plane);
            pixels[(image * plane + pixel) * 3 + channel] =
                ((v + 1.0) * 127.5).round().clamp(0.0, 255.0) as u8;
        }
        Self {
            n,
            size,
            pixels,
            normalised,
        }
    }

    /// The batch as the input of a graph with `layout`.
    pub fn input(&self, layout: InputLayout) -> Input<'_> {
        match layout {
            InputLayout::NchwF32 => Input::F32(&self.normalised, [self.n, 3, self.size, self.size]),
            InputLayout::NhwcU8 => Input::U8(&self.pixels, [self.n, self.size, self.size, 3]),
        }
    }
}

/// The burn model's outputs on normalised `[N, 3, H, W]` `images`, flattened.
pub fn burn_outputs(
    model: &LandmarkModel,
    images: &[f32],
    dims: [usize; 4],
    device: &Device,
) -> Result<Vec<f32>, ExportError> {
    model.check_input(dims)?;
    let input = Tensor::<4>::from_data(TensorData::new(images.to_vec(), dims), device);
    model
        .forward(input)
        .into_data()
        .try_into_vec::<f32>()
        .map_err(|e| ExportError::Run {
            path: "<burn model>".into(),
            message: format!("cannot read the output: {e:?}"),
        })
}

/// The largest absolute difference between `a` and `b` and its index; infinite when their
/// lengths differ or a value is not finite.
pub fn max_abs_diff(a: &[f32], b: &[f32]) -> (f32, usize) {
    if a.len() != b.len() {
        return (f32::INFINITY, a.len().min(b.len()));
    }
    a.iter()
        .zip(b)
        .map(|(x, y)| {
            let d = (x - y).abs();
            if d.is_nan() { f32::INFINITY } else { d }
        })
        .enumerate()
        .fold(
            (0.0, 0),
            |best, (i, d)| if d > best.0 { (d, i) } else { best },
        )
}

/// Runs `sample` through `runner` (the file at `path`, whose input has `layout`) and through
/// `model`; returns the largest difference, or [`ExportError::Mismatch`] above [`TOLERANCE`].
pub fn check_against_burn(
    model: &LandmarkModel,
    device: &Device,
    runner: &OnnxRunner,
    path: &Path,
    layout: InputLayout,
    sample: &SampleBatch,
) -> Result<f32, ExportError> {
    let dims = [sample.n, 3, sample.size, sample.size];
    let expected = burn_outputs(model, &sample.normalised, dims, device)?;
    let got = runner.run(sample.input(layout))?;
    let (max_diff, index) = max_abs_diff(&expected, &got);
    if max_diff > TOLERANCE {
        return Err(ExportError::Mismatch {
            path: path.to_path_buf(),
            max_diff,
            tolerance: TOLERANCE,
            index,
        });
    }
    Ok(max_diff)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn noise_is_deterministic_and_normalised_in_planes() {
        let a = SampleBatch::noise(2, 4, 7);
        assert_eq!(a, SampleBatch::noise(2, 4, 7));
        assert_ne!(a.pixels, SampleBatch::noise(2, 4, 8).pixels);
        // image 1, pixel (row 2, col 3), channel 2 (blue)
        let p = a.pixels[16 * 3 + (2 * 4 + 3) * 3 + 2];
        let v = a.normalised[16 * 3 + 2 * 16 + 2 * 4 + 3];
        assert_eq!(v, f32::from(p) / 127.5 - 1.0);
        assert!(a.normalised.iter().all(|v| (-1.0..=1.0).contains(v)));
    }

    #[test]
    fn max_abs_diff_finds_the_worst_and_flags_nan() {
        assert_eq!(max_abs_diff(&[1.0, 2.0, 3.0], &[1.0, 2.5, 2.9]), (0.5, 1));
        assert_eq!(max_abs_diff(&[1.0, f32::NAN], &[1.0, 0.0]).0, f32::INFINITY);
        assert_eq!(max_abs_diff(&[1.0], &[1.0, 2.0]).0, f32::INFINITY);
    }
}
