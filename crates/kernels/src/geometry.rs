//! Convolution geometry shared by the CPU and GPU kernels: output sizes, and the depth-wise
//! convolution's shape (a compile-time parameter of the GPU kernels).

/// Output length along an input axis of `len` for kernel `k`, `stride` and `pad` on both sides;
/// `None` when the kernel does not fit the padded input.
pub fn out_len(len: usize, k: usize, stride: usize, pad: usize) -> Option<usize> {
    (len + 2 * pad).checked_sub(k).map(|d| d / stride + 1)
}

/// Geometry of a depth-wise convolution: every input channel has its own `mult` output
/// channels (`groups == c_in`, `c_out == mult * c_in`), a square `k x k` kernel, equal strides
/// and equal padding on all sides, no dilation.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Depthwise {
    /// Batch size.
    pub n: usize,
    /// Input channels (= groups).
    pub c_in: usize,
    /// Output channels per input channel.
    pub mult: usize,
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

impl Depthwise {
    /// The geometry of input `[n, c_in, h, w]` and weight `[c_in * mult, 1, k, k]`.
    pub fn new(x: [usize; 4], weight: [usize; 4], stride: usize, pad: usize) -> Self {
        let [n, c_in, h, w] = x;
        let [c_out, _, k, _] = weight;
        Self {
            n,
            c_in,
            mult: c_out / c_in.max(1),
            h,
            w,
            k,
            stride,
            pad,
        }
    }

    /// Output channels.
    pub fn c_out(&self) -> usize {
        self.c_in * self.mult
    }

    /// Output height and width; `None` when the kernel does not fit the padded input.
    pub fn out_hw(&self) -> Option<(usize, usize)> {
        let span = |len| out_len(len, self.k, self.stride, self.pad);
        Some((span(self.h)?, span(self.w)?))
    }
}
