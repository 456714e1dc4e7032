//! Depth-wise convolution on `f32` NCHW buffers (one input channel per group, any channel
//! multiplier), one plane per rayon task: forward, input gradient and weight gradient. Planes
//! are copied into a zero-bordered buffer first, so the tap loops need no bounds arithmetic, and
//! at stride 1 each tap is one long loop over the padded grid.

use super::geometry;
use fdfat_simd::Isa;
use rayon::prelude::*;
use std::ops::Range;

use super::pointwise::sum_with;

/// Zeros after a padded plane: at least the largest kernel side the wide-grid loops handle.
const PAD_TAIL: usize = 16;

pub use crate::geometry::Depthwise;

/// The CPU kernels' tap ranges of a depth-wise convolution.
impl Depthwise {
    /// The output positions `o` whose input position `o * stride + tap - pad` lies in
    /// `0..len`, for a kernel tap, as a range within `0..out`.
    fn valid(&self, tap: usize, len: usize, out: usize) -> Range<usize> {
        geometry::valid(tap, len, out, self.stride, self.pad)
    }

    /// The valid output rows for each kernel row and the valid output columns for each kernel
    /// column (computed once per call: the divisions stay out of the loops).
    fn taps(&self, ho: usize, wo: usize) -> (Vec<Range<usize>>, Vec<Range<usize>>) {
        let rows = (0..self.k).map(|t| self.valid(t, self.h, ho)).collect();
        let cols = (0..self.k).map(|t| self.valid(t, self.w, wo)).collect();
        (rows, cols)
    }
}

/// Copies the `h x w` plane into `buf` as an `(h + 2 pad) x (w + 2 pad)` plane with a zero
/// border, so the tap loops below need no bounds arithmetic.
fn pad_plane(plane: &[f32], [h, w]: [usize; 2], pad: usize, buf: &mut Vec<f32>) {
    let pw = w + 2 * pad;
    buf.clear();
    // `PAD_TAIL` zeros after the last row let the wide-grid loops read a full row past it.
    buf.resize(pw * (h + 2 * pad) + PAD_TAIL, 0.0);
    for (y, row) in plane.chunks_exact(w).enumerate() {
        buf[(y + pad) * pw + pad..][..w].copy_from_slice(row);
    }
}

/// Forward pass: `[n, c_in, h, w]` input, `[c_out, 1, k, k]` weight.
pub fn depthwise_forward(x: &[f32], weight: &[f32], g: &Depthwise) -> Vec<f32> {
    let (ho, wo) = g.out_hw().unwrap_or((0, 0));
    let (c_out, kk, plane) = (g.c_out(), g.k * g.k, g.h * g.w);
    let mut out = vec![0.0f32; g.n * c_out * ho * wo];
    if ho * wo == 0 {
        return out;
    }
    let pw = g.w + 2 * g.pad;
    let wide = g.stride == 1 && g.k <= PAD_TAIL;
    let isa = Isa::detect();
    out.par_chunks_mut(ho * wo).enumerate().for_each_init(
        || (Vec::new(), Vec::new()),
        |(buf, grid), (i, y)| {
            isa.vectorise(
                #[inline(always)]
                |_| {
                    let (n, co) = (i / c_out, i % c_out);
                    let xs = &x[(n * g.c_in + co / g.mult) * plane..][..plane];
                    pad_plane(xs, [g.h, g.w], g.pad, buf);
                    let ws = &weight[co * kk..][..kk];
                    if wide {
                        grid.clear();
                        grid.resize(ho * pw, 0.0);
                        correlate_wide(grid, buf, pw, ws, g.k);
                        for (row, line) in y.chunks_exact_mut(wo).zip(grid.chunks_exact(pw)) {
                            row.copy_from_slice(&line[..wo]);
                        }
                    } else {
                        taps(y, wo, buf, pw, ws, g.k, g.stride);
                    }
                },
            )
        },
    );
    out
}

