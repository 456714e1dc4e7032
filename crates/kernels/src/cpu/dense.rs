//! Dense (one group) convolution on `f32` NCHW buffers as im2col + matrix products, one sample
//! per rayon task: forward, input gradient (matrix product + col2im) and weight gradient
//! (matrix products summed over the batch). Stride-1 kernels wider than 1 go to [`shifted`].

use super::{geometry, shifted};
use crate::sgemm::{Operand, sgemm};
use rayon::prelude::*;
use std::ops::Range;

/// Geometry of a dense convolution: square `k x k` kernel, equal strides, equal padding on all
/// sides, no dilation, no bias.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Dense {
    /// Batch size.
    pub n: usize,
    /// Input channels.
    pub c_in: usize,
    /// Output channels.
    pub c_out: usize,
    /// Input height.
    pub h: usize,
    /// Input width.
    pub w: usize,
    /// Kernel side.
    pub k: usize,
    /// Stride (both axes).
    pub stride: usize,
    /// Zero padding (all sides).
    pub pad: usize,
}

impl Dense {
    /// Output height and width; `None` when the kernel does not fit the padded input.
    pub fn out_hw(&self) -> Option<(usize, usize)> {
        let span = |len| geometry::out_len(len, self.k, self.stride, self.pad);
        Some((span(self.h)?, span(self.w)?))
    }

    /// Rows of the im2col matrix (`c_in * k * k`).
    fn patch(&self) -> usize {
        self.c_in * self.k * self.k
    }

    /// Whether [`shifted`] computes it: stride 1, a kernel wider than 1, an output.
    fn shifted(&self) -> bool {
        self.stride == 1 && self.k > 1 && self.out_hw().is_some_and(|(h, w)| h * w > 0)
    }

    /// Whether the input is its own im2col matrix (1x1, stride 1, no padding).
    fn pointwise(&self) -> bool {
        self.k == 1 && self.stride == 1 && self.pad == 0
    }

    /// The output positions `o` whose input position `o * stride + tap - pad` lies in
    /// `0..len`, as a range within `0..out`.
    fn valid(&self, tap: usize, len: usize, out: usize) -> Range<usize> {
        geometry::valid(tap, len, out, self.stride, self.pad)
    }

    /// Writes the im2col matrix `[c_in * k * k, ho * wo]` of one sample into `col`.
    fn im2col(&self, x: &[f32], col: &mut [f32], ho: usize, wo: usize) {
        let (k, s, p) = (self.k, self.stride, self.pad);
        for (r, row) in col.chunks_exact_mut(ho * wo).enumerate() {
            let (ci, ky, kx) = (r / (k * k), r / k % k, r % k);
            let plane = &x[ci * self.h * self.w..][..self.h * self.w];
            let (rows, cols) = (self.valid(ky, self.h, ho), self.valid(kx, self.w, wo));
            row[..rows.start * wo].fill(0.0);
            row[rows.end * wo..].fill(0.0);
            for oy in rows {
                let out = &mut row[oy * wo..][..wo];
                out[..cols.start].fill(0.0);
                out[cols.end..].fill(0.0);
                if cols.is_empty() {
                    continue;
                }
                let src = &plane[(oy * s + ky - p) * self.w..][..self.w];
                let first = cols.start * s + kx - p;
                if s == 1 {
                    out[cols.clone()].copy_from_slice(&src[first..first + cols.len()]);
                } else {
                    let picked = src[first..].iter().step_by(s);
                    for (o, &v) in out[cols.clone()].iter_mut().zip(picked) {
                        *o = v;
                    }
                }
            }
        }
    }

    /// Adds the im2col-shaped gradient `col` back onto the sample's input gradient `dx`.
    fn col2im(&self, col: &[f32], dx: &mut [f32], ho: usize, wo: usize) {
        let (k, s, p) = (self.k, self.stride, self.pad);
        for (r, row) in col.chunks_exact(ho * wo).enumerate() {
            let (ci, ky, kx) = (r / (k * k), r / k % k, r % k);
            let plane = &mut dx[ci * self.h * self.w..][..self.h * self.w];
            let cols = self.valid(kx, self.w, wo);
            if cols.is_empty() {
                continue;
            }
            for oy in self.valid(ky, self.h, ho) {
                let dst = &mut plane[(oy * s + ky - p) * self.w..][..self.w];
                let src = &row[oy * wo..][..wo][cols.clone()];
                let first = cols.start * s + kx - p;
                if s == 1 {
                    for (d, &v) in dst[first..first + cols.len()].iter_mut().zip(src) {
                        *d += v;
                    }
                } else {
                    for (d, &v) in dst[first..].iter_mut().step_by(s).zip(src) {
                        *d += v;
                    }
                }
            }
        }
    }
}

