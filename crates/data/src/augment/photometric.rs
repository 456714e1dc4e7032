//! Photometric augmentations of an `S x S` RGB8 crop, in the original's order: grayscale,
//! brightness/contrast, HSV or RGB shift, blur, ISO noise, JPEG re-compression, then occlusion.

use super::AugmentConfig;
use super::blur::random_blur;
use super::color::{hls_to_rgb, hsv_to_rgb, rgb_to_hls, rgb_to_hsv};
use image::ExtendedColorType;
use image::codecs::jpeg::JpegEncoder;
use rand::Rng;

/// Which photometric augmentations one sample gets, each drawn at its probability.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct PhotometricDraw {
    /// Grayscale.
    pub gray: bool,
    /// Brightness / contrast.
    pub brightness: bool,
    /// HSV or RGB shift.
    pub color: bool,
    /// One of the blurs.
    pub blur: bool,
    /// ISO noise.
    pub noise: bool,
    /// JPEG re-compression.
    pub jpeg: bool,
    /// An occluding rectangle.
    pub occlusion: bool,
}

impl PhotometricDraw {
    /// Draws each transform independently at its probability in `p`.
    pub fn draw(p: &AugmentConfig, rng: &mut impl Rng) -> Self {
        Self {
            gray: chance(rng, p.gray),
            brightness: chance(rng, p.brightness),
            color: chance(rng, p.color),
            blur: chance(rng, p.blur),
            noise: chance(rng, p.noise),
            jpeg: chance(rng, p.jpeg),
            occlusion: chance(rng, p.occlusion),
        }
    }

    /// Applies the drawn transforms to `img` (`size x size` RGB8), in the original's order,
    /// drawing their parameters from `rng`.
    pub fn apply(
        &self,
        img: &mut [u8],
        size: usize,
        rng: &mut impl Rng,
    ) -> Result<(), image::ImageError> {
        if self.gray {
            grayscale(img);
        }
        if self.brightness {
            let alpha = 1.0 + rng.random_range(-0.2..=0.2);
            let beta = rng.random_range(-0.2..=0.2) * 255.0;
            brightness_contrast(img, alpha, beta);
        }
        if self.color {
            // albumentations OneOf([HueSaturationValue(p=0.5), RGBShift(p=0.7)]).
            if rng.random_range(0.0..1.2) < 0.5 {
                let hue = rng.random_range(-20.0..=20.0);
                let sat = rng.random_range(-30.0..=30.0);
                let val = rng.random_range(-20.0..=20.0);
                hsv_shift(img, hue, sat, val);
            } else {
                let shift = [(); 3].map(|_| rng.random_range(-20.0..=20.0));
                rgb_shift(img, shift);
            }
        }
        if self.blur {
            random_blur(img, size, rng);
        }
        if self.noise {
            let color_shift = rng.random_range(0.01..=0.05);
            let intensity = rng.random_range(0.1..=0.5);
            iso_noise(img, color_shift, intensity, rng);
        }
        if self.jpeg {
            let quality = rng.random_range(50..=90);
            jpeg(img, size, quality)?;
        }
        if self.occlusion {
            occlude(img, size, rng);
        }
        Ok(())
    }
}

/// Draws and applies each photometric augmentation with its probability.
pub fn apply_photometric(
    img: &mut [u8],
    size: usize,
    p: &AugmentConfig,
    rng: &mut impl Rng,
) -> Result<(), image::ImageError> {
    PhotometricDraw::draw(p, rng).apply(img, size, rng)
}

fn chance(rng: &mut impl Rng, prob: f64) -> bool {
    rng.random_bool(prob.clamp(0.0, 1.0))
}

fn pixels(img: &mut [u8]) -> impl Iterator<Item = &mut [u8]> {
    img.chunks_exact_mut(3)
}

fn to_unit(px: &[u8]) -> [f32; 3] {
    [0, 1, 2].map(|c| f32::from(px[c]) / 255.0)
}

fn from_unit(px: &mut [u8], v: [f32; 3]) {
    for c in 0..3 {
        px[c] = (v[c] * 255.0).round().clamp(0.0, 255.0) as u8;
    }
}

/// ITU-R BT.601 luma replicated to the three channels (cv2 RGB2GRAY).
fn grayscale(img: &mut [u8]) {
    for px in pixels(img) {
        let y = 0.299 * f32::from(px[0]) + 0.587 * f32::from(px[1]) + 0.114 * f32::from(px[2]);
        px.fill(y.round().clamp(0.0, 255.0) as u8);
    }
}

/// `x * alpha + beta`, clipped (albumentations RandomBrightnessContrast, brightness by max).
fn brightness_contrast(img: &mut [u8], alpha: f32, beta: f32) {
    let lut: Vec<u8> = (0..256)
        .map(|v| (v as f32 * alpha + beta).round().clamp(0.0, 255.0) as u8)
        .collect();
    for v in img.iter_mut() {
        *v = lut[usize::from(*v)];
    }
}

/// Hue shift in OpenCV 8-bit hue units (2 degrees), saturation and value shifts in 0-255 units.
fn hsv_shift(img: &mut [u8], hue: f32, sat: f32, val: f32) {
    for px in pixels(img) {
        let [h, s, v] = rgb_to_hsv(to_unit(px));
        let hsv = [
            h + 2.0 * hue,
            (s + sat / 255.0).clamp(0.0, 1.0),
            (v + val / 255.0).clamp(0.0, 1.0),
        ];
        from_unit(px, hsv_to_rgb(hsv));
    }
}

