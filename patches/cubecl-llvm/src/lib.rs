//! Offline stand-in for `cubecl-llvm` 0.11.3: the items `cubecl-cuda` 0.11.3 names, and nothing
//! of LLVM.
//!
//! `cubecl-cuda` always compiles both of its kernel compilers, NVRTC (CUDA C++) and LLVM (NVPTX),
//! and runs the one its `cpp` feature selects (cubecl's `cuda-cpp`). With that feature on it
//! reaches this crate only for [`nvptx::ptx_version::PtxVersion::for_driver`], a table lookup kept
//! here as in the real crate. Everything that would lower a kernel through LLVM fails with
//! [`LLVM_UNAVAILABLE`] instead: [`PlironCompiler`]'s `compile` returns a compilation error and
//! [`shared::lowered_features::restrict_features`] (the runtime calls it at device start when the
//! LLVM compiler is selected) panics, so a build without `cuda-cpp` stops at its first CUDA
//! device rather than running with kernels that cannot compile.

#[cfg(not(feature = "nvptx"))]
compile_error!(
    "patches/cubecl-llvm is an offline stand-in that provides only the NVPTX items cubecl-cuda \
     uses (feature `nvptx`); cubecl-cpu and cubecl-hip need the real cubecl-llvm: remove the \
     `[patch.crates-io]` entry to build them"
);
#[cfg(feature = "amdgpu")]
compile_error!(
    "patches/cubecl-llvm is an offline stand-in without the AMDGPU backend cubecl-hip needs: \
     remove the `[patch.crates-io]` entry to build it"
);

pub mod nvptx;
pub mod shared;
pub mod target;

pub use shared::{NvptxModule, PlironArtifact, PlironCompiler, PlironOptions};
pub use target::LlvmTarget;

/// Why every LLVM entry point of this crate fails.
pub const LLVM_UNAVAILABLE: &str = "this build has no LLVM kernel compiler: cubecl-llvm is \
    fdfat's offline stand-in (patches/cubecl-llvm), so CUDA kernels compile only through NVRTC. \
    cubecl-cuda selected its LLVM compiler because cubecl's `cuda-cpp` feature is off; build with \
    fdfat's `cuda` feature (`cargo build --features cuda`), which turns it on";