/// Forward pass: `[n, c_in, h, w]` input, `[c_out, c_in, k, k]` weight.
pub fn dense_forward(x: &[f32], weight: &[f32], g: &Dense) -> Vec<f32> {
    if g.shifted() {
        return shifted::forward(x, weight, g);
    }
    let (ho, wo) = g.out_hw().unwrap_or((0, 0));
    let (l, kk) = (ho * wo, g.patch());
    let mut out = vec![0.0f32; g.n * g.c_out * l];
    if l == 0 || g.c_out == 0 {
        return out;
    }
    let sample = g.c_in * g.h * g.w;
    out.par_chunks_mut(g.c_out * l).enumerate().for_each_init(
        || vec![0.0f32; if g.pointwise() { 0 } else { kk * l }],
        |col, (n, y)| {
            let xs = &x[n * sample..][..sample];
            let cols: &[f32] = if g.pointwise() {
                xs
            } else {
                g.im2col(xs, col, ho, wo);
                col
            };
            matmul(y, weight, cols, [g.c_out, l, kk], [false, false], false);
        },
    );
    out
}

/// Gradient of the input from the output gradient `[n, c_out, ho, wo]`.
pub fn dense_input_grad(grad: &[f32], weight: &[f32], g: &Dense) -> Vec<f32> {
    if g.shifted() {
        return shifted::input_grad(grad, weight, g);
    }
    let (ho, wo) = g.out_hw().unwrap_or((0, 0));
    let (l, kk) = (ho * wo, g.patch());
    let sample = g.c_in * g.h * g.w;
    let mut dx = vec![0.0f32; g.n * sample];
    if l == 0 || sample == 0 {
        return dx;
    }
    dx.par_chunks_mut(sample).enumerate().for_each_init(
        || vec![0.0f32; if g.pointwise() { 0 } else { kk * l }],
        |col, (n, d)| {
            let gs = &grad[n * g.c_out * l..][..g.c_out * l];
            if g.pointwise() {
                matmul(d, weight, gs, [kk, l, g.c_out], [true, false], false);
            } else {
                matmul(col, weight, gs, [kk, l, g.c_out], [true, false], false);
                g.col2im(col, d, ho, wo);
            }
        },
    );
    dx
}

/// Gradient of the `[c_out, c_in, k, k]` weight from the input and the output gradient.
pub fn dense_weight_grad(x: &[f32], grad: &[f32], g: &Dense) -> Vec<f32> {
    if g.shifted() {
        return shifted::weight_grad(x, grad, g);
    }
    let (ho, wo) = g.out_hw().unwrap_or((0, 0));
    let (l, kk) = (ho * wo, g.patch());
    let size = g.c_out * kk;
    if l == 0 || size == 0 {
        return vec![0.0f32; size];
    }
    let sample = g.c_in * g.h * g.w;
    batch_sum(g.n, size, |samples, dw| {
        let mut col = vec![0.0f32; if g.pointwise() { 0 } else { kk * l }];
        for n in samples {
            let xs = &x[n * sample..][..sample];
            let gs = &grad[n * g.c_out * l..][..g.c_out * l];
            let cols: &[f32] = if g.pointwise() {
                xs
            } else {
                g.im2col(xs, &mut col, ho, wo);
                &col
            };
            matmul(dw, gs, cols, [g.c_out, kk, l], [false, true], true);
        }
    })
}

/// Samples per task of [`batch_sum`].
const GROUP: usize = 4;

/// `sum` over the batch of `n` samples of a `size`-long gradient: `add(samples, partial)` adds
/// the samples of one group of [`GROUP`] onto `partial`, groups run in parallel, and their
/// partial sums are added in group order, so the result does not depend on the threads.
pub fn batch_sum(
    n: usize,
    size: usize,
    add: impl Fn(std::ops::Range<usize>, &mut [f32]) + Sync,
) -> Vec<f32> {
    let partials: Vec<Vec<f32>> = (0..n.div_ceil(GROUP))
        .into_par_iter()
        .map(|group| {
            let mut partial = vec![0.0f32; size];
            add(group * GROUP..((group + 1) * GROUP).min(n), &mut partial);
            partial
        })
        .collect();
    let mut total = vec![0.0f32; size];
    for partial in partials {
        total.iter_mut().zip(&partial).for_each(|(t, p)| *t += p);
    }
    total
}

