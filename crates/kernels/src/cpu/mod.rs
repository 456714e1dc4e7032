//! The flex CPU kernels: forward and backward of the operations the crate plugs into burn, on
//! contiguous `f32` slices, data-parallel through rayon, and their backend-extension
//! implementations (`backend`).

pub(crate) mod backend;
mod channels;
pub(crate) mod dense;
pub(crate) mod depthwise;
mod direct;
mod geometry;
pub(crate) mod norm;
pub(crate) mod pointwise;
mod shifted;