fn rgb_shift(img: &mut [u8], shift: [f32; 3]) {
    for px in pixels(img) {
        for c in 0..3 {
            px[c] = (f32::from(px[c]) + shift[c]).round().clamp(0.0, 255.0) as u8;
        }
    }
}

/// Sensor noise as albumentations ISONoise: per-pixel hue jitter and a Poisson-like lightness
/// gain scaled by the image's lightness spread.
fn iso_noise(img: &mut [u8], color_shift: f32, intensity: f32, rng: &mut impl Rng) {
    let hls: Vec<[f32; 3]> = img
        .chunks_exact(3)
        .map(|px| rgb_to_hls(to_unit(px)))
        .collect();
    let n = hls.len().max(1) as f32;
    let mean = hls.iter().map(|p| p[1]).sum::<f32>() / n;
    let std = (hls.iter().map(|p| (p[1] - mean).powi(2)).sum::<f32>() / n).sqrt();
    let lambda = std * intensity * 255.0;
    let hue_sigma = color_shift * 360.0 * intensity;
    for (px, [h, l, s]) in pixels(img).zip(hls) {
        // Poisson(lambda) approximated by a normal of the same mean and variance.
        let gain = (lambda + lambda.sqrt() * normal(rng)).max(0.0);
        let l = l + gain / 255.0 * (1.0 - l);
        from_unit(px, hls_to_rgb([h + hue_sigma * normal(rng), l, s]));
    }
}

fn normal(rng: &mut impl Rng) -> f32 {
    crate::rng::fast_normal(rng)
}

fn jpeg(img: &mut [u8], size: usize, quality: u8) -> Result<(), image::ImageError> {
    let mut encoded = Vec::with_capacity(img.len() / 4);
    JpegEncoder::new_with_quality(&mut encoded, quality).encode(
        img,
        size as u32,
        size as u32,
        ExtendedColorType::Rgb8,
    )?;
    let decoded =
        image::load_from_memory_with_format(&encoded, image::ImageFormat::Jpeg)?.into_rgb8();
    img.copy_from_slice(decoded.as_raw());
    Ok(())
}

/// A rectangle of 10-40 % of the side, filled with a random colour or noise.
fn occlude(img: &mut [u8], size: usize, rng: &mut impl Rng) {
    let w = ((size as f32) * rng.random_range(0.1..=0.4))
        .round()
        .max(1.0) as usize;
    let h = ((size as f32) * rng.random_range(0.1..=0.4))
        .round()
        .max(1.0) as usize;
    let x0 = rng.random_range(0..=size - w.min(size));
    let y0 = rng.random_range(0..=size - h.min(size));
    let solid: Option<[u8; 3]> = rng.random_bool(0.5).then(|| rng.random());
    for y in y0..(y0 + h).min(size) {
        for x in x0..(x0 + w).min(size) {
            let px = &mut img[(y * size + x) * 3..(y * size + x) * 3 + 3];
            px.copy_from_slice(&solid.unwrap_or_else(|| rng.random()));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::SeedableRng;

    #[test]
    fn grayscale_equalises_channels() {
        let mut img = vec![200, 10, 30, 0, 255, 0];
        grayscale(&mut img);
        assert_eq!(&img[..3], &[69, 69, 69]);
        assert_eq!(&img[3..], &[150, 150, 150]);
    }

    #[test]
    fn brightness_contrast_is_affine_and_clipped() {
        let mut img = vec![0, 100, 250];
        brightness_contrast(&mut img, 1.2, 10.0);
        assert_eq!(img, vec![10, 130, 255]);
    }

    #[test]
    fn jpeg_round_trip_stays_close() {
        let size = 16;
        let mut img: Vec<u8> = (0..size * size * 3)
            .map(|i| (i % 200) as u8 / 2 + 50)
            .collect();
        let before = img.clone();
        jpeg(&mut img, size, 90).unwrap();
        let mean_err: f32 = img
            .iter()
            .zip(&before)
            .map(|(a, b)| (f32::from(*a) - f32::from(*b)).abs())
            .sum::<f32>()
            / img.len() as f32;
        assert!(mean_err < 12.0, "{mean_err}");
        assert_ne!(img, before);
    }

    #[test]
    fn every_augmentation_changes_a_textured_image() {
        let size = 24;
        let base: Vec<u8> = (0..size * size * 3)
            .map(|i| ((i * 37) % 251) as u8)
            .collect();
        let off = AugmentConfig::none();
        let cases = [
            AugmentConfig { gray: 1.0, ..off },
            AugmentConfig {
                brightness: 1.0,
                ..off
            },
            AugmentConfig { color: 1.0, ..off },
            AugmentConfig { blur: 1.0, ..off },
            AugmentConfig { noise: 1.0, ..off },
            AugmentConfig { jpeg: 1.0, ..off },
            AugmentConfig {
                occlusion: 1.0,
                ..off
            },
        ];
        for (k, p) in cases.iter().enumerate() {
            let mut rng = rand::rngs::StdRng::seed_from_u64(k as u64);
            let mut img = base.clone();
            apply_photometric(&mut img, size, p, &mut rng).unwrap();
            assert_ne!(img, base, "augmentation {k} left the image unchanged");
        }
        let mut img = base.clone();
        let mut rng = rand::rngs::StdRng::seed_from_u64(1);
        apply_photometric(&mut img, size, &off, &mut rng).unwrap();
        assert_eq!(img, base);
    }
}
