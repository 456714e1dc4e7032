//! Dense convolutions as matrix products over NHWC maps: a 1x1 convolution (or a linear layer,
//! on `1 x 1` maps) multiplies the `pixels x c_in` input by the `c_in x c_out` weights
//! directly; a kxk one first gathers each output pixel's window into a row (im2col).

use super::Window;
use super::epilogue::{BiasAct, Prefill, bias_act, prefill};
use super::gemm::{Strided, matmul};
use crate::activation::Act;
use crate::plan::View;
use fdfat_simd::{F32x16, Isa, copy_small, simd_kernel};

/// The input of a residual block, added to the output of its last 1x1 convolution.
#[derive(Debug, Clone, Copy)]
pub struct Residual {
    /// The block input.
    pub src: View,
    /// Whether it goes through a 2x2 stride-2 max pool first.
    pub pool: bool,
}

/// A 1x1 stride-1 convolution or a linear layer, BatchNorm folded.
#[derive(Debug)]
pub struct Pointwise {
    /// `[c_in][c_out]`, row-major.
    pub weight: Vec<f32>,
    /// One per output channel.
    pub bias: Vec<f32>,
    /// Applied to the output (identity when there is a residual).
    pub act: Act,
    /// Input channels.
    pub src: View,
    /// Output channels.
    pub dst: View,
    /// Added to the output.
    pub residual: Option<Residual>,
}

impl Pointwise {
    /// Computes `n` images: `src` and `skip` hold the input and residual values, `dst` the
    /// output value.
    pub fn run(&self, isa: Isa, n: usize, src: &[f32], skip: Option<&[f32]>, dst: &mut [f32]) {
        let rows = n * self.dst.shape.pixels();
        let dst_shape = Strided {
            rows,
            cols: self.dst.channels,
            stride: self.dst.shape.c,
        };
        let src_shape = Strided {
            rows,
            cols: self.src.channels,
            stride: self.src.shape.c,
        };
        let out = &mut dst[self.dst.offset..];
        let residual = self.residual.as_ref().zip(skip);
        if let Some((r, skip)) = residual {
            let (image, skip_image) = (self.dst.shape.len(), r.src.shape.len());
            for b in 0..n {
                prefill(
                    isa,
                    Prefill {
                        dst: &mut out[b * image..],
                        dst_stride: self.dst.shape.c,
                        out: (self.dst.shape.h, self.dst.shape.w),
                        bias: &self.bias,
                        skip: &skip[b * skip_image + r.src.offset..],
                        skip_stride: r.src.shape.c,
                        pooled_width: r.pool.then_some(r.src.shape.w),
                    },
                );
            }
        }
        matmul(
            &src[self.src.offset..],
            src_shape,
            &self.weight,
            out,
            dst_shape,
            residual.is_some(),
        );
        if residual.is_none() {
            let args = BiasAct {
                dst: out,
                shape: dst_shape,
                bias: &self.bias,
                act: self.act,
            };
            bias_act(isa, args);
        }
    }
}

/// Values of an im2col chunk: 24 Ki floats (96 KiB), so that the chunk stays in the L2
/// cache between being written and being multiplied.
const CHUNK_VALUES: usize = 24 * 1024;

/// Fewest output pixels per chunk, so that each product stays large enough to be efficient.
const MIN_CHUNK_ROWS: usize = 64;

/// A dense kxk convolution (im2col, then a matrix product), BatchNorm folded. The output
/// pixels go in chunks: each chunk's windows are gathered into rows and multiplied while they
/// are still in cache.
#[derive(Debug)]
pub struct Dense {
    /// Kernel, stride and padding.
    pub window: Window,
    /// `[ky][kx][c_in][c_out]`, row-major: one row per im2col column.
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

impl Dense {
    /// Length of one im2col row.
    fn row_len(&self) -> usize {
        self.window.kernel * self.window.kernel * self.src.channels
    }

    /// Output pixels per chunk.
    fn chunk_rows(&self) -> usize {
        (CHUNK_VALUES / self.row_len())
            .max(MIN_CHUNK_ROWS)
            .min(self.dst.shape.pixels())
    }

    /// Values of the im2col buffer the step needs.
    pub fn scratch_len(&self) -> usize {
        self.chunk_rows() * self.row_len()
    }

    /// Computes `n` images from the input value `src` into the output value `dst`, with
    /// `scratch` (at least `scratch_len()` values) for the im2col chunks.
    pub fn run(&self, isa: Isa, n: usize, src: &[f32], scratch: &mut [f32], dst: &mut [f32]) {
        let (image_in, pixels) = (self.src.shape.len(), self.dst.shape.pixels());
        let (chunk, row_len) = (self.chunk_rows(), self.row_len());
        for b in 0..n {
            let image = &src[b * image_in..(b + 1) * image_in];
            for first in (0..pixels).step_by(chunk) {
                let rows = chunk.min(pixels - first);
                let col = &mut scratch[..rows * row_len];
                let args = Gather {
                    op: self,
                    src: image,
                    first,
                    col,
                };
                im2col(isa, args);
                let col_shape = Strided {
                    rows,
                    cols: row_len,
                    stride: row_len,
                };
                let dst_shape = Strided {
                    rows,
                    cols: self.dst.channels,
                    stride: self.dst.shape.c,
                };
                let at = (b * pixels + first) * self.dst.shape.c + self.dst.offset;
                let out = &mut dst[at..];
                matmul(
                    &scratch[..rows * row_len],
                    col_shape,
                    &self.weight,
                    out,
                    dst_shape,
                    false,
                );
                let args = BiasAct {
                    dst: out,
                    shape: dst_shape,
                    bias: &self.bias,
                    act: self.act,
                };
                bias_act(isa, args);
            }
        }
    }
}

/// The im2col rows of output pixels `first..first + col.len() / row_len` of one image.
struct Gather<'a> {
    op: &'a Dense,
    src: &'a [f32],
    first: usize,
    col: &'a mut [f32],
}

simd_kernel! {
    /// Writes each output pixel's window as a row of `col`, zeros where the window leaves
    /// the image.
    fn im2col(args: Gather<'_>) => im2col_body
}

#[inline(always)]
fn im2col_body<V: F32x16>(a: Gather<'_>) {
    let op = a.op;
    let (win, si, c) = (op.window, op.src.shape, op.src.channels);
    let k = win.kernel;
    let (row_len, ow) = (op.row_len(), op.dst.shape.w);
    for (p, row) in (a.first..).zip(a.col.chunks_exact_mut(row_len)) {
        let (oy, ox) = (p / ow, p % ow);
        let (ky0, ky1) = win.taps(oy, si.h);
        let (kx0, kx1) = win.taps(ox, si.w);
        for (ky, taps) in row.chunks_exact_mut(k * c).enumerate() {
            if !(ky0..ky1).contains(&ky) {
                taps.fill(0.0);
                continue;
            }
            let iy = win.input(oy, ky);
            taps[..kx0 * c].fill(0.0);
            taps[kx1 * c..].fill(0.0);
            for kx in kx0..kx1 {
                let at = (iy * si.w + win.input(ox, kx)) * si.c + op.src.offset;
                copy_small::<V>(&mut taps[kx * c..(kx + 1) * c], &a.src[at..at + c]);
            }
        }
    }
}
