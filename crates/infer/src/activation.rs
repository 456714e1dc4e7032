//! The activations applied in the kernels' epilogues, written as branch-free f32 arithmetic
//! (a polynomial `exp` instead of the C library's) so that the loops over a row of channels
//! vectorise.

use super::kernels::Strided;

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
/// function so that each loop is compiled (and vectorised) for its function.
macro_rules! with_fn {
    ($act:expr, $f:ident => $body:expr) => {
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
                let $f = |x: f32| x * sigmoid(x);
                $body
            }
            Act::Hardswish => {
                let $f = |x: f32| x * (x / 6.0 + 0.5).clamp(0.0, 1.0);
                $body
            }
            Act::Gelu => {
                let $f = gelu;
                $body
            }
            Act::Tanh => {
                let $f = tanh;
                $body
            }
            Act::Sigmoid => {
                let $f = sigmoid;
                $body
            }
            Act::Mish => {
                let $f = mish;
                $body
            }
        }
    };
}

impl Act {
    /// `x = f(x + bias)` on each row of `dst` (`bias` one value per column, or none).
    #[inline(always)]
    pub fn rows(self, dst: &mut [f32], shape: Strided, bias: Option<&[f32]>) {
        let Strided { rows, cols, stride } = shape;
        if bias.is_none() && stride == cols {
            // contiguous rows: one pass over all of them
            let all = &mut dst[..rows * cols];
            return with_fn!(self, f => each(all, f));
        }
        with_fn!(self, f => for r in 0..rows {
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

/// Adds 2^23 + 2^22 and subtracts it again: rounds to the nearest integer for |x| < 2^22.
const ROUNDER: f32 = 12_582_912.0;

/// `e^x` within 2 ulp for x in [-87, 88]; clamped outside (no infinities or denormals).
/// Integer steps use wrapping bit arithmetic (no saturating float-to-int conversion), so
/// loops over it vectorise.
#[inline(always)]
pub fn exp(x: f32) -> f32 {
    const LN2_HI: f32 = 0.693_359_4;
    const LN2_LO: f32 = -2.121_944_4e-4;
    let x = x.clamp(-87.0, 88.0);
    // t = ROUNDER + n with n = round(x / ln 2): n sits in the low bits of t's mantissa
    let t = x * std::f32::consts::LOG2_E + ROUNDER;
    let n = t - ROUNDER;
    let r = x - n * LN2_HI - n * LN2_LO;
    // Cephes expf minimax polynomial for e^r - 1 - r on |r| <= ln2 / 2.
    let p = 1.987_569_2e-4;
    let p = p * r + 1.398_199_9e-3;
    let p = p * r + 8.333_452e-3;
    let p = p * r + 4.166_579_6e-2;
    let p = p * r + 1.666_666_5e-1;
    let p = p * r + 0.5;
    let e = p * (r * r) + r + 1.0;
    let biased = t
        .to_bits()
        .wrapping_sub(ROUNDER.to_bits())
        .wrapping_add(127);
    e * f32::from_bits(biased << 23)
}

/// `1 / (1 + e^-x)`.
#[inline(always)]
pub fn sigmoid(x: f32) -> f32 {
    1.0 / (1.0 + exp(-x))
}

/// `tanh(x)` as `1 - 2 / (e^2|x| + 1)` with the sign of `x` (absolute error below 1e-7).
#[inline(always)]
pub fn tanh(x: f32) -> f32 {
    let t = 1.0 - 2.0 / (exp(2.0 * x.abs()) + 1.0);
    t.copysign(x)
}

/// `x * tanh(ln(1 + e^x))`, with `tanh(ln(1 + e)) = (e^2 + 2e) / (e^2 + 2e + 2)`; `x` itself
/// once that ratio is 1 in f32.
#[inline(always)]
fn mish(x: f32) -> f32 {
    let e = exp(x.min(20.0));
    let n = e * (e + 2.0);
    if x > 20.0 { x } else { x * n / (n + 2.0) }
}

/// GELU with the error function of Abramowitz and Stegun 7.1.26 (absolute error 1.5e-7).
#[inline(always)]
fn gelu(x: f32) -> f32 {
    let z = (x * std::f32::consts::FRAC_1_SQRT_2).abs();
    let t = 1.0 / (1.0 + 0.327_591_1 * z);
    let poly = t
        * (0.254_829_6
            + t * (-0.284_496_74 + t * (1.421_413_7 + t * (-1.453_152_1 + t * 1.061_405_4))));
    let erf = (1.0 - poly * exp(-z * z)).copysign(x);
    0.5 * x * (1.0 + erf)
}

#[cfg(test)]
mod tests {
    use super::*;

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
        Act::Relu.rows(&mut xs, shape, Some(&[2.0, -2.5]));
        assert_eq!(xs, [1.0, 0.0, 99.0, 5.0, 0.0, 99.0]);
    }

    #[test]
    fn exp_is_accurate_over_the_range() {
        let mut worst = 0.0f64;
        for i in -8700..=8800 {
            let x = i as f32 * 0.01;
            let want = f64::from(x).exp();
            let rel = ((f64::from(exp(x)) - want) / want).abs();
            worst = worst.max(rel);
        }
        assert!(worst < 3e-7, "worst relative error {worst:e}");
        assert_eq!(exp(-1000.0), (-87.0f32).exp());
        assert!(exp(1000.0).is_finite());
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
            act.rows(&mut ys, one_row(xs.len()), None);
            for (&x, &y) in xs.iter().zip(&ys) {
                let want = reference(f64::from(x));
                assert!(
                    (f64::from(y) - want).abs() < 1e-6,
                    "{act:?}({x}) = {y}, expected {want}"
                );
            }
        }
        let mut big = [-100.0, 100.0];
        Act::Mish.rows(&mut big, one_row(2), None);
        assert!(big[0].abs() < 1e-30 && big[1] == 100.0, "{big:?}");
    }
}
