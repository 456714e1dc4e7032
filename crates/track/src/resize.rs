//! Whole-image bilinear resize with half-pixel centres (cv2.resize INTER_LINEAR), the
//! detector's preprocessing.

use image::RgbImage;

/// One output coordinate's two source samples and the weight of the second.
#[derive(Clone, Copy)]
struct Tap {
    lo: usize,
    hi: usize,
    t: f32,
}

/// Taps for resizing `src` samples to `dst` samples.
fn taps(src: usize, dst: usize) -> Vec<Tap> {
    let scale = src as f32 / dst as f32;
    (0..dst)
        .map(|i| {
            let x = ((i as f32 + 0.5) * scale - 0.5).max(0.0);
            let lo = (x.floor() as usize).min(src - 1);
            let hi = (lo + 1).min(src - 1);
            Tap {
                lo,
                hi,
                t: x - lo as f32,
            }
        })
        .collect()
}

/// `image` resized to `width x height`, as packed RGB8 bytes (row-major). An empty image or
/// size gives black pixels.
pub fn resize_rgb(image: &RgbImage, width: usize, height: usize) -> Vec<u8> {
    let mut out = vec![0u8; width * height * 3];
    let (sw, sh) = (image.width() as usize, image.height() as usize);
    if sw == 0 || sh == 0 || width == 0 || height == 0 {
        return out;
    }
    let src = image.as_raw();
    let (xs, ys) = (taps(sw, width), taps(sh, height));
    for (row, ty) in out.chunks_exact_mut(width * 3).zip(&ys) {
        let top = &src[ty.lo * sw * 3..(ty.lo + 1) * sw * 3];
        let bottom = &src[ty.hi * sw * 3..(ty.hi + 1) * sw * 3];
        for (px, tx) in row.chunks_exact_mut(3).zip(&xs) {
            for c in 0..3 {
                let at = |line: &[u8], i: usize| f32::from(line[i * 3 + c]);
                let upper = at(top, tx.lo) + (at(top, tx.hi) - at(top, tx.lo)) * tx.t;
                let lower = at(bottom, tx.lo) + (at(bottom, tx.hi) - at(bottom, tx.lo)) * tx.t;
                px[c] = (upper + (lower - upper) * ty.t).round().clamp(0.0, 255.0) as u8;
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use image::Rgb;

    #[test]
    fn halving_averages_pixel_pairs() {
        // a horizontal ramp 0, 10, 20, ... halved: each output pixel sits between two inputs
        let img = RgbImage::from_fn(8, 2, |x, _| Rgb([x as u8 * 10, 0, 255]));
        let out = resize_rgb(&img, 4, 1);
        let reds: Vec<u8> = out.chunks_exact(3).map(|p| p[0]).collect();
        assert_eq!(reds, vec![5, 25, 45, 65]);
        assert!(out.chunks_exact(3).all(|p| p[1] == 0 && p[2] == 255));
    }

    #[test]
    fn same_size_is_identity_and_upscaling_clamps_at_edges() {
        let img = RgbImage::from_fn(3, 3, |x, y| Rgb([x as u8 * 50, y as u8 * 50, 7]));
        assert_eq!(resize_rgb(&img, 3, 3), img.as_raw().clone());
        let up = resize_rgb(&img, 6, 6);
        assert_eq!(&up[..3], &[0, 0, 7]);
        assert_eq!(&up[up.len() - 3..], &[100, 100, 7]);
        assert!(
            resize_rgb(&RgbImage::new(0, 0), 2, 2)
                .iter()
                .all(|&v| v == 0)
        );
    }
}
