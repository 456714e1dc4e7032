//! Blurs of the augmentation (as albumentations' Defocus, MotionBlur, MedianBlur and Blur) on
//! an `S x S` RGB8 image, with replicated borders.

use rand::Rng;

/// A sparse convolution kernel: `(dx, dy, weight)` taps whose weights sum to 1.
type Kernel = Vec<(i32, i32, f32)>;

/// Applies one blur chosen like albumentations' `OneOf([Defocus(p=.1), MotionBlur(p=.2),
/// MedianBlur(3, p=.1), Blur(3, p=.1)])`.
pub(crate) fn random_blur(img: &mut [u8], size: usize, rng: &mut impl Rng) {
    let pick = rng.random_range(0.0..0.5);
    if pick < 0.1 {
        let radius = rng.random_range(3..=10);
        let alias_sigma = rng.random_range(0.1..0.5);
        disc_blur(img, size, radius);
        convolve(img, size, &gaussian3(alias_sigma));
    } else if pick < 0.3 {
        let k = [3, 5, 7][rng.random_range(0..3)];
        let angle: f32 = rng.random_range(0.0..std::f32::consts::PI);
        convolve(img, size, &motion_kernel(k, angle));
    } else if pick < 0.4 {
        median3(img, size);
    } else {
        let taps = (-1..=1)
            .flat_map(|dy| (-1..=1).map(move |dx| (dx, dy, 1.0 / 9.0)))
            .collect();
        convolve(img, size, &taps);
    }
}

/// Mean over a disc of `radius` pixels (defocus), by horizontal prefix sums: one span per
/// kernel row.
fn disc_blur(img: &mut [u8], size: usize, radius: i32) {
    let src = img.to_vec();
    let n = size as i32;
    let r = radius;
    let spans: Vec<i32> = (-r..=r)
        .map(|dy| f64::from(r * r - dy * dy).sqrt().floor() as i32)
        .collect();
    let count: u32 = spans.iter().map(|w| (2 * w + 1) as u32).sum();
    // prefix[y][c][k] = sum of the first k pixels of the row padded by r replicated pixels.
    let padded = size + 2 * r as usize;
    let mut prefix = vec![0u32; size * 3 * (padded + 1)];
    for y in 0..size {
        for c in 0..3 {
            let base = (y * 3 + c) * (padded + 1);
            for k in 0..padded {
                let x = (k as i32 - r).clamp(0, n - 1) as usize;
                prefix[base + k + 1] = prefix[base + k] + u32::from(src[(y * size + x) * 3 + c]);
            }
        }
    }
    for y in 0..n {
        for x in 0..n {
            for c in 0..3 {
                let mut sum = 0;
                for (dy, &w) in (-r..=r).zip(&spans) {
                    let yy = (y + dy).clamp(0, n - 1) as usize;
                    let base = (yy * 3 + c) * (padded + 1);
                    let (from, to) = ((x + r - w) as usize, (x + r + w + 1) as usize);
                    sum += prefix[base + to] - prefix[base + from];
                }
                img[(y as usize * size + x as usize) * 3 + c] = ((sum + count / 2) / count) as u8;
            }
        }
    }
}

/// A 3x3 Gaussian of `sigma` (defocus anti-aliasing).
fn gaussian3(sigma: f32) -> Kernel {
    let g = |d: i32| (-((d * d) as f32) / (2.0 * sigma * sigma)).exp();
    let taps = (-1..=1)
        .flat_map(|dy| (-1..=1).map(move |dx| (dx, dy, g(dx) * g(dy))))
        .collect();
    normalise(taps)
}

/// A line of `k` pixels through the centre at `angle` (motion blur).
fn motion_kernel(k: i32, angle: f32) -> Kernel {
    let half = (k / 2) as f32;
    let (s, c) = angle.sin_cos();
    let mut taps: Kernel = Vec::new();
    for step in 0..(4 * k) {
        let t = -half + 2.0 * half * step as f32 / (4 * k - 1) as f32;
        let (dx, dy) = ((t * c).round() as i32, (t * s).round() as i32);
        match taps.iter_mut().find(|(x, y, _)| *x == dx && *y == dy) {
            Some(tap) => tap.2 += 1.0,
            None => taps.push((dx, dy, 1.0)),
        }
    }
    normalise(taps)
}

fn normalise(mut taps: Kernel) -> Kernel {
    let sum: f32 = taps.iter().map(|t| t.2).sum();
    for t in &mut taps {
        t.2 /= sum;
    }
    taps
}

fn convolve(img: &mut [u8], size: usize, taps: &Kernel) {
    let src = img.to_vec();
    let n = size as i32;
    let at = |x: i32, y: i32, c: usize| {
        let (x, y) = (x.clamp(0, n - 1) as usize, y.clamp(0, n - 1) as usize);
        f32::from(src[(y * size + x) * 3 + c])
    };
    for y in 0..n {
        for x in 0..n {
            for c in 0..3 {
                let v: f32 = taps
                    .iter()
                    .map(|&(dx, dy, w)| w * at(x + dx, y + dy, c))
                    .sum();
                img[(y as usize * size + x as usize) * 3 + c] = v.round().clamp(0.0, 255.0) as u8;
            }
        }
    }
}

fn median3(img: &mut [u8], size: usize) {
    let src = img.to_vec();
    let n = size as i32;
    for y in 0..n {
        for x in 0..n {
            for c in 0..3 {
                let mut v = [0u8; 9];
                let mut k = 0;
                for dy in -1..=1 {
                    for dx in -1..=1 {
                        let (sx, sy) = ((x + dx).clamp(0, n - 1), (y + dy).clamp(0, n - 1));
                        v[k] = src[(sy as usize * size + sx as usize) * 3 + c];
                        k += 1;
                    }
                }
                v.sort_unstable();
                img[(y as usize * size + x as usize) * 3 + c] = v[4];
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn kernels_are_normalised_and_blur_keeps_flat_images() {
        for taps in [gaussian3(0.3), motion_kernel(7, 0.7)] {
            let sum: f32 = taps.iter().map(|t| t.2).sum();
            assert!((sum - 1.0).abs() < 1e-4);
        }
        let mut img = vec![90u8; 8 * 8 * 3];
        disc_blur(&mut img, 8, 3);
        convolve(&mut img, 8, &gaussian3(0.2));
        median3(&mut img, 8);
        assert!(img.iter().all(|&v| v == 90));
    }

    #[test]
    fn disc_blur_spreads_a_dot_over_the_disc() {
        let size = 21;
        let mut img = vec![0u8; size * size * 3];
        img[(10 * size + 10) * 3] = 255;
        disc_blur(&mut img, size, 3);
        // 29 pixels in a disc of radius 3: each receives 255/29 of the dot.
        let lit: Vec<u8> = img.iter().step_by(3).copied().filter(|&v| v > 0).collect();
        assert_eq!(lit.len(), 29);
        assert!(lit.iter().all(|&v| v == 9));
    }

    #[test]
    fn median_removes_an_isolated_dot() {
        let mut img = vec![0u8; 5 * 5 * 3];
        img[(2 * 5 + 2) * 3] = 255;
        median3(&mut img, 5);
        assert!(img.iter().all(|&v| v == 0));
    }
}
