//! The one call into the `gemm` crate: a single-threaded `f32` product of strided matrices,
//! under the bounds-checked fronts of the fused engine and the training kernels.

/// A strided `f32` matrix operand: element `(r, c)` at `data[r * rs + c * cs]`.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Operand<'a> {
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
pub(crate) unsafe fn sgemm(
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
