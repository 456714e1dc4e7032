//! Element-wise kernels on `f32` buffers, both cores busy through rayon: ReLU6, SiLU and PReLU
//! forward and backward (the backward passes overwrite the output gradient in place), a
//! vectorisable `exp`, and sums with independent partial sums.

use super::norm::Planes;
use fdfat_simd::Isa;
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
    map(x, |v| v.clamp(0.0, 6.0))
}

/// Gradient of ReLU6 as burn's clamp gives it, in place of the output gradient `grad`:
/// passed where `0 <= x <= 6`, else zero.
pub fn relu6_backward(x: &[f32], grad: &mut [f32]) {
    update(
        grad,
        x,
        |g, v| if (0.0..=6.0).contains(&v) { g } else { 0.0 },
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
            || {
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
                || {
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
    map(x, |v| v / (1.0 + exp(-v)))
}

/// Gradient of SiLU in place of the output gradient `grad`: `grad * s * (1 + x * (1 - s))`
/// with `s = sigmoid(x)`, recomputed.
pub fn silu_backward(x: &[f32], grad: &mut [f32]) {
    update(grad, x, |g, v| {
        let s = 1.0 / (1.0 + exp(-v));
        g * (s + v * s * (1.0 - s))
    });
}

/// `f` of every element, vectorised for the CPU's instruction set.
fn map(x: &[f32], f: impl Fn(f32) -> f32 + Sync) -> Vec<f32> {
    let mut out = vec![0.0f32; x.len()];
    let isa = Isa::detect();
    out.par_chunks_mut(CHUNK)
        .zip(x.par_chunks(CHUNK))
        .for_each(|(o, xs)| {
            isa.vectorise(
                #[inline(always)]
                || {
                    for (o, &v) in o.iter_mut().zip(xs) {
                        *o = f(v);
                    }
                },
            );
        });
    out
}

/// `a[i] = f(a[i], b[i])`, vectorised for the CPU's instruction set.
fn update(a: &mut [f32], b: &[f32], f: impl Fn(f32, f32) -> f32 + Sync) {
    let isa = Isa::detect();
    a.par_chunks_mut(CHUNK)
        .zip(b.par_chunks(CHUNK))
        .for_each(|(xs, ys)| {
            isa.vectorise(
                #[inline(always)]
                || {
                    for (x, &y) in xs.iter_mut().zip(ys) {
                        *x = f(*x, y);
                    }
                },
            );
        });
}

/// `e^x` to about 2 ulp, branch-free and without float-to-integer conversion so that loops over
/// it vectorise: `x = n ln2 + r` with `|r| <= ln2 / 2`, a degree-6 polynomial for `e^r`, and
/// `2^n` built in the exponent bits. Adding `1.5 * 2^23` rounds `x log2(e)` to the integer `n`,
/// which then sits in the low mantissa bits of the sum.
#[inline(always)]
pub(super) fn exp(x: f32) -> f32 {
    const LOG2E: f32 = std::f32::consts::LOG2_E;
    const LN2_HI: f32 = 0.693_359_4;
    const LN2_LO: f32 = -2.121_944_4e-4;
    const ROUND: f32 = 12_582_912.0;
    let x = x.clamp(-87.0, 88.0);
    let t = x * LOG2E + ROUND;
    let n = t - ROUND;
    let r = x - n * LN2_HI - n * LN2_LO;
    let p = 1.0
        + r * (1.0
            + r * (0.5
                + r * (1.0 / 6.0 + r * (1.0 / 24.0 + r * (1.0 / 120.0 + r * (1.0 / 720.0))))));
    let bits = t.to_bits().wrapping_sub(ROUND.to_bits()).wrapping_add(127) << 23;
    p * f32::from_bits(bits)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn exp_matches_the_standard_library() {
        for i in -870..=879 {
            let x = i as f32 * 0.1 + 0.037;
            let (got, want) = (exp(x), x.exp());
            assert!(
                ((got - want) / want).abs() < 1e-6,
                "exp({x}) = {got}, expected {want}"
            );
        }
    }
}
