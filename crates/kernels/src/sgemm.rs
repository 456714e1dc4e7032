//! The one call into the `gemm` crate: a single-threaded `f32` product of strided matrices,
//! under the bounds-checked fronts of the training kernels (this crate's `cpu` module) and of
//! the fused inference engine (`fdfat-infer`). `gemm` picks AVX-512, AVX2 or SSE code at run
//! time.
//!
//! ```
//! use fdfat_kernels::sgemm::{Operand, sgemm};
//!
//! // [2, 3] x [3, 1], both row-major; dst is a [2, 1] column.
//! let lhs = [1.0, 2.0, 3.0, 4.0, 5.0, 6.0];
//! let rhs = [1.0, 0.0, -1.0];
//! let mut dst = [0.0f32; 2];
//! // SAFETY: every index below `rows * rs + cols * cs` lies inside its slice.
//! unsafe {
//!     sgemm(
//!         [2, 1, 3],
//!         &mut dst,
//!         [1, 1],
//!         false,
//!         Operand { data: &lhs, rs: 3, cs: 1 },
//!         Operand { data: &rhs, rs: 1, cs: 1 },
//!     );
//! }
//! assert_eq!(dst, [-2.0, -2.0]);
//! ```

/// A strided `f32` matrix operand: element `(r, c)` at `data[r * rs + c * cs]`.
#[derive(Debug, Clone, Copy)]
pub struct Operand<'a> {
    /// The values.
    pub data: &'a [f32],
    /// Row stride.
    pub rs: usize,
    /// Column stride.
    pub cs: usize,
}

/// `dst = lhs · rhs`, or `dst += lhs · rhs` when `accumulate`, for `lhs` of `[m, k]`, `rhs` of
/// `[k, n]` and `dst` of `[m, n]` at `dst[r * rs + c * cs]` with `[rs, cs] = dst_strides`;
/// single-threaded.
///
/// # Safety
///
/// Every element the product reads or writes, at `row * rs + col * cs` for rows and columns
/// within the stated sizes, lies inside its slice, and no two elements of `dst` coincide.
pub unsafe fn sgemm(
    [m, n, k]: [usize; 3],
    dst: &mut [f32],
    [dst_rs, dst_cs]: [usize; 2],
    accumulate: bool,
    lhs: Operand,
    rhs: Operand,
) {
    // SAFETY: the caller keeps every touched element in bounds and `dst`'s elements distinct;
    // `dst` is a unique borrow, so it aliases neither operand.
    unsafe {
        gemm::gemm(
            m,
            n,
            k,
            dst.as_mut_ptr(),
            dst_cs as isize,
            dst_rs as isize,
            accumulate,
            lhs.data.as_ptr(),
            lhs.cs as isize,
            lhs.rs as isize,
            rhs.data.as_ptr(),
            rhs.cs as isize,
            rhs.rs as isize,
            1.0,
            1.0,
            false,
            false,
            false,
            gemm::Parallelism::None,
        );
    }
}
