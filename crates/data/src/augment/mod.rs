//! Training augmentations, each with its probability from the configuration. Geometric ones
//! (affine scale/translate, rotation, horizontal flip) become one affine map composed with the
//! crop; photometric ones act on the `S x S` RGB8 crop afterwards.

mod blur;
mod color;
mod photometric;

pub use photometric::apply_photometric;

use crate::geometry::Affine2;
use fdfat_config::Config;
use rand::Rng;

/// Probabilities of the augmentations (keys `aug`, `aug_*` of the configuration).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct AugmentConfig {
    /// Probability that a training sample is augmented at all (`aug`).
    pub master: f64,
    /// Affine scale 0.85-1.15 and translate up to 0.1 of the size (`aug_affine`).
    pub affine: f64,
    /// Rotation of up to +-10 degrees (`aug_rotate`).
    pub rotate: f64,
    /// Horizontal flip with the scheme's flip permutation (`aug_flip`).
    pub flip: f64,
    /// Grayscale (`aug_gray`).
    pub gray: f64,
    /// Brightness / contrast (`aug_brightness`).
    pub brightness: f64,
    /// HSV or RGB shift (`aug_color`).
    pub color: f64,
    /// Defocus, motion, median or box blur (`aug_blur`).
    pub blur: f64,
    /// ISO-like sensor noise (`aug_noise`).
    pub noise: f64,
    /// JPEG re-compression at quality 50-90 (`aug_jpeg`).
    pub jpeg: f64,
    /// A random occluding rectangle (`aug_occlusion`).
    pub occlusion: f64,
}

impl AugmentConfig {
    /// The probabilities of a configuration.
    pub fn from_config(cfg: &Config) -> Self {
        AugmentConfig {
            master: cfg.aug,
            affine: cfg.aug_affine,
            rotate: cfg.aug_rotate,
            flip: cfg.aug_flip,
            gray: cfg.aug_gray,
            brightness: cfg.aug_brightness,
            color: cfg.aug_color,
            blur: cfg.aug_blur,
            noise: cfg.aug_noise,
            jpeg: cfg.aug_jpeg,
            occlusion: cfg.aug_occlusion,
        }
    }

    /// No augmentation at all.
    pub fn none() -> Self {
        AugmentConfig {
            master: 0.0,
            affine: 0.0,
            rotate: 0.0,
            flip: 0.0,
            gray: 0.0,
            brightness: 0.0,
            color: 0.0,
            blur: 0.0,
            noise: 0.0,
            jpeg: 0.0,
            occlusion: 0.0,
        }
    }
}

/// Range of the affine scale.
pub const AFFINE_SCALE: (f64, f64) = (0.85, 1.15);
/// Largest affine translation, as a fraction of the crop size.
pub const AFFINE_TRANSLATE: f64 = 0.1;
/// Largest rotation, degrees.
pub const ROTATE_LIMIT: f64 = 10.0;

/// The geometric part of one sample's augmentation.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Geometric {
    /// Map of the resized crop (`S x S`) onto itself.
    pub map: Affine2,
    /// Whether the image is mirrored (the landmarks are then permuted).
    pub flipped: bool,
}

/// Draws the geometric augmentation of an `size x size` crop: flip, then affine scale and
/// translation and rotation about the centre.
pub fn draw_geometric(p: &AugmentConfig, size: usize, rng: &mut impl Rng) -> Geometric {
    let s = size as f64;
    let c = s / 2.0;
    let flipped = rng.random_bool(p.flip.clamp(0.0, 1.0));
    let mut map = if flipped {
        Affine2([-1.0, 0.0, s, 0.0, 1.0, 0.0])
    } else {
        Affine2::IDENTITY
    };
    let (mut scale, mut tx, mut ty, mut angle) = (1.0, 0.0, 0.0, 0.0);
    if rng.random_bool(p.affine.clamp(0.0, 1.0)) {
        scale = rng.random_range(AFFINE_SCALE.0..=AFFINE_SCALE.1);
        tx = rng.random_range(-AFFINE_TRANSLATE..=AFFINE_TRANSLATE) * s;
        ty = rng.random_range(-AFFINE_TRANSLATE..=AFFINE_TRANSLATE) * s;
    }
    if rng.random_bool(p.rotate.clamp(0.0, 1.0)) {
        angle = rng.random_range(-ROTATE_LIMIT..=ROTATE_LIMIT);
    }
    if scale != 1.0 || tx != 0.0 || ty != 0.0 || angle != 0.0 {
        map = map
            .then(&Affine2::translation(-c, -c))
            .then(&Affine2::rotation(angle))
            .then(&Affine2::scaling(scale, scale))
            .then(&Affine2::translation(c + tx, c + ty));
    }
    Geometric { map, flipped }
}
