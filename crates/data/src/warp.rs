//! The single bilinear warp that crops, resizes and geometrically augments an RGB image.
//!
//! Each output pixel centre is mapped back into the source; the sample is bilinear with
//! cv2-style fixed-point weights (11-bit coefficients, cv2.resize's rounding), clamped to the
//! allowed region of the source (so a plain crop-and-resize reproduces cv2.resize on the crop)
//! and black where the pre-image falls outside that region (cv2 `BORDER_CONSTANT`).

use crate::geometry::Affine2;

const COEF_BITS: i32 = 11;
const COEF_SCALE: f32 = (1 << COEF_BITS) as f32;

/// A borrowed packed RGB8 image.
#[derive(Clone, Copy)]
pub(crate) struct RgbView<'a> {
    /// Row-major RGB bytes.
    pub data: &'a [u8],
    /// Width in pixels.
    pub width: usize,
    /// Height in pixels.
    pub height: usize,
}

/// The part of the source that may be sampled, in continuous source coordinates.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Region {
    /// Left edge.
    pub x0: f64,
    /// Top edge.
    pub y0: f64,
    /// Right edge (exclusive).
    pub x1: f64,
    /// Bottom edge (exclusive).
    pub y1: f64,
}

/// Per-axis sampling: the two source indices and their fixed-point weights.
#[derive(Clone, Copy)]
struct Tap {
    lo: usize,
    hi: usize,
    w_lo: i32,
    w_hi: i32,
}

/// The bilinear taps of continuous coordinate `s` on an axis whose allowed pixels are
/// `first..=last` (cv2.resize: positions before the first pixel centre use the first pixel,
/// after the last one the last pixel).
fn tap(s: f64, first: usize, last: usize) -> Tap {
    let local = (s - 0.5 - first as f64) as f32;
    let base = local.floor();
    let mut frac = local - base;
    let mut lo = base as i64 + first as i64;
    if lo < first as i64 {
        lo = first as i64;
        frac = 0.0;
    }
    if lo >= last as i64 {
        lo = last as i64;
        frac = 0.0;
    }
    let lo = lo as usize;
    Tap {
        lo,
        hi: (lo + 1).min(last),
        w_lo: ((1.0 - frac) * COEF_SCALE).round_ties_even() as i32,
        w_hi: (frac * COEF_SCALE).round_ties_even() as i32,
    }
}

/// Warps `src` into the `size x size` RGB buffer `out`: output pixel centre `o` takes the
/// source colour at `out_to_src(o)`.
pub(crate) fn warp_rgb(
    src: RgbView,
    out_to_src: &Affine2,
    region: Region,
    size: usize,
    out: &mut [u8],
) {
    let first_x = region.x0.floor().max(0.0) as usize;
    let first_y = region.y0.floor().max(0.0) as usize;
    let last_x = ((region.x1.ceil() as usize).min(src.width))
        .saturating_sub(1)
        .max(first_x);
    let last_y = ((region.y1.ceil() as usize).min(src.height))
        .saturating_sub(1)
        .max(first_y);
    let inside = |v: f64, lo: f64, hi: f64| v >= lo - 1e-6 && v <= hi + 1e-6;
    let x_tap = |sx: f64| inside(sx, region.x0, region.x1).then(|| tap(sx, first_x, last_x));
    let y_tap = |sy: f64| inside(sy, region.y0, region.y1).then(|| tap(sy, first_y, last_y));
    let [a, b, c, d, e, f] = out_to_src.0;
    if b == 0.0 && d == 0.0 {
        // Axis-aligned (crop, resize, scale, translate, flip): taps per column and per row.
        let cols: Vec<Option<Tap>> = (0..size).map(|j| x_tap(a * (j as f64 + 0.5) + c)).collect();
        for i in 0..size {
            let row = &mut out[i * size * 3..(i + 1) * size * 3];
            match y_tap(e * (i as f64 + 0.5) + f) {
                None => row.fill(0),
                Some(ty) => {
                    for (j, col) in cols.iter().enumerate() {
                        sample(src, col.as_ref(), Some(&ty), &mut row[j * 3..j * 3 + 3]);
                    }
                }
            }
        }
    } else {
        for i in 0..size {
            for j in 0..size {
                let (sx, sy) = out_to_src.apply64(j as f64 + 0.5, i as f64 + 0.5);
                let px = &mut out[(i * size + j) * 3..(i * size + j) * 3 + 3];
                sample(src, x_tap(sx).as_ref(), y_tap(sy).as_ref(), px);
            }
        }
    }
}

