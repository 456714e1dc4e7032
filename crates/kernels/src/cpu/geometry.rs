//! Output sizes and valid tap ranges of a square-kernel convolution, shared by the dense and
//! depth-wise kernels.

use std::ops::Range;

/// Output length along an input axis of `len` for kernel `k`, `stride` and `pad` on both sides;
/// `None` when the kernel does not fit the padded input.
pub(super) fn out_len(len: usize, k: usize, stride: usize, pad: usize) -> Option<usize> {
    (len + 2 * pad).checked_sub(k).map(|d| d / stride + 1)
}

/// The output positions `o` whose input position `o * stride + tap - pad` lies in `0..len`, as
/// a range within `0..out`.
pub(super) fn valid(tap: usize, len: usize, out: usize, stride: usize, pad: usize) -> Range<usize> {
    let first = pad.saturating_sub(tap).div_ceil(stride).min(out);
    let end = if len + pad > tap {
        ((len + pad - tap - 1) / stride + 1).min(out)
    } else {
        0
    };
    first..end.max(first)
}
