//! A bounds-checked front to the `gemm` crate's single-threaded f32 matrix product.

use fdfat_kernels::sgemm::{Operand, sgemm};

/// A row-major matrix of `rows x cols` inside `data`, row `r` starting at `r * stride`.
#[derive(Debug, Clone, Copy)]
pub struct Strided {
    /// Rows.
    pub rows: usize,
    /// Columns.
    pub cols: usize,
    /// Distance between the starts of two rows.
    pub stride: usize,
}

impl Strided {
    /// Values a slice must have to hold the matrix.
    fn extent(&self) -> usize {
        match self.rows {
            0 => 0,
            r => (r - 1) * self.stride + self.cols,
        }
    }
}

/// `dst = lhs * rhs`, or `dst += lhs * rhs` when `accumulate`, with `rhs` a dense
/// `lhs.cols x dst.cols` row-major matrix.
///
/// # Panics
///
/// When the shapes disagree or a slice is too short for its matrix (a bug in the plan).
pub fn matmul(
    lhs: &[f32],
    lhs_shape: Strided,
    rhs: &[f32],
    dst: &mut [f32],
    dst_shape: Strided,
    accumulate: bool,
) {
    let (m, k, n) = (lhs_shape.rows, lhs_shape.cols, dst_shape.cols);
    assert_eq!(dst_shape.rows, m, "matmul: row counts differ");
    assert_eq!(rhs.len(), k * n, "matmul: weight size");
    assert!(lhs.len() >= lhs_shape.extent(), "matmul: input too short");
    assert!(dst.len() >= dst_shape.extent(), "matmul: output too short");
    assert!(
        lhs_shape.stride >= k && dst_shape.stride >= n,
        "matmul: overlapping rows"
    );
    if m == 0 || n == 0 {
        return;
    }
    // SAFETY: the asserts above keep every element the product reads (`lhs` rows of `k`
    // values, `rhs` of `k x n`) and writes (`dst` rows of `n` values) inside the slices, and
    // `dst` is a unique borrow, so it aliases neither operand.
    unsafe {
        sgemm(
            [m, n, k],
            dst,
            [dst_shape.stride, 1],
            accumulate,
            Operand {
                data: lhs,
                rs: lhs_shape.stride,
                cs: 1,
            },
            Operand {
                data: rhs,
                rs: n,
                cs: 1,
            },
        );
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn strided_product_and_accumulation() {
        // lhs 2x3 in rows of stride 4, rhs 3x2, dst 2x2 in rows of stride 3
        let lhs = [1.0, 2.0, 3.0, 99.0, 4.0, 5.0, 6.0];
        let rhs = [1.0, 0.5, 0.0, 1.0, -1.0, 2.0];
        let mut dst = [10.0, 20.0, 7.0, 30.0, 40.0];
        let l = Strided {
            rows: 2,
            cols: 3,
            stride: 4,
        };
        let d = Strided {
            rows: 2,
            cols: 2,
            stride: 3,
        };
        matmul(&lhs, l, &rhs, &mut dst, d, true);
        // row 0: [1 - 3, 0.5 + 2 + 6] = [-2, 8.5]; row 1: [4 - 6, 2 + 5 + 12] = [-2, 19]
        assert_eq!(dst, [8.0, 28.5, 7.0, 28.0, 59.0]);
        matmul(&lhs, l, &rhs, &mut dst, d, false);
        assert_eq!(dst, [-2.0, 8.5, 7.0, -2.0, 19.0]);
    }
}
