//! Element-wise kernels on `f32` buffers, both cores busy through rayon: ReLU6, SiLU and PReLU
//! forward and backward (the backward passes overwrite the output gradient in place), and sums
//! with independent partial sums.

use super::norm::Planes;
use fdfat_simd::{Isa, math};
use rayon::prelude::*;

/// Elements per parallel task of the element-wise kernels.
const CHUNK: usize = 1 << 14;

/// Sum of a slice with eight independent partial sums.
#[inline(always)]
pub(super) fn sum(a: &[f32]) -> f32 {
    let mut lanes = [0.0f32; 8];
    let a8 = a.chunks_exact(8);
    let tail: f32 = a8.remainder().iter().sum();
    for x in a8 {
        for i in 0..8 {
            lanes[i] += x[i];
        }
    }
    lanes.iter().sum::<f32>() + tail
}

/// `sum f(a[i], b[i])` with eight independent partial sums, which the compiler vectorises
/// (a plain iterator sum of floats runs one addition at a time).
#[inline(always)]
pub(super) fn sum_with(a: &[f32], b: &[f32], f: impl Fn(f32, f32) -> f32) -> f32 {
    let mut lanes = [0.0f32; 8];
    let (a8, b8) = (a.chunks_exact(8), b.chunks_exact(8));
    let tail: f32 = a8
        .remainder()
        .iter()
        .zip(b8.remainder())
        .map(|(&x, &y)| f(x, y))
        .sum();
    for (x, y) in a8.zip(b8) {
        for i in 0..8 {
            lanes[i] += f(x[i], y[i]);
        }
    }
    lanes.iter().sum::<f32>() + tail
}

/// `min(max(x, 0), 6)`.
pub fn relu6_forward(x: &[f32]) -> Vec<f32> {
    map(x, |v, _| v.clamp(0.0, 6.0))
}

/// Gradient of ReLU6 as burn's clamp gives it, in place of the output gradient `grad`:
/// passed where `0 <= x <= 6`, else zero.
pub fn relu6_backward(x: &[f32], grad: &mut [f32]) {
    update(
        grad,
        x,
        |g, v, _| if (0.0..=6.0).contains(&v) { g } else { 0.0 },
    );
}

/// PReLU `x < 0 ? alpha * x : x` with one slope, or one per channel.
pub fn prelu_forward(x: &[f32], p: &Planes, alpha: &[f32]) -> Vec<f32> {
    let mut out = vec![0.0f32; x.len()];
    if p.hw == 0 {
        return out;
    }
    let isa = Isa::detect();
    out.par_chunks_mut(p.hw).enumerate().for_each(|(i, y)| {
        let a = alpha[if alpha.len() == 1 { 0 } else { i % p.c }];
        isa.vectorise(
            #[inline(always)]
            |_| {
                for (o, &v) in y.iter_mut().zip(&x[i * p.hw..][..p.hw]) {
                    *o = if v < 0.0 { a * v } else { v };
                }
            },
        );
    });
    out
}

/// Gradients of PReLU: the input gradient replaces the output gradient in `grad`; returns the
/// slope gradient, `sum grad * x` over the negative inputs (per channel with one slope each).
pub fn prelu_backward(x: &[f32], grad: &mut [f32], p: &Planes, alpha: &[f32]) -> Vec<f32> {
    if p.hw == 0 {
        return vec![0.0; alpha.len()];
    }
    let isa = Isa::detect();
    let partial: Vec<f64> = grad
        .par_chunks_mut(p.hw)
        .enumerate()
        .map(|(i, d)| {
            let a = alpha[if alpha.len() == 1 { 0 } else { i % p.c }];
            let xs = &x[i * p.hw..][..p.hw];
            isa.vectorise(
                #[inline(always)]
                |_| {
                    let slope = sum_with(xs, d, |v, g| if v < 0.0 { g * v } else { 0.0 });
                    for (o, &v) in d.iter_mut().zip(xs) {
                        *o = if v < 0.0 { a * *o } else { *o };
                    }
                    f64::from(slope)
                },
            )
        })
        .collect();
    let mut total = vec![0.0f64; alpha.len()];
    for (i, v) in partial.into_iter().enumerate() {
        total[if alpha.len() == 1 { 0 } else { i % p.c }] += v;
    }
    total.into_iter().map(|v| v as f32).collect()
}

/// SiLU `x * sigmoid(x)`.
pub fn silu_forward(x: &[f32]) -> Vec<f32> {
    map(x, math::silu)
}

/// Gradient of SiLU in place of the output gradient `grad`: `grad * s * (1 + x * (1 - s))`
/// with `s = sigmoid(x)`, recomputed.
pub fn silu_backward(x: &[f32], grad: &mut [f32]) {
    update(grad, x, |g, v, fma| {
        let s = math::sigmoid(v, fma);
        g * (s + v * s * (1.0 - s))
    });
}

/// `f` of every element, vectorised for the CPU's instruction set (`f` gets whether the frame
/// has FMA, for [`math`]).
fn map(x: &[f32], f: impl Fn(f32, bool) -> f32 + Sync) -> Vec<f32> {
    let mut out = vec![0.0f32; x.len()];
    let isa = Isa::detect();
    out.par_chunks_mut(CHUNK)
        .zip(x.par_chunks(CHUNK))
        .for_each(|(o, xs)| {
            isa.vectorise(
                #[inline(always)]
                |fma| {
                    for (o, &v) in o.iter_mut().zip(xs) {
                        *o = f(v, fma);
                    }
                },
            );
        });
    out
}

/// `a[i] = f(a[i], b[i])`, vectorised for the CPU's instruction set (`f` gets whether the
/// frame has FMA, for [`math`]).
fn update(a: &mut [f32], b: &[f32], f: impl Fn(f32, f32, bool) -> f32 + Sync) {
    let isa = Isa::detect();
    a.par_chunks_mut(CHUNK)
        .zip(b.par_chunks(CHUNK))
        .for_each(|(xs, ys)| {
            isa.vectorise(
                #[inline(always)]
                |fma| {
                    for (x, &y) in xs.iter_mut().zip(ys) {
                        *x = f(*x, y, fma);
                    }
                },
            );
        });
}
