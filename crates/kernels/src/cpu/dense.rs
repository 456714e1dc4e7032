//! Dense (one group) convolution on `f32` NCHW buffers: 1x1 kernels as matrix products, one
//! sample per rayon task (forward, input gradient) or summed over groups of samples (weight
//! gradient); every other kernel, stride and padding goes to [`shifted`].

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

    /// Whether the input is its own matrix operand (1x1, stride 1, no padding); every other
    /// convolution goes to [`shifted`].
    fn pointwise(&self) -> bool {
        self.k == 1 && self.stride == 1 && self.pad == 0
    }
}

/// Forward pass: `[n, c_in, h, w]` input, `[c_out, c_in, k, k]` weight.
pub fn dense_forward(x: &[f32], weight: &[f32], g: &Dense) -> Vec<f32> {
    if !g.pointwise() {
        return shifted::forward(x, weight, g);
    }
    let l = g.h * g.w;
    let mut out = vec![0.0f32; g.n * g.c_out * l];
    if l == 0 || g.c_out == 0 {
        return out;
    }
    out.par_chunks_mut(g.c_out * l)
        .enumerate()
        .for_each(|(n, y)| {
            let xs = &x[n * g.c_in * l..][..g.c_in * l];
            matmul(y, weight, xs, [g.c_out, l, g.c_in], [false, false], false);
        });
    out
}

/// Gradient of the input from the output gradient `[n, c_out, ho, wo]`.
pub fn dense_input_grad(grad: &[f32], weight: &[f32], g: &Dense) -> Vec<f32> {
    if !g.pointwise() {
        return shifted::input_grad(grad, weight, g);
    }
    let l = g.h * g.w;
    let mut dx = vec![0.0f32; g.n * g.c_in * l];
    if l == 0 || g.c_in == 0 {
        return dx;
    }
    dx.par_chunks_mut(g.c_in * l)
        .enumerate()
        .for_each(|(n, d)| {
            let gs = &grad[n * g.c_out * l..][..g.c_out * l];
            matmul(d, weight, gs, [g.c_in, l, g.c_out], [true, false], false);
        });
    dx
}

/// Gradient of the `[c_out, c_in, k, k]` weight from the input and the output gradient.
pub fn dense_weight_grad(x: &[f32], grad: &[f32], g: &Dense) -> Vec<f32> {
    if !g.pointwise() {
        return shifted::weight_grad(x, grad, g);
    }
    let (l, size) = (g.h * g.w, g.c_out * g.c_in);
    if l == 0 || size == 0 {
        return vec![0.0f32; size];
    }
    batch_sum(g.n, size, GROUP, |samples, dw| {
        for n in samples {
            let xs = &x[n * g.c_in * l..][..g.c_in * l];
            let gs = &grad[n * g.c_out * l..][..g.c_out * l];
            matmul(dw, gs, xs, [g.c_out, g.c_in, l], [false, true], true);
        }
    })
}

/// Samples per task of the 1x1 weight gradient's [`batch_sum`].
const GROUP: usize = 4;

/// `sum` over the batch of `n` samples of a `size`-long gradient: `add(samples, partial)` adds
/// the samples of one group of `group` onto `partial`, groups run in parallel, and their
/// partial sums are added in group order, so the result does not depend on the threads.
pub fn batch_sum(
    n: usize,
    size: usize,
    group: usize,
    add: impl Fn(Range<usize>, &mut [f32]) + Sync,
) -> Vec<f32> {
    let partials: Vec<Vec<f32>> = (0..n.div_ceil(group))
        .into_par_iter()
        .map(|first| {
            let mut partial = vec![0.0f32; size];
            add(first * group..((first + 1) * group).min(n), &mut partial);
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
