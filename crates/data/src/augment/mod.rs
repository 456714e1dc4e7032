//! Training augmentations, each with its probability from the configuration, drawn
//! independently for every training sample as the original's albumentations list is (`aug`
//! only switches the whole list off at 0). Geometric ones (affine scale/translate, rotation,
//! horizontal flip) become one affine map composed with the crop; photometric ones act on the
//! `S x S` RGB8 crop afterwards.

mod blur;
mod color;
mod photometric;

pub use photometric::{PhotometricDraw, apply_photometric};

use crate::geometry::Affine2;
use fdfat_config::Config;
use rand::Rng;

/// Probabilities of the augmentations (keys `aug`, `aug_*` of the configuration).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct AugmentConfig {
    /// Whether training samples are augmented at all (`aug` > 0). The original never reads
    /// `aug` (its published configs say 0.5): every sample goes through the whole list, each
    /// transform at its own probability, and so it does here unless `aug` is 0.
    pub enabled: bool,
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
            enabled: cfg.aug > 0.0,
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
            enabled: false,
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
    /// Whether the affine scale / translation was drawn.
    pub affine: bool,
    /// Whether the rotation was drawn.
    pub rotated: bool,
}

/// One training sample's augmentation: the geometric map and the photometric transforms.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Augmentation {
    /// Flip, affine and rotation.
    pub geometric: Geometric,
    /// Which photometric transforms apply.
    pub photometric: PhotometricDraw,
}

/// Draws one training sample's augmentation of an `size x size` crop, each transform at its
/// own probability; `None` when augmentation is off (`aug: 0`).
pub fn draw_augmentation(
    p: &AugmentConfig,
    size: usize,
    rng: &mut impl Rng,
) -> Option<Augmentation> {
    p.enabled.then(|| Augmentation {
        geometric: draw_geometric(p, size, rng),
        photometric: PhotometricDraw::draw(p, rng),
    })
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
    let affine = rng.random_bool(p.affine.clamp(0.0, 1.0));
    if affine {
        scale = rng.random_range(AFFINE_SCALE.0..=AFFINE_SCALE.1);
        tx = rng.random_range(-AFFINE_TRANSLATE..=AFFINE_TRANSLATE) * s;
        ty = rng.random_range(-AFFINE_TRANSLATE..=AFFINE_TRANSLATE) * s;
    }
    let rotated = rng.random_bool(p.rotate.clamp(0.0, 1.0));
    if rotated {
        angle = rng.random_range(-ROTATE_LIMIT..=ROTATE_LIMIT);
    }
    if scale != 1.0 || tx != 0.0 || ty != 0.0 || angle != 0.0 {
        map = map
            .then(&Affine2::translation(-c, -c))
            .then(&Affine2::rotation(angle))
            .then(&Affine2::scaling(scale, scale))
            .then(&Affine2::translation(c + tx, c + ty));
    }
    Geometric {
        map,
        flipped,
        affine,
        rotated,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::SeedableRng;

    /// The original's albumentations list (`fdfat/data/dataloader.py`): `Affine` (p 0.5 by
    /// default), `ToGray(p=0.2)`, `Rotate(p=0.2)`, `RandomBrightnessContrast(p=0.2)`,
    /// `OneOf([HueSaturationValue, RGBShift], p=0.1)`, `OneOf([Defocus, MotionBlur,
    /// MedianBlur, Blur], p=0.1)`, `ISONoise(p=0.2)`, `ImageCompression(p=0.5)`; no flip.
    const ORIGINAL: [(&str, f64); 9] = [
        ("affine", 0.5),
        ("rotate", 0.2),
        ("flip", 0.0),
        ("gray", 0.2),
        ("brightness", 0.2),
        ("color", 0.1),
        ("blur", 0.1),
        ("noise", 0.2),
        ("jpeg", 0.5),
    ];

    #[test]
    fn the_published_configs_draw_each_transform_at_the_original_rate() {
        // `aug: 0.5`, as in both published configs and the defaults
        let cfg = fdfat_config::resolve_flags(&[("aug", "0.5")]).unwrap();
        let p = AugmentConfig::from_config(&cfg);
        let mut rng = rand::rngs::StdRng::seed_from_u64(7);
        let draws = 10_000;
        let mut counts = [0usize; 9];
        for _ in 0..draws {
            let a = draw_augmentation(&p, 96, &mut rng).expect("every sample is augmented");
            let (g, f) = (a.geometric, a.photometric);
            let drawn = [
                g.affine,
                g.rotated,
                g.flipped,
                f.gray,
                f.brightness,
                f.color,
                f.blur,
                f.noise,
                f.jpeg,
            ];
            for (count, hit) in counts.iter_mut().zip(drawn) {
                *count += usize::from(hit);
            }
        }
        for ((name, p), count) in ORIGINAL.into_iter().zip(counts) {
            let rate = count as f64 / draws as f64;
            let sigma = (p * (1.0 - p) / draws as f64).sqrt();
            println!("{name}: {rate:.4} (original {p})");
            assert!(
                (rate - p).abs() <= 4.0 * sigma + 1e-12,
                "{name}: drawn at {rate:.4}, the original's rate is {p}"
            );
        }
    }

    #[test]
    fn aug_zero_switches_augmentation_off() {
        let cfg = fdfat_config::resolve_flags(&[("aug", "0")]).unwrap();
        let p = AugmentConfig::from_config(&cfg);
        let mut rng = rand::rngs::StdRng::seed_from_u64(7);
        assert!((0..100).all(|_| draw_augmentation(&p, 96, &mut rng).is_none()));
    }
}
