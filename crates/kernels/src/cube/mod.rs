//! The GPU kernels, for burn's CubeCL backend (every cubecl runtime: wgpu, CUDA): the CubeCL
//! kernels (`kernels`), their launches on cube tensors (`launch`), and [`TrainKernels`] and
//! [`TrainGrads`] on `CubeBackend` (`backend`). Under burn's `fusion` the generated
//! implementations for `Fusion<CubeBackend>` run them lazily, as fused streams do.
//!
//! [`TrainKernels`]: crate::extension::TrainKernels
//! [`TrainGrads`]: crate::extension::TrainGrads

mod backend;
mod kernels;
mod launch;
