//! The engine's layers. Matrix products (1x1 convolutions, linear layers, and wide kxk
//! convolutions after im2col) go to the `gemm` crate, which packs its operands and picks its
//! AVX2 / SSE micro-kernels at run time. The rest is hand-written against 16-lane registers
//! (`simd`), because no crate fuses what it needs: the stem reads the NCHW input and writes
//! NHWC with BatchNorm and activation applied; the depth-wise convolution keeps a 3x3 kernel's
//! weights in registers while the pixels stream by (a depth-wise layer is no matrix product);
//! narrow kxk convolutions (at most 32 output channels, the CSP bottlenecks at 48x48) run
//! directly on the NHWC map, since gathering their windows costs more than their arithmetic;
//! epilogues add the bias (and the residual) and apply the activation while each row is in
//! cache; global pools write straight into the feature vector.

mod dense;
mod depthwise;
mod direct;
mod epilogue;
mod gemm;
mod pool;
mod stem;

pub use dense::{Dense, Pointwise, Residual};
pub use depthwise::Depthwise;
pub use direct::{DIRECT_MAX_CHANNELS, Direct};
pub use gemm::Strided;
pub use pool::{GlobalPool, PoolKind};
pub use stem::{STEM_TAPS, Stem};

/// One image of a layer `Op`: the op, the image's input values and where its output goes.
struct Image<'a, Op> {
    op: &'a Op,
    src: &'a [f32],
    dst: &'a mut [f32],
}

impl<'a, Op> Image<'a, Op> {
    /// The first `n` images of `src` (`image_in` values each), each paired with its
    /// `image_out` values of `dst`.
    fn each(
        op: &'a Op,
        n: usize,
        (src, image_in): (&'a [f32], usize),
        (dst, image_out): (&'a mut [f32], usize),
    ) -> impl Iterator<Item = Image<'a, Op>> {
        assert!(src.len() >= n * image_in && dst.len() >= n * image_out);
        src.chunks_exact(image_in)
            .zip(dst.chunks_exact_mut(image_out))
            .take(n)
            .map(move |(src, dst)| Image { op, src, dst })
    }
}

/// A square convolution window.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Window {
    /// Kernel side.
    pub kernel: usize,
    /// Stride.
    pub stride: usize,
    /// Zero padding on every side.
    pub pad: usize,
}

impl Window {
    /// Output size along an axis of `size` input pixels; `None` when the window does not fit.
    pub fn out(&self, size: usize) -> Option<usize> {
        (size + 2 * self.pad)
            .checked_sub(self.kernel)
            .map(|span| span / self.stride + 1)
    }

    /// The kernel taps `lo..hi` that land inside an input axis of `size` pixels for output
    /// position `o`.
    #[inline(always)]
    fn taps(&self, o: usize, size: usize) -> (usize, usize) {
        let start = o * self.stride;
        let lo = self.pad.saturating_sub(start);
        let hi = (size + self.pad - start).min(self.kernel);
        (lo, hi)
    }

    /// The output positions `lo..hi` along an axis of `size` input pixels whose windows lie
    /// wholly inside the input, for an output axis of `out` positions.
    fn interior(&self, out: usize, size: usize) -> std::ops::Range<usize> {
        let lo = self.pad.div_ceil(self.stride);
        let hi = (size + self.pad + 1)
            .checked_sub(self.kernel)
            .map_or(0, |span| span.div_ceil(self.stride));
        lo.min(out)..hi.min(out).max(lo.min(out))
    }

    /// The input position of tap `t` for output position `o` (the tap must be inside).
    #[inline(always)]
    fn input(&self, o: usize, t: usize) -> usize {
        o * self.stride + t - self.pad
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn window_taps_stay_inside() {
        let w = Window {
            kernel: 3,
            stride: 2,
            pad: 1,
        };
        assert_eq!(w.out(96), Some(48));
        assert_eq!(w.out(5), Some(3));
        assert_eq!(w.taps(0, 96), (1, 3));
        assert_eq!(w.taps(47, 96), (0, 3));
        assert_eq!(w.input(0, 1), 0);
        let w = Window {
            kernel: 3,
            stride: 1,
            pad: 1,
        };
        assert_eq!(w.taps(5, 6), (0, 2));
        assert_eq!(w.taps(2, 6), (0, 3));
        assert_eq!(
            Window {
                kernel: 5,
                stride: 1,
                pad: 0
            }
            .out(3),
            None
        );
    }

    #[test]
    fn interior_windows_need_no_padding() {
        for (kernel, stride, pad, size) in
            [(3, 2, 1, 96), (3, 1, 1, 24), (3, 2, 1, 7), (3, 1, 1, 1)]
        {
            let w = Window {
                kernel,
                stride,
                pad,
            };
            let out = w.out(size).unwrap();
            let inner = w.interior(out, size);
            for o in 0..out {
                let whole = w.taps(o, size) == (0, kernel);
                assert_eq!(inner.contains(&o), whole, "{w:?} on {size}: output {o}");
            }
        }
    }
}
