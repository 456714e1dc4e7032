//! Training-mode BatchNorm on `f32` NCHW buffers, optionally followed by ReLU6 or SiLU in the
//! same passes: batch statistics, forward, and a backward pass that overwrites the output
//! gradient with the input gradient. The activation's input is recomputed from the BatchNorm
//! input, so the fused pair keeps one tensor for its backward pass instead of two.

use super::pointwise::{sum, sum_with};
use crate::NormAct;
use fdfat_simd::{Isa, math};
use rayon::prelude::*;

/// Layout of an NCHW buffer (a BatchNorm input, a C2f part): `n` samples of `c` channels of
/// `hw` values.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Planes {
    /// Batch size.
    pub n: usize,
    /// Channels.
    pub c: usize,
    /// Values per channel and sample (the product of the spatial axes).
    pub hw: usize,
}

impl Planes {
    /// Values per channel over the batch.
    fn count(&self) -> usize {
        self.n * self.hw
    }

    /// The `hw` values of channel `ch` in sample `n`.
    fn plane<'a>(&self, data: &'a [f32], n: usize, ch: usize) -> &'a [f32] {
        &data[(n * self.c + ch) * self.hw..][..self.hw]
    }
}

/// The per-channel values of one BatchNorm application and the activation after it.
#[derive(Debug, Clone, Copy)]
pub struct Norm<'a> {
    /// Batch mean.
    pub mean: &'a [f32],
    /// Biased batch variance.
    pub var: &'a [f32],
    /// Scale.
    pub gamma: &'a [f32],
    /// Shift.
    pub beta: &'a [f32],
    /// Added to the variance.
    pub eps: f64,
    /// The activation applied to the normalised values, if any.
    pub act: Option<NormAct>,
}

impl Norm<'_> {
    /// `(mean, 1 / sqrt(var + eps), gamma, beta)` of channel `ch`.
    fn channel(&self, ch: usize) -> (f32, f32, f32, f32) {
        let inv = (1.0 / (f64::from(self.var[ch]) + self.eps).sqrt()) as f32;
        (self.mean[ch], inv, self.gamma[ch], self.beta[ch])
    }
}

impl NormAct {
    /// The activation of `z` (`fma`: whether the frame has it, for [`math`]).
    #[inline(always)]
    fn apply(self, z: f32, fma: bool) -> f32 {
        match self {
            Self::Relu6 => z.clamp(0.0, 6.0),
            Self::Silu => math::silu(z, fma),
        }
    }

    /// Its derivative at `z`; ReLU6 passes the gradient where `0 <= z <= 6`, as burn's clamp.
    #[inline(always)]
    fn derivative(self, z: f32, fma: bool) -> f32 {
        match self {
            Self::Relu6 => f32::from(u8::from((0.0..=6.0).contains(&z))),
            Self::Silu => {
                let s = math::sigmoid(z, fma);
                s * (1.0 + z * (1.0 - s))
            }
        }
    }
}

/// Per-channel batch mean and biased variance (two passes, as burn computes them).
pub fn batch_stats(x: &[f32], p: &Planes) -> (Vec<f32>, Vec<f32>) {
    let count = p.count().max(1) as f64;
    let isa = Isa::detect();
    (0..p.c)
        .into_par_iter()
        .map(|ch| {
            isa.vectorise(
                #[inline(always)]
                |_| {
                    let total: f64 = (0..p.n).map(|n| f64::from(sum(p.plane(x, n, ch)))).sum();
                    let mean = (total / count) as f32;
                    let squares: f64 = (0..p.n)
                        .map(|n| {
                            let xs = p.plane(x, n, ch);
                            f64::from(sum_with(xs, xs, |v, _| (v - mean) * (v - mean)))
                        })
                        .sum();
                    (mean, (squares / count) as f32)
                },
            )
        })
        .unzip()
}

/// `act((x - mean) / sqrt(var + eps) * gamma + beta)` per channel.
pub fn batch_norm_forward(x: &[f32], p: &Planes, norm: &Norm) -> Vec<f32> {
    let mut out = vec![0.0f32; x.len()];
    if p.hw == 0 {
        return out;
    }
    let isa = Isa::detect();
    out.par_chunks_mut(p.hw).enumerate().for_each(|(i, y)| {
        let (m, inv, gain, shift) = norm.channel(i % p.c);
        let xs = &x[i * p.hw..][..p.hw];
        isa.vectorise(
            #[inline(always)]
            |fma| match norm.act {
                None => {
                    for (o, &v) in y.iter_mut().zip(xs) {
                        *o = (v - m) * inv * gain + shift;
                    }
                }
                Some(act) => {
                    for (o, &v) in y.iter_mut().zip(xs) {
                        *o = act.apply((v - m) * inv * gain + shift, fma);
                    }
                }
            },
        );
    });
    out
}

/// Gradients of training-mode BatchNorm (and its activation): the input gradient replaces the
/// output gradient in `grad`; returns the gamma and beta gradients.
pub fn batch_norm_backward(
    x: &[f32],
    grad: &mut [f32],
    p: &Planes,
    norm: &Norm,
) -> (Vec<f32>, Vec<f32>) {
    if p.hw == 0 {
        return (vec![0.0; p.c], vec![0.0; p.c]);
    }
    // Pass 1, per plane: the gradient through the activation (in place), and its sum and its
    // sum against the centred input.
    let isa = Isa::detect();
    let partial: Vec<(f64, f64)> = grad
        .par_chunks_mut(p.hw)
        .enumerate()
        .map(|(i, g)| {
            let (m, inv, gain, shift) = norm.channel(i % p.c);
            let xs = &x[i * p.hw..][..p.hw];
            isa.vectorise(
                #[inline(always)]
                |fma| {
                    if let Some(act) = norm.act {
                        for (d, &v) in g.iter_mut().zip(xs) {
                            *d *= act.derivative((v - m) * inv * gain + shift, fma);
                        }
                    }
                    let centred = sum_with(xs, g, |v, d| (v - m) * d);
                    (f64::from(sum(g)), f64::from(centred))
                },
            )
        })
        .collect();
    let mut totals = vec![(0.0f64, 0.0f64); p.c];
    for (i, (g, gx)) in partial.into_iter().enumerate() {
        totals[i % p.c].0 += g;
        totals[i % p.c].1 += gx;
    }
    let beta_grad: Vec<f32> = totals.iter().map(|t| t.0 as f32).collect();
    let gamma_grad: Vec<f32> = totals
        .iter()
        .enumerate()
        .map(|(ch, t)| (t.1 * f64::from(norm.channel(ch).1)) as f32)
        .collect();
    // Pass 2, per plane: the input gradient.
    let count = p.count().max(1) as f32;
    grad.par_chunks_mut(p.hw).enumerate().for_each(|(i, d)| {
        let ch = i % p.c;
        let (m, inv, gain, _) = norm.channel(ch);
        let scale = gain * inv;
        let (g_mean, gx_mean) = (beta_grad[ch] / count, gamma_grad[ch] / count);
        isa.vectorise(
            #[inline(always)]
            |_| {
                for (o, &v) in d.iter_mut().zip(&x[i * p.hw..][..p.hw]) {
                    *o = scale * (*o - g_mean - (v - m) * inv * gx_mean);
                }
            },
        );
    });
    (gamma_grad, beta_grad)
}
