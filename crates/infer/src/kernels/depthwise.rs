//! Depth-wise (grouped, one input channel per group) convolution over NHWC maps, with the
//! BatchNorm folded and the activation applied once the image is done. Neighbouring channels
//! are contiguous, so for each block of 16 channels the 9 weight vectors of a 3x3 kernel stay
//! in registers while the output pixels stream by. Pixels whose windows lie inside the input
//! columns go in runs of 4-6 along a row (stride 1 or 2), each input vector of a kernel row
//! loaded once for every window that holds it (12x12x256 on AVX-512: 21 -> 16 us; 24x24x128:
//! 40 -> 24 us); the rest one at a time, with the taps in three independent chains.

use super::{Strided, Window};
use crate::activation::Act;
use crate::plan::View;
use fdfat_simd::{F32x16, Isa, LANES, lanes, lanes_mut, lanes_unchecked, simd_kernel};

/// Taps of the kernel with registers-resident weights (3x3).
const TAPS: usize = 9;

/// Most input columns one kernel row of a run of pixels reads (`(pixels - 1) * stride + 3`).
const RUN_COLUMNS: usize = 17;

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
            // runs of 6 pixels in AVX-512's 32 registers (9 weights, the input columns of a
            // kernel row, 6 sums), of 4 where a value takes two registers
            match (V::REGISTERS, op.window.stride) {
                (1, 1) => channel_block::<V, 1, 6>(&mut a, c0),
                (1, 2) => channel_block::<V, 2, 6>(&mut a, c0),
                (_, 1) => channel_block::<V, 1, 4>(&mut a, c0),
                (_, 2) => channel_block::<V, 2, 4>(&mut a, c0),
                _ => channel_block::<V, 1, 1>(&mut a, c0),
            }
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
/// weight vectors in registers. With `PIXELS > 1` (and a stride of `STRIDE`) interior pixels
/// go `PIXELS` neighbours along a row at a time, one independent sum each.
#[inline(always)]
fn channel_block<V: F32x16, const STRIDE: usize, const PIXELS: usize>(
    a: &mut Image<'_>,
    c0: usize,
) {
    let op = a.op;
    let (si, so, win) = (op.src.shape, op.dst.shape, op.window);
    let (k, cout) = (win.kernel, op.dst.channels);
    let weights: [V; TAPS] = std::array::from_fn(|t| V::load(lanes(&op.weight[t * cout + c0..])));
    // input offset of each tap from the window's top-left pixel (ascending)
    let offsets: [usize; TAPS] = std::array::from_fn(|t| (t / k * si.w + t % k) * si.c);
    let bias = V::load(lanes(&op.bias[c0..]));
    let (y_inner, x_inner) = (win.interior(so.h, si.h), win.interior(so.w, si.w));
    let first = op.src.offset + c0;
    const { assert!((PIXELS - 1) * STRIDE + 3 <= RUN_COLUMNS) };
    let runs = PIXELS > 1 && win.stride == STRIDE && x_inner.len() >= PIXELS;
    let step = STRIDE * si.c;
    for oy in 0..so.h {
        let mut ox = 0;
        while ox < so.w {
            let at_out = |ox: usize| (oy * so.w + ox) * so.c + op.dst.offset + c0;
            if runs && x_inner.contains(&ox) {
                // a run that would overrun the interior ends at its end instead
                let start = ox.min(x_inner.end - PIXELS);
                let mut sums = [bias; PIXELS];
                // the kernel rows inside the input (all but one on the first and last rows)
                let (ky0, ky1) = win.taps(oy, si.h);
                for ky in ky0..ky1 {
                    // the input columns of the row's windows, each loaded once
                    let at = (win.input(oy, ky) * si.w + win.input(start, 0)) * si.c + first;
                    let row = &a.src[at..][..(PIXELS - 1) * step + 2 * si.c + LANES];
                    let cols: [V; RUN_COLUMNS] = std::array::from_fn(|col| {
                        if col < (PIXELS - 1) * STRIDE + 3 {
                            // SAFETY: inside `row`, which ends with the last column
                            V::load(unsafe { lanes_unchecked(row, col * si.c) })
                        } else {
                            V::splat(0.0)
                        }
                    });
                    for (p, sum) in sums.iter_mut().enumerate() {
                        for kx in 0..3 {
                            *sum = sum.mul_add(weights[ky * 3 + kx], cols[p * STRIDE + kx]);
                        }
                    }
                }
                for (p, sum) in sums.iter().enumerate() {
                    sum.store(lanes_mut(&mut a.dst[at_out(start + p)..]));
                }
                ox = start + PIXELS;
                continue;
            }
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
            acc.store(lanes_mut(&mut a.dst[at_out(ox)..]));
            ox += 1;
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::plan::Shape;

    /// The convolution by its definition, one output value at a time.
    fn reference(op: &Depthwise, src: &[f32]) -> Vec<f32> {
        let (si, so, win) = (op.src.shape, op.dst.shape, op.window);
        let mut out = vec![0.0; so.len()];
        for oy in 0..so.h {
            for ox in 0..so.w {
                for c in 0..op.dst.channels {
                    let mut sum = op.bias[c];
                    for ky in 0..win.kernel {
                        for kx in 0..win.kernel {
                            let (iy, ix) = (oy * win.stride + ky, ox * win.stride + kx);
                            let inside = (win.pad..si.h + win.pad).contains(&iy)
                                && (win.pad..si.w + win.pad).contains(&ix);
                            if inside {
                                let at = ((iy - win.pad) * si.w + ix - win.pad) * si.c;
                                let w = op.weight[(ky * win.kernel + kx) * op.dst.channels + c];
                                sum += w * src[at + c];
                            }
                        }
                    }
                    out[(oy * so.w + ox) * so.c + c] = sum;
                }
            }
        }
        out
    }

    #[test]
    fn runs_and_single_pixels_match_the_definition_on_every_instruction_set() {
        let view = |h: usize, w: usize, c: usize| View {
            value: 0,
            shape: Shape { h, w, c },
            offset: 0,
            channels: c,
        };
        for (size, c, stride) in [(1, 16, 1), (5, 16, 1), (9, 32, 1), (14, 40, 1), (13, 16, 2)] {
            for w in [size, size + 7] {
                let window = Window {
                    kernel: 3,
                    stride,
                    pad: 1,
                };
                let (ho, wo) = (window.out(size).unwrap(), window.out(w).unwrap());
                let value = |i: usize| ((i * 7919) % 97) as f32 / 97.0 - 0.5;
                let op = Depthwise {
                    window,
                    multiplier: 1,
                    weight: (0..9 * c).map(value).collect(),
                    bias: (0..c).map(|i| value(i + 5)).collect(),
                    act: Act::Identity,
                    src: view(size, w, c),
                    dst: view(ho, wo, c),
                };
                let src: Vec<f32> = (0..size * w * c).map(|i| value(i + 11)).collect();
                let want = reference(&op, &src);
                for isa in Isa::supported() {
                    let mut got = vec![0.0; want.len()];
                    op.run(isa, 1, &src, &mut got);
                    for (i, (g, e)) in got.iter().zip(&want).enumerate() {
                        assert!(
                            (g - e).abs() < 1e-5,
                            "{isa:?} {size}x{w}x{c}/{stride} at {i}: {g} vs {e}"
                        );
                    }
                }
            }
        }
    }
}