/// Stride-1 correlation on the padded source's own grid: `grid[q] += sum weight[ky][kx] *
/// src[q + ky * pw + kx]`. Row `oy` of the result is `grid[oy * pw..][..wo]`; the columns past
/// `wo` hold values that wrap around and are dropped. Long contiguous loops instead of one short
/// loop per output row and tap.
#[inline(always)]
fn correlate_wide(grid: &mut [f32], src: &[f32], pw: usize, weight: &[f32], k: usize) {
    let len = grid.len();
    for (t, &wv) in weight.iter().enumerate() {
        let line = &src[(t / k) * pw + t % k..][..len];
        for (o, &v) in grid.iter_mut().zip(line) {
            *o += wv * v;
        }
    }
}

/// `out[oy][ox] += sum weight[ky][kx] * src[oy * s + ky][ox * s + kx]` over the `ho x wo`
/// output `out` (rows of `wo`) and the padded source `src` (rows of `pw`).
#[inline(always)]
fn taps(out: &mut [f32], wo: usize, src: &[f32], pw: usize, weight: &[f32], k: usize, s: usize) {
    for (oy, row) in out.chunks_exact_mut(wo).enumerate() {
        for ky in 0..k {
            let line = &src[(oy * s + ky) * pw..];
            for kx in 0..k {
                let wv = weight[ky * k + kx];
                if s == 1 {
                    for (o, &v) in row.iter_mut().zip(&line[kx..kx + wo]) {
                        *o += wv * v;
                    }
                } else {
                    for (o, &v) in row.iter_mut().zip(line[kx..].iter().step_by(s)) {
                        *o += wv * v;
                    }
                }
            }
        }
    }
}

/// Gradient of the input from the output gradient `[n, c_out, ho, wo]`. At stride 1 it is
/// the output gradient, padded by `k - 1 - pad`, correlated with the flipped kernel; at other
/// strides each output gradient value is scattered back onto its taps.
pub fn depthwise_input_grad(grad: &[f32], weight: &[f32], g: &Depthwise) -> Vec<f32> {
    let (ho, wo) = g.out_hw().unwrap_or((0, 0));
    let (kk, plane) = (g.k * g.k, g.h * g.w);
    let mut dx = vec![0.0f32; g.n * g.c_in * plane];
    if ho * wo == 0 || plane == 0 {
        return dx;
    }
    let flipped: Vec<f32> = weight
        .chunks_exact(kk)
        .flat_map(|w| w.iter().rev().copied())
        .collect();
    let full = g.k - 1 - g.pad.min(g.k - 1);
    let stride_one = g.stride == 1 && g.pad < g.k && g.k <= PAD_TAIL;
    let (rows, cols_of) = g.taps(ho, wo);
    let isa = Isa::detect();
    dx.par_chunks_mut(plane).enumerate().for_each_init(
        || (Vec::new(), Vec::new()),
        |(buf, grid), (i, dxs)| {
            isa.vectorise(
                #[inline(always)]
                |_| {
                    let (n, ci) = (i / g.c_in, i % g.c_in);
                    for co in ci * g.mult..(ci + 1) * g.mult {
                        let gs = &grad[(n * g.c_out() + co) * ho * wo..][..ho * wo];
                        if stride_one {
                            pad_plane(gs, [ho, wo], full, buf);
                            let (fw, gw) = (&flipped[co * kk..][..kk], wo + 2 * full);
                            grid.clear();
                            grid.resize(g.h * gw, 0.0);
                            correlate_wide(grid, buf, gw, fw, g.k);
                            for (row, line) in dxs.chunks_exact_mut(g.w).zip(grid.chunks_exact(gw))
                            {
                                for (d, &v) in row.iter_mut().zip(line) {
                                    *d += v;
                                }
                            }
                            continue;
                        }
                        let ws = &weight[co * kk..][..kk];
                        for ky in 0..g.k {
                            for oy in rows[ky].clone() {
                                let grow = &gs[oy * wo..][..wo];
                                let drow = &mut dxs[(oy * g.stride + ky - g.pad) * g.w..][..g.w];
                                for kx in 0..g.k {
                                    let (wv, cols) = (ws[ky * g.k + kx], cols_of[kx].clone());
                                    let first = cols.start * g.stride + kx;
                                    if cols.is_empty() {
                                        continue;
                                    }
                                    let dst = drow[first - g.pad..].iter_mut().step_by(g.stride);
                                    for (d, &v) in dst.zip(&grow[cols]) {
                                        *d += wv * v;
                                    }
                                }
                            }
                        }
                    }
                },
            )
        },
    );
    dx
}

