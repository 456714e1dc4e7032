//! Output sizes (the crate's shared `out_len`) and valid tap ranges of a square-kernel
//! convolution, for the dense and depth-wise CPU kernels.

use std::ops::Range;

pub(super) use crate::geometry::out_len;

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
