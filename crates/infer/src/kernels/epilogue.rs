//! What follows a matrix product: the bias and activation applied to each output row as it
//! sits in cache, or, for a residual block's linear squeeze, the bias plus the block input
//! (2x2 max-pooled at stride 2) written first for the product to accumulate onto.

use super::gemm::Strided;
use crate::activation::Act;
use fdfat_simd::{F32x16, simd_kernel};

/// Rows of a layer output with their bias and activation.
pub struct BiasAct<'a> {
    /// The output, row `r` at `r * shape.stride`.
    pub dst: &'a mut [f32],
    /// Its rows, columns (output channels) and row stride.
    pub shape: Strided,
    /// One value per column.
    pub bias: &'a [f32],
    /// Applied after the bias.
    pub act: Act,
}

simd_kernel! {
    /// `x = act(x + bias)` on every row.
    pub fn bias_act(args: BiasAct<'_>) => bias_act_body
}

#[inline(always)]
fn bias_act_body<V: F32x16>(a: BiasAct<'_>) {
    a.act.rows::<V>(a.dst, a.shape, Some(a.bias));
}

/// The residual to write under a block's output before its last product accumulates.
pub struct Prefill<'a> {
    /// The output of one image, pixel `p` at `p * dst_stride`.
    pub dst: &'a mut [f32],
    /// Distance between two output pixels.
    pub dst_stride: usize,
    /// Output rows and columns.
    pub out: (usize, usize),
    /// Output channels; one bias each.
    pub bias: &'a [f32],
    /// The block input of the same image, pixel `p` at `p * skip_stride`.
    pub skip: &'a [f32],
    /// Distance between two input pixels.
    pub skip_stride: usize,
    /// Input columns when the input is 2x2 max-pooled (twice the output size), else `None`.
    pub pooled_width: Option<usize>,
}

simd_kernel! {
    /// `dst = bias + skip` per pixel, through a 2x2 stride-2 max pool when asked.
    pub fn prefill(args: Prefill<'_>) => prefill_body
}

#[inline(always)]
// `V` picks the instruction set `simd_kernel!` compiles this auto-vectorised body for
#[allow(clippy::extra_unused_type_parameters)]
fn prefill_body<V: F32x16>(a: Prefill<'_>) {
    let c = a.bias.len();
    let (oh, ow) = a.out;
    for oy in 0..oh {
        for ox in 0..ow {
            let out = &mut a.dst[(oy * ow + ox) * a.dst_stride..][..c];
            match a.pooled_width {
                None => {
                    let skip = &a.skip[(oy * ow + ox) * a.skip_stride..][..c];
                    for ((o, b), s) in out.iter_mut().zip(a.bias).zip(skip) {
                        *o = b + s;
                    }
                }
                Some(iw) => {
                    let at = |y: usize, x: usize| &a.skip[(y * iw + x) * a.skip_stride..][..c];
                    let (p00, p01) = (at(2 * oy, 2 * ox), at(2 * oy, 2 * ox + 1));
                    let (p10, p11) = (at(2 * oy + 1, 2 * ox), at(2 * oy + 1, 2 * ox + 1));
                    for j in 0..c {
                        out[j] = a.bias[j] + p00[j].max(p01[j]).max(p10[j].max(p11[j]));
                    }
                }
            }
        }
    }
}
