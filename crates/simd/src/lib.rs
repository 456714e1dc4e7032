//! The building blocks of fdfat's hand-written CPU kernels, shared by the inference engine
//! (`fdfat-infer`) and the training kernels (`fdfat-kernels`): [`F32x16`], 16 `f32` lanes in the
//! registers an instruction set has, and [`Isa`] with [`simd_kernel!`], which compiles one
//! generic loop body for AVX-512, AVX2 + FMA and the baseline and runs the best the CPU has,
//! and [`math`], the scalar functions (`exp`, `sigmoid`) such loops vectorise.
//!
//! ```
//! use fdfat_simd::{F32x16, Isa, LANES, lanes, lanes_mut, simd_kernel};
//!
//! /// `y += a * x` over whole registers.
//! #[inline(always)]
//! fn axpy<V: F32x16>((a, x, y): (f32, &[f32], &mut [f32])) {
//!     for (x, y) in x.chunks_exact(LANES).zip(y.chunks_exact_mut(LANES)) {
//!         let sum = V::load(lanes(y)).mul_add(V::splat(a), V::load(lanes(x)));
//!         sum.store(lanes_mut(y));
//!     }
//! }
//! simd_kernel! {
//!     /// [`axpy`] for the instruction set given.
//!     fn run_axpy(args: (f32, &[f32], &mut [f32])) => axpy
//! }
//! let mut y = vec![1.0; 32];
//! run_axpy(Isa::detect(), (2.0, &vec![3.0; 32], &mut y));
//! assert!(y.iter().all(|&v| v == 7.0));
//! ```
#![warn(missing_docs)]

mod aligned;
mod isa;
mod lanes;
pub mod math;

pub use aligned::Aligned;
pub use isa::Isa;
#[cfg(target_arch = "x86_64")]
pub use lanes::{Avx2, Avx512};
pub use lanes::{F32x16, LANES, Scalar, copy_small, lanes, lanes_mut, lanes_unchecked};
