//! The flex CPU kernels: forward and backward of the operations [`crate::extension`] plugs into
//! burn, on contiguous `f32` slices, data-parallel through rayon.

pub(crate) mod dense;
pub(crate) mod depthwise;
mod geometry;
pub(crate) mod norm;
pub(crate) mod pointwise;
mod shifted;