/// Gradient of the `[c_out, 1, k, k]` weight from the input and the output gradient: per
/// output channel, one running row of products per tap, summed at the end.
pub fn depthwise_weight_grad(x: &[f32], grad: &[f32], g: &Depthwise) -> Vec<f32> {
    let (ho, wo) = g.out_hw().unwrap_or((0, 0));
    let (c_out, kk, plane) = (g.c_out(), g.k * g.k, g.h * g.w);
    let mut dw = vec![0.0f32; c_out * kk];
    if ho * wo == 0 {
        return dw;
    }
    let pw = g.w + 2 * g.pad;
    let wide = g.stride == 1 && g.k <= PAD_TAIL;
    let isa = Isa::detect();
    dw.par_chunks_mut(kk).enumerate().for_each(|(co, dws)| {
        isa.vectorise(
            #[inline(always)]
            |_| {
                let ci = co / g.mult;
                let (mut buf, mut acc) = (Vec::new(), vec![0.0f32; kk * wo]);
                let (mut grid, mut sums) = (
                    vec![0.0f32; if wide { ho * pw } else { 0 }],
                    vec![0.0f64; kk],
                );
                for n in 0..g.n {
                    pad_plane(
                        &x[(n * g.c_in + ci) * plane..][..plane],
                        [g.h, g.w],
                        g.pad,
                        &mut buf,
                    );
                    let gs = &grad[(n * c_out + co) * ho * wo..][..ho * wo];
                    if wide {
                        // The output gradient on the padded grid (zero past column `wo`): one long dot
                        // product per tap.
                        for (line, row) in grid.chunks_exact_mut(pw).zip(gs.chunks_exact(wo)) {
                            line[..wo].copy_from_slice(row);
                        }
                        for (t, total) in sums.iter_mut().enumerate() {
                            let line = &buf[(t / g.k) * pw + t % g.k..][..grid.len()];
                            *total += f64::from(sum_with(&grid, line, |a, b| a * b));
                        }
                        continue;
                    }
                    for (oy, grow) in gs.chunks_exact(wo).enumerate() {
                        for (t, running) in acc.chunks_exact_mut(wo).enumerate() {
                            let line = &buf[(oy * g.stride + t / g.k) * pw + t % g.k..];
                            let picked = line.iter().step_by(g.stride);
                            for ((a, &gv), &v) in running.iter_mut().zip(grow).zip(picked) {
                                *a += gv * v;
                            }
                        }
                    }
                }
                for ((d, running), total) in dws.iter_mut().zip(acc.chunks_exact(wo)).zip(&sums) {
                    *d = (running.iter().map(|&v| f64::from(v)).sum::<f64>() + total) as f32;
                }
            },
        )
    });
    dw
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn valid_ranges_skip_the_padding() {
        let g = Depthwise {
            n: 1,
            c_in: 1,
            mult: 1,
            h: 5,
            w: 5,
            k: 3,
            stride: 2,
            pad: 1,
        };
        assert_eq!(g.out_hw(), Some((3, 3)));
        // Tap 0 reads input o * 2 - 1: output 0 falls in the padding.
        assert_eq!(g.valid(0, 5, 3), 1..3);
        assert_eq!(g.valid(1, 5, 3), 0..3);
        assert_eq!(g.valid(2, 5, 3), 0..2);
    }
}
