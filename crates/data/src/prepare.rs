//! One sample from source pixels to its slot of a batch: face box, geometric augmentation,
//! one bilinear warp, photometric augmentation, normalisation, landmarks in model order.

use crate::augment::{AugmentConfig, draw_augmentation};
use crate::crop::{EVAL_SCALE, to_chw};
use crate::error::DataError;
use crate::geometry::{Affine2, CropBox, CropTransform};
use crate::mapping::PointMap;
use crate::sample::Sample;
use crate::warp::{Region, RgbView, warp_rgb};
use std::borrow::Cow;

/// Range of the training box scale (the original's `gen_bbox`).
pub const TRAIN_BOX_SCALE: (f64, f64) = (1.4, 1.6);
/// Largest training box centre offset, as a fraction of the landmark extent.
pub const TRAIN_BOX_OFFSET: f64 = 0.2;

/// Pixels a sample is cut from: the top rows of a decoded image or a crop-cache entry, with the
/// map from original image pixels to these pixels.
pub(crate) struct Source<'a> {
    /// Packed RGB8 rows.
    pub data: Cow<'a, [u8]>,
    /// Width in pixels.
    pub width: usize,
    /// Rows available.
    pub height: usize,
    /// Original image pixel -> source pixel.
    pub image_to_view: Affine2,
}

/// Everything constant across the samples of a loader.
pub(crate) struct PrepContext {
    /// Output side.
    pub size: usize,
    /// Dataset points -> model points.
    pub points: PointMap,
    /// The dataset scheme's flip permutation.
    pub flip: Vec<usize>,
    /// Normalise pixels to `[-1, 1]`.
    pub pre_norm: bool,
    /// Augmentation probabilities (training only).
    pub augment: AugmentConfig,
}

/// The output slots of one sample in a batch.
pub(crate) struct Slot<'a> {
    /// `3 * S * S` floats.
    pub image: &'a mut [f32],
    /// `2 * P` floats.
    pub landmarks: &'a mut [f32],
    /// `2 * P` floats.
    pub mask: &'a mut [f32],
}

/// Prepares one sample; `rng` is `Some` for training (random box and augmentation). `source`
/// gives the pixels, at least the image rows above the given row count.
pub(crate) fn prepare<'a>(
    sample: &Sample,
    ctx: &PrepContext,
    rng: Option<&mut rand::rngs::StdRng>,
    slot: Slot,
    source: impl FnOnce(u32) -> Result<Source<'a>, DataError>,
) -> Result<CropTransform, DataError> {
    let size = ctx.size;
    let [w, h] = sample.image_size;
    let has = sample.has_landmarks();
    let mut rng = rng;
    let crop = match (&mut rng, has) {
        (_, false) => Some(CropBox::whole(w, h)),
        (Some(r), true) => CropBox::random_around_landmarks(
            &sample.landmarks,
            TRAIN_BOX_SCALE,
            TRAIN_BOX_OFFSET,
            sample.image_size,
            *r,
        ),
        (None, true) => CropBox::around_landmarks(&sample.landmarks, EVAL_SCALE, sample.image_size),
    }
    .ok_or_else(|| {
        DataError::annotation(
            sample
                .annotation
                .clone()
                .unwrap_or_else(|| sample.image.clone()),
            None,
            format!(
                "the landmarks lie outside the {w}x{h} image `{}`",
                sample.image.display()
            ),
        )
    })?;

    let mut forward = crop.to_output(size);
    let mut flipped = false;
    let augmentation = rng
        .as_deref_mut()
        .and_then(|r| draw_augmentation(&ctx.augment, size, r));
    if let Some(a) = &augmentation {
        forward = forward.then(&a.geometric.map);
        flipped = a.geometric.flipped;
    }
    let invalid = || DataError::Invalid {
        what: "crop",
        message: format!("degenerate crop {:?} of `{}`", crop, sample.image.display()),
    };
    let out_to_image = forward.inverse().ok_or_else(invalid)?;
    let source = source(crop.y1.max(0) as u32)?;
    let out_to_view = out_to_image.then(&source.image_to_view);
    let (rx0, ry0) = source
        .image_to_view
        .apply64(f64::from(crop.x0), f64::from(crop.y0));
    let (rx1, ry1) = source
        .image_to_view
        .apply64(f64::from(crop.x1), f64::from(crop.y1));
    let region = Region {
        x0: rx0,
        y0: ry0,
        x1: rx1,
        y1: ry1,
    };
    let view = RgbView {
        data: &source.data,
        width: source.width,
        height: source.height,
    };
    let mut rgb = vec![0u8; size * size * 3];
    warp_rgb(view, &out_to_view, region, size, &mut rgb);
    if let (Some(a), Some(r)) = (&augmentation, rng) {
        a.photometric.apply(&mut rgb, size, r).map_err(|e| {
            DataError::image(&sample.image, format!("JPEG augmentation failed: {e}"))
        })?;
    }
    to_chw(&rgb, size, ctx.pre_norm, slot.image);

    slot.landmarks.fill(0.0);
    slot.mask.fill(0.0);
    if has {
        let s = size as f64;
        let moved: Vec<[f32; 2]> = (0..sample.landmarks.len())
            .map(|i| {
                let src = if flipped { ctx.flip[i] } else { i };
                let [x, y] = sample.landmarks[src];
                let (ox, oy) = forward.apply64(f64::from(x), f64::from(y));
                [(ox / s - 0.5) as f32, (oy / s - 0.5) as f32]
            })
            .collect();
        for (k, src) in ctx.points.sources().iter().enumerate() {
            if let Some(p) = src.and_then(|i| moved.get(i)) {
                slot.landmarks[2 * k..2 * k + 2].copy_from_slice(p);
                slot.mask[2 * k..2 * k + 2].fill(1.0);
            }
        }
    }
    CropTransform::new(&forward, size).ok_or_else(invalid)
}
