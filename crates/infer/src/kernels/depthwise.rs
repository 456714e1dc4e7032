//! Depth-wise (grouped, one input channel per group) convolution over NHWC maps, with the
//! BatchNorm folded and the activation applied once the image is done. Neighbouring channels
//! are contiguous, so for each block of 16 channels the 9 weight vectors of a 3x3 kernel stay
//! in registers while the output pixels stream by, each accumulating its 9 taps in three
//! independent register chains, at any stride; interior pixels read their taps at fixed
//! offsets after one bounds check.

use super::{Strided, Window};
use crate::activation::Act;
use crate::plan::View;
use fdfat_simd::{F32x16, Isa, LANES, lanes, lanes_mut, lanes_unchecked, simd_kernel};

/// Taps of the kernel with registers-resident weights (3x3).
const TAPS: usize = 9;

/// A depth-wise convolution: output channel `c` reads input channel `c / multiplier`.
#[derive(Debug)]
pub struct Depthwise {
    /// Kernel, stride and padding.
    pub window: Window,
    /// Output channels per input channel.
    pub multiplier: usize,
    /// `[ky][kx][c_out]`, row-major.
    pub weight: Vec<f32>,
    /// One per output channel.
    pub bias: Vec<f32>,
    /// Applied to the output.
    pub act: Act,
    /// Input channels.
    pub src: View,
    /// Output channels.
    pub dst: View,
}

impl Depthwise {
    /// Computes `n` images from the input value `src` into the output value `dst`.
    pub fn run(&self, isa: Isa, n: usize, src: &[f32], dst: &mut [f32]) {
        let (image_in, image_out) = (self.src.shape.len(), self.dst.shape.len());
        for args in Image::each(self, n, (src, image_in), (dst, image_out)) {
            depthwise(isa, args);
        }
    }
}

/// One image of a [`Depthwise`] step.
type Image<'a> = super::Image<'a, Depthwise>;

simd_kernel! {
    /// One image of a depth-wise convolution.
    fn depthwise(args: Image<'_>) => depthwise_body
}

#[inline(always)]
fn depthwise_body<V: F32x16>(mut a: Image<'_>) {
    let op = a.op;
    let so = op.dst.shape;
    let cout = op.dst.channels;
    let blocked = if op.multiplier == 1 && op.window.kernel * op.window.kernel == TAPS {
        let full = cout - cout % LANES;
        for c0 in (0..full).step_by(LANES) {
            channel_block::<V>(&mut a, c0);
        }
        full
    } else {
        0
    };
    if blocked < cout {
        remaining_channels(&mut a, blocked);
    }
    let shape = Strided {
        rows: so.pixels(),
        cols: cout,
        stride: so.c,
    };
    op.act.rows::<V>(&mut a.dst[op.dst.offset..], shape, None);
}

/// Channels `c0..c0 + 16` of every output pixel (3x3 kernel, multiplier 1), with the 9
/// weight vectors in registers.
#[inline(always)]
fn channel_block<V: F32x16>(a: &mut Image<'_>, c0: usize) {
    let op = a.op;
    let (si, so, win) = (op.src.shape, op.dst.shape, op.window);
    let (k, cout) = (win.kernel, op.dst.channels);
    let weights: [V; TAPS] = std::array::from_fn(|t| V::load(lanes(&op.weight[t * cout + c0..])));
    // input offset of each tap from the window's top-left pixel (ascending)
    let offsets: [usize; TAPS] = std::array::from_fn(|t| (t / k * si.w + t % k) * si.c);
    let bias = V::load(lanes(&op.bias[c0..]));
    let (y_inner, x_inner) = (win.interior(so.h, si.h), win.interior(so.w, si.w));
    let first = op.src.offset + c0;
    for oy in 0..so.h {
        for ox in 0..so.w {
            let mut acc = bias;
            if y_inner.contains(&oy) && x_inner.contains(&ox) {
                let base = (win.input(oy, 0) * si.w + win.input(ox, 0)) * si.c + first;
                // one bounds check for the whole window: the offsets ascend
                let window = &a.src[base..base + offsets[TAPS - 1] + LANES];
                // SAFETY: every offset is at most the last, so its 16 values are in `window`
                let at = |o: usize| V::load(unsafe { lanes_unchecked(window, o) });
                // three independent chains of 3 taps, so that they overlap
                let (mut a1, mut a2) = (V::splat(0.0), V::splat(0.0));
                for (w, o) in weights.chunks_exact(3).zip(offsets.chunks_exact(3)) {
                    acc = acc.mul_add(w[0], at(o[0]));
                    a1 = a1.mul_add(w[1], at(o[1]));
                    a2 = a2.mul_add(w[2], at(o[2]));
                }
                acc = acc.add(a1).add(a2);
            } else {
                let (ky0, ky1) = win.taps(oy, si.h);
                let (kx0, kx1) = win.taps(ox, si.w);
                for ky in ky0..ky1 {
                    for kx in kx0..kx1 {
                        let at = (win.input(oy, ky) * si.w + win.input(ox, kx)) * si.c + first;
                        acc = acc.mul_add(weights[ky * k + kx], V::load(lanes(&a.src[at..])));
                    }
                }
            }
            acc.store(lanes_mut(
                &mut a.dst[(oy * so.w + ox) * so.c + op.dst.offset + c0..],
            ));
        }
    }
}

/// Channels `first..` of every output pixel, one at a time: the channels left over by the
/// 16-channel blocks, or all of them for another kernel size or a multiplier above 1.
#[inline(always)]
fn remaining_channels(a: &mut Image<'_>, first: usize) {
    let op = a.op;
    let (si, so, win) = (op.src.shape, op.dst.shape, op.window);
    let (k, cout, m) = (win.kernel, op.dst.channels, op.multiplier);
    for oy in 0..so.h {
        let (ky0, ky1) = win.taps(oy, si.h);
        for ox in 0..so.w {
            let (kx0, kx1) = win.taps(ox, si.w);
            let out = &mut a.dst[(oy * so.w + ox) * so.c + op.dst.offset..][first..cout];
            out.copy_from_slice(&op.bias[first..]);
            for ky in ky0..ky1 {
                for kx in kx0..kx1 {
                    let at = (win.input(oy, ky) * si.w + win.input(ox, kx)) * si.c;
                    let x = &a.src[at + op.src.offset..];
                    let w = &op.weight[(ky * k + kx) * cout..][first..cout];
                    match m {
                        1 => {
                            for ((o, w), x) in out.iter_mut().zip(w).zip(&x[first..]) {
                                *o += w * x;
                            }
                        }
                        2 => {
                            let pairs = out.chunks_exact_mut(2).zip(w.chunks_exact(2));
                            for ((o, w), x) in pairs.zip(&x[first / 2..]) {
                                o[0] += w[0] * x;
                                o[1] += w[1] * x;
                            }
                        }
                        _ => {
                            for (c, (o, w)) in (first..).zip(out.iter_mut().zip(w)) {
                                *o += w * x[c / m];
                            }
                        }
                    }
                }
            }
        }
    }
}
