//! The first convolution, straight from the model's NCHW input (3 planes) to an NHWC map.
//! For each block of 16 output channels the `3 x 3 x 3` weight rows stay in registers while
//! the output pixels stream by: one broadcast input value times one weight row per tap, the
//! folded BatchNorm bias as the accumulator's start, and the activation applied once the
//! image is done. Interior pixels read their taps at fixed offsets; border pixels skip the
//! taps that fall in the zero padding.

use super::{Strided, Window};
use crate::activation::Act;
use crate::plan::{Shape, View};
use fdfat_simd::{F32x16, Isa, LANES, copy_small, lanes, lanes_mut, simd_kernel};

/// Taps (input channels x kernel rows x kernel columns) of the stems this kernel computes.
pub const STEM_TAPS: usize = 27;

/// A dense convolution of the NCHW input with exactly [`STEM_TAPS`] taps.
#[derive(Debug)]
pub struct Stem {
    /// Kernel, stride and padding.
    pub window: Window,
    /// The input of one image: `c` planes of `h x w`.
    pub input: Shape,
    /// `[c_in][ky][kx][c_out]` with `c_out` rounded up to a multiple of 16 (zero padded).
    pub weight: Vec<f32>,
    /// One per output channel, zero padded as the weight rows.
    pub bias: Vec<f32>,
    /// Applied to the output.
    pub act: Act,
    /// Output channels.
    pub dst: View,
}

impl Stem {
    /// Output channels rounded up to whole accumulators.
    pub fn padded(channels: usize) -> usize {
        channels.div_ceil(LANES) * LANES
    }

    /// Computes `n` images of `input` (`n x c x h x w`, NCHW) into the value `dst`.
    pub fn run(&self, isa: Isa, n: usize, input: &[f32], dst: &mut [f32]) {
        let (image_in, image_out) = (self.input.len(), self.dst.shape.len());
        for args in Image::each(self, n, (input, image_in), (dst, image_out)) {
            stem(isa, args);
        }
    }
}

/// One image of a [`Stem`] step.
type Image<'a> = super::Image<'a, Stem>;

simd_kernel! {
    /// One image of the stem convolution.
    fn stem(args: Image<'_>) => stem_body
}

#[inline(always)]
fn stem_body<V: F32x16>(a: Image<'_>) {
    let op = a.op;
    let (si, so, win) = (op.input, op.dst.shape, op.window);
    let (k, cout) = (win.kernel, op.dst.channels);
    let padded = Stem::padded(cout);
    let plane = si.h * si.w;
    // input offset of each tap from the window's top-left pixel
    let mut offsets = [0; STEM_TAPS];
    for (t, offset) in offsets.iter_mut().enumerate() {
        let (ci, ky, kx) = (t / (k * k), t / k % k, t % k);
        *offset = ci * plane + ky * si.w + kx;
    }
    let (y_inner, x_inner) = (win.interior(so.h, si.h), win.interior(so.w, si.w));
    let mut partial = [0.0f32; LANES];
    for c0 in (0..padded).step_by(LANES) {
        let weights: [V; STEM_TAPS] =
            std::array::from_fn(|t| V::load(lanes(&op.weight[t * padded + c0..])));
        let bias = V::load(lanes(&op.bias[c0..]));
        for oy in 0..so.h {
            for ox in 0..so.w {
                let acc = if y_inner.contains(&oy) && x_inner.contains(&ox) {
                    let base = win.input(oy, 0) * si.w + win.input(ox, 0);
                    // one bounds check for the whole window: the offsets ascend
                    let window = &a.src[base..=base + offsets[STEM_TAPS - 1]];
                    // SAFETY: every offset is at most the last, so it is inside `window`
                    let at = |o: usize| V::splat(unsafe { *window.get_unchecked(o) });
                    // three independent chains of 9 taps, so that they overlap
                    let (mut a0, mut a1, mut a2) = (bias, V::splat(0.0), V::splat(0.0));
                    for (w, o) in weights.chunks_exact(3).zip(offsets.chunks_exact(3)) {
                        a0 = a0.mul_add(w[0], at(o[0]));
                        a1 = a1.mul_add(w[1], at(o[1]));
                        a2 = a2.mul_add(w[2], at(o[2]));
                    }
                    a0.add(a1).add(a2)
                } else {
                    border(&a, &weights, bias, oy, ox)
                };
                let out = &mut a.dst[(oy * so.w + ox) * so.c + op.dst.offset + c0..];
                if c0 + LANES <= cout {
                    acc.store(lanes_mut(out));
                } else {
                    acc.store(&mut partial);
                    copy_small::<V>(&mut out[..cout - c0], &partial);
                }
            }
        }
    }
    let shape = Strided {
        rows: so.pixels(),
        cols: cout,
        stride: so.c,
    };
    op.act.rows::<V>(&mut a.dst[op.dst.offset..], shape, None);
}

/// One output pixel whose window overlaps the zero padding.
#[inline(always)]
fn border<V: F32x16>(a: &Image<'_>, weights: &[V; STEM_TAPS], bias: V, oy: usize, ox: usize) -> V {
    let (si, win) = (a.op.input, a.op.window);
    let k = win.kernel;
    let (ky0, ky1) = win.taps(oy, si.h);
    let (kx0, kx1) = win.taps(ox, si.w);
    let mut acc = bias;
    for ci in 0..si.c {
        for ky in ky0..ky1 {
            let row = &a.src[(ci * si.h + win.input(oy, ky)) * si.w..][..si.w];
            for kx in kx0..kx1 {
                let x = V::splat(row[win.input(ox, kx)]);
                acc = acc.mul_add(weights[(ci * k + ky) * k + kx], x);
            }
        }
    }
    acc
}