/// One bilinear RGB sample, black when either axis is outside the region.
#[inline]
fn sample(src: RgbView, tx: Option<&Tap>, ty: Option<&Tap>, px: &mut [u8]) {
    let (Some(tx), Some(ty)) = (tx, ty) else {
        px.fill(0);
        return;
    };
    let row_len = src.width * 3;
    let r0 = &src.data[ty.lo * row_len..(ty.lo + 1) * row_len];
    let r1 = &src.data[ty.hi * row_len..(ty.hi + 1) * row_len];
    let (l, h) = (tx.lo * 3, tx.hi * 3);
    for (ch, dst) in px.iter_mut().enumerate() {
        let h0 = i32::from(r0[l + ch]) * tx.w_lo + i32::from(r0[h + ch]) * tx.w_hi;
        let h1 = i32::from(r1[l + ch]) * tx.w_lo + i32::from(r1[h + ch]) * tx.w_hi;
        *dst = vertical(h0, h1, ty.w_lo, ty.w_hi);
    }
}

/// cv2's vectorised vertical pass for 8-bit linear resize: 16-bit high multiplies of the
/// horizontal sums (pre-shifted by 4) and a rounding shift by 2.
#[inline]
fn vertical(h0: i32, h1: i32, b0: i32, b1: i32) -> u8 {
    let v = (((h0 >> 4) * b0) >> 16) + (((h1 >> 4) * b1) >> 16);
    ((v + 2) >> 2).clamp(0, 255) as u8
}

#[cfg(test)]
mod tests {
    use super::*;

    fn view(data: &[u8], w: usize, h: usize) -> RgbView<'_> {
        RgbView {
            data,
            width: w,
            height: h,
        }
    }

    #[test]
    fn identity_warp_copies_pixels() {
        let data: Vec<u8> = (0..4 * 4 * 3).map(|v| (v * 5) as u8).collect();
        let mut out = vec![0u8; data.len()];
        let region = Region {
            x0: 0.0,
            y0: 0.0,
            x1: 4.0,
            y1: 4.0,
        };
        warp_rgb(view(&data, 4, 4), &Affine2::IDENTITY, region, 4, &mut out);
        assert_eq!(out, data);
    }

    #[test]
    fn half_pixel_downscale_averages_neighbours() {
        // 2x downscale: each output centre lies between four source pixels.
        let mut data = vec![0u8; 4 * 4 * 3];
        for (k, v) in data.iter_mut().enumerate() {
            *v = if (k / 3) % 2 == 0 { 100 } else { 200 };
        }
        let mut out = vec![0u8; 2 * 2 * 3];
        let region = Region {
            x0: 0.0,
            y0: 0.0,
            x1: 4.0,
            y1: 4.0,
        };
        warp_rgb(
            view(&data, 4, 4),
            &Affine2::scaling(2.0, 2.0),
            region,
            2,
            &mut out,
        );
        assert!(out.iter().all(|&v| v == 150), "{out:?}");
    }

    #[test]
    fn rotated_and_axis_aligned_paths_agree() {
        let data: Vec<u8> = (0..20 * 20 * 3).map(|v| (v * 7 % 256) as u8).collect();
        let region = Region {
            x0: 2.0,
            y0: 1.0,
            x1: 18.0,
            y1: 19.0,
        };
        let map = Affine2([1.3, 0.0, 1.5, 0.0, 1.7, -0.5]);
        let mut fast = vec![0u8; 12 * 12 * 3];
        warp_rgb(view(&data, 20, 20), &map, region, 12, &mut fast);
        // A rotation by a vanishing angle takes the per-pixel path with the same arithmetic.
        let tiny = Affine2([1.3, 1e-300, 1.5, 0.0, 1.7, -0.5]);
        let mut slow = vec![0u8; 12 * 12 * 3];
        warp_rgb(view(&data, 20, 20), &tiny, region, 12, &mut slow);
        assert_eq!(fast, slow);
        assert!(fast.iter().any(|&v| v != 0));
    }

    #[test]
    fn outside_the_region_is_black() {
        let data = vec![255u8; 4 * 4 * 3];
        let mut out = vec![7u8; 4 * 4 * 3];
        let region = Region {
            x0: 0.0,
            y0: 0.0,
            x1: 2.0,
            y1: 4.0,
        };
        warp_rgb(view(&data, 4, 4), &Affine2::IDENTITY, region, 4, &mut out);
        for (k, &v) in out.iter().enumerate() {
            let x = (k / 3) % 4;
            assert_eq!(v, if x < 2 { 255 } else { 0 }, "pixel {x}");
        }
    }
}