/// `c = a · b` (or `c += a · b` when `accumulate`) for row-major `c` of `[m, n]`, where `a`
/// is `[m, k]` (stored `[k, m]` when `transposed[0]`) and `b` is `[k, n]` (stored `[n, k]`
/// when `transposed[1]`). Single-threaded: callers run one per rayon task.
///
/// # Panics
///
/// When a slice is shorter than its matrix.
pub fn matmul(
    c: &mut [f32],
    a: &[f32],
    b: &[f32],
    [m, n, k]: [usize; 3],
    transposed: [bool; 2],
    accumulate: bool,
) {
    assert!(
        c.len() >= m * n && a.len() >= m * k && b.len() >= k * n,
        "matmul: slices shorter than [{m}, {k}] x [{k}, {n}]"
    );
    if m == 0 || n == 0 {
        return;
    }
    if k == 0 {
        if !accumulate {
            c[..m * n].fill(0.0);
        }
        return;
    }
    let (a_cs, a_rs) = if transposed[0] { (m, 1) } else { (1, k) };
    let (b_cs, b_rs) = if transposed[1] { (k, 1) } else { (1, n) };
    // SAFETY: the assertion above keeps every element gemm reads or writes, at
    // `row * rs + col * cs` for rows and columns within the stated sizes, inside its slice, and
    // `c` is borrowed mutably so it cannot alias `a` or `b`.
    unsafe {
        sgemm(
            [m, n, k],
            c,
            [n, 1],
            accumulate,
            Operand {
                data: a,
                rs: a_rs,
                cs: a_cs,
            },
            Operand {
                data: b,
                rs: b_rs,
                cs: b_cs,
            },
        );
    }
}

/// A strided matrix view: element `(r, c)` at `data[r * rs + c * cs]`.
pub(super) use crate::sgemm::Operand as View;

/// Length a `rows x cols` matrix with strides `rs`, `cs` spans.
fn span(rows: usize, cols: usize, rs: usize, cs: usize) -> usize {
    (rows - 1) * rs + (cols - 1) * cs + 1
}

/// `c (+)= a · b` for strided `a` (`[m, k]`) and `b` (`[k, n]`) and a destination `c` of `m x n`
/// at `c[r * c_rs + col * c_cs]`. Single-threaded.
///
/// # Panics
///
/// When `k` is 0, a view is shorter than its matrix, or the destination's strides would make
/// two of its elements one (`c_rs < n * c_cs` and `c_cs < m * c_rs`).
pub fn matmul_view(
    c: &mut [f32],
    [c_rs, c_cs]: [usize; 2],
    a: View,
    b: View,
    [m, n, k]: [usize; 3],
    accumulate: bool,
) {
    if m == 0 || n == 0 {
        return;
    }
    assert!(
        k > 0
            && a.data.len() >= span(m, k, a.rs, a.cs)
            && b.data.len() >= span(k, n, b.rs, b.cs)
            && c.len() >= span(m, n, c_rs, c_cs),
        "matmul_view: views shorter than [{m}, {k}] x [{k}, {n}]"
    );
    assert!(
        c_rs >= n * c_cs || c_cs >= m * c_rs,
        "matmul_view: overlapping destination"
    );
    // SAFETY: the assertions keep every element gemm touches, at `row * rs + col * cs` within
    // the stated sizes, inside its slice, and the destination's elements distinct; `c` is
    // borrowed mutably, so it cannot alias `a` or `b`.
    unsafe {
        sgemm([m, n, k], c, [c_rs, c_cs], accumulate, a, b);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn matmul_transposes_and_accumulates() {
        // a = [[1, 2], [3, 4]], b = [[5, 6], [7, 8]]: a b = [[19, 22], [43, 50]].
        let (a, b) = ([1.0, 2.0, 3.0, 4.0], [5.0, 6.0, 7.0, 8.0]);
        let mut c = [0.0f32; 4];
        matmul(&mut c, &a, &b, [2, 2, 2], [false, false], false);
        assert_eq!(c, [19.0, 22.0, 43.0, 50.0]);
        matmul(&mut c, &a, &b, [2, 2, 2], [false, false], true);
        assert_eq!(c, [38.0, 44.0, 86.0, 100.0]);
        // a^T b with a stored as given: [[1, 3], [2, 4]] b = [[26, 30], [38, 44]].
        matmul(&mut c, &a, &b, [2, 2, 2], [true, false], false);
        assert_eq!(c, [26.0, 30.0, 38.0, 44.0]);
        // a b^T: [[1, 2], [3, 4]] [[5, 7], [6, 8]] = [[17, 23], [39, 53]].
        matmul(&mut c, &a, &b, [2, 2, 2], [false, true], false);
        assert_eq!(c, [17.0, 23.0, 39.0, 53.0]);
    }
}
