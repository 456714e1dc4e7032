//! The activations applied in the kernels' epilogues, written as branch-free f32 arithmetic
//! (`fdfat_simd::math`'s polynomial `exp` instead of the C library's) so that the loops over a
//! row of channels vectorise.

use super::kernels::Strided;
use fdfat_simd::{F32x16, math};

/// An element-wise function applied to a layer's output before it is stored.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Act {
    /// No activation (linear layers, the IdentifyBlock squeeze).
    Identity,
    /// `max(x, 0)`.
    Relu,
    /// `min(max(x, 0), 6)`.
    Relu6,
    /// `x` for `x >= 0`, else `slope * x`.
    LeakyRelu(f32),
    /// `x` for `x >= 0`, else `alpha * x` (one learnt slope).
    Prelu(f32),
    /// `x * sigmoid(x)`.
    Silu,
    /// `x * min(max(x / 6 + 0.5, 0), 1)`.
    Hardswish,
    /// `0.5 x (1 + erf(x / sqrt 2))`.
    Gelu,
    /// `tanh(x)`.
    Tanh,
    /// `1 / (1 + exp(-x))`.
    Sigmoid,
    /// `x * tanh(softplus(x))`.
    Mish,
}

/// Runs `$body` with `$f` bound to the activation's scalar function, one match arm per
/// function so that each loop is compiled (and vectorised) for its function; `$fma` says
/// whether the frame has fused multiply-add (see `fdfat_simd::math`).
macro_rules! with_fn {
    ($act:expr, $fma:expr, $f:ident => $body:expr) => {
        match $act {
            Act::Identity => {
                let $f = |x: f32| x;
                $body
            }
            Act::Relu => {
                let $f = |x: f32| x.max(0.0);
                $body
            }
            Act::Relu6 => {
                let $f = |x: f32| x.clamp(0.0, 6.0);
                $body
            }
            Act::LeakyRelu(a) | Act::Prelu(a) => {
                let $f = |x: f32| if x >= 0.0 { x } else { a * x };
                $body
            }
            Act::Silu => {
                let $f = |x: f32| math::silu(x, $fma);
                $body
            }
            Act::Hardswish => {
                let $f = |x: f32| x * (x / 6.0 + 0.5).clamp(0.0, 1.0);
                $body
            }
            Act::Gelu => {
                let $f = |x: f32| gelu(x, $fma);
                $body
            }
            Act::Tanh => {
                let $f = |x: f32| tanh(x, $fma);
                $body
            }
            Act::Sigmoid => {
                let $f = |x: f32| math::sigmoid(x, $fma);
                $body
            }
            Act::Mish => {
                let $f = |x: f32| mish(x, $fma);
                $body
            }
        }
    };
}

impl Act {
    /// `x = f(x + bias)` on each row of `dst` (`bias` one value per column, or none), compiled
    /// for the frame of instruction set `V`.
    #[inline(always)]
    pub fn rows<V: F32x16>(self, dst: &mut [f32], shape: Strided, bias: Option<&[f32]>) {
        let Strided { rows, cols, stride } = shape;
        if bias.is_none() && stride == cols {
            // contiguous rows: one pass over all of them
            let all = &mut dst[..rows * cols];
            return with_fn!(self, V::FMA, f => each(all, f));
        }
        with_fn!(self, V::FMA, f => for r in 0..rows {
            let row = &mut dst[r * stride..r * stride + cols];
            match bias {
                Some(bias) => {
                    for (x, b) in row.iter_mut().zip(&bias[..cols]) {
                        *x = f(*x + b);
                    }
                }
                None => each(row, f),
            }
        })
    }
}

/// `x = f(x)` on every value, in fixed-size chunks of 64, 16 and 8 values, which compile to
/// straight vector code: a plain loop over 36,864 values ran 25% slower than one per 16-value
/// row, and one over 8 values ran scalar.
#[inline(always)]
fn each(values: &mut [f32], f: impl Fn(f32) -> f32) {
    let mut long = values.chunks_exact_mut(64);
    for chunk in &mut long {
        chunk.iter_mut().for_each(|x| *x = f(*x));
    }
    let mut wide = long.into_remainder().chunks_exact_mut(16);
    for chunk in &mut wide {
        chunk.iter_mut().for_each(|x| *x = f(*x));
    }
    let mut narrow = wide.into_remainder().chunks_exact_mut(8);
    for chunk in &mut narrow {
        chunk.iter_mut().for_each(|x| *x = f(*x));
    }
    narrow.into_remainder().iter_mut().for_each(|x| *x = f(*x));
}

/// `tanh(x)` as `1 - 2 / (e^2|x| + 1)` with the sign of `x` (absolute error below 1e-7).
#[inline(always)]
fn tanh(x: f32, fma: bool) -> f32 {
    let t = 1.0 - 2.0 / (math::exp(2.0 * x.abs(), fma) + 1.0);
    t.copysign(x)
}

/// `x * tanh(ln(1 + e^x))`, with `tanh(ln(1 + e)) = (e^2 + 2e) / (e^2 + 2e + 2)`; `x` itself
/// once that ratio is 1 in f32.
#[inline(always)]
fn mish(x: f32, fma: bool) -> f32 {
    let e = math::exp(x.min(20.0), fma);
    let n = e * (e + 2.0);
    if x > 20.0 { x } else { x * n / (n + 2.0) }
}

/// GELU with the error function of Abramowitz and Stegun 7.1.26 (absolute error 1.5e-7).
#[inline(always)]
fn gelu(x: f32, fma: bool) -> f32 {
    let z = (x * std::f32::consts::FRAC_1_SQRT_2).abs();
    let t = 1.0 / (1.0 + 0.327_591_1 * z);
    let poly = t
        * (0.254_829_6
            + t * (-0.284_496_74 + t * (1.421_413_7 + t * (-1.453_152_1 + t * 1.061_405_4))));
    let erf = (1.0 - poly * math::exp(-z * z, fma)).copysign(x);
    0.5 * x * (1.0 + erf)
}

#[cfg(test)]
mod tests {
    use super::*;
    use fdfat_simd::Scalar;

    fn one_row(cols: usize) -> Strided {
        Strided {
            rows: 1,
            cols,
            stride: cols,
        }
    }

    #[test]
    fn bias_goes_before_the_function_on_strided_rows() {
        let mut xs = [-1.0, 2.0, 99.0, 3.0, -4.0, 99.0];
        let shape = Strided {
            rows: 2,
            cols: 2,
            stride: 3,
        };
        Act::Relu.rows::<Scalar>(&mut xs, shape, Some(&[2.0, -2.5]));
        assert_eq!(xs, [1.0, 0.0, 99.0, 5.0, 0.0, 99.0]);
    }

    #[test]
    fn functions_match_their_definitions() {
        let acts = [
            (Act::Identity, (|x| x) as fn(f64) -> f64),
            (Act::Relu, |x| x.max(0.0)),
            (Act::Relu6, |x| x.clamp(0.0, 6.0)),
            (
                Act::LeakyRelu(0.01),
                |x| if x >= 0.0 { x } else { 0.01 * x },
            ),
            (Act::Prelu(0.25), |x| if x >= 0.0 { x } else { 0.25 * x }),
            (Act::Silu, |x| x / (1.0 + (-x).exp())),
            (Act::Hardswish, |x| x * (x / 6.0 + 0.5).clamp(0.0, 1.0)),
            (Act::Gelu, |x| {
                // erf by its Taylor series, exact enough on |x| <= 3 / sqrt 2
                let z = x / std::f64::consts::SQRT_2;
                let mut term = z;
                let mut sum = z;
                for n in 1..80 {
                    term *= -z * z / n as f64;
                    sum += term / (2 * n + 1) as f64;
                }
                0.5 * x * (1.0 + 2.0 / std::f64::consts::PI.sqrt() * sum)
            }),
            (Act::Tanh, f64::tanh),
            (Act::Sigmoid, |x| 1.0 / (1.0 + (-x).exp())),
            (Act::Mish, |x| x * x.exp().ln_1p().tanh()),
        ];
        let xs: Vec<f32> = (-300..=300).map(|i| i as f32 * 0.01).collect();
        for (act, reference) in acts {
            let mut ys = xs.clone();
            act.rows::<Scalar>(&mut ys, one_row(xs.len()), None);
            for (&x, &y) in xs.iter().zip(&ys) {
                let want = reference(f64::from(x));
                assert!(
                    (f64::from(y) - want).abs() < 1e-6,
                    "{act:?}({x}) = {y}, expected {want}"
                );
            }
        }
        let mut big = [-100.0, 100.0];
        Act::Mish.rows::<Scalar>(&mut big, one_row(2), None);
        assert!(big[0].abs() < 1e-30 && big[1] == 100.0, "{big:?}");
    }
}
