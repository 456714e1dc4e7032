//! Stride-1 dense convolution without im2col: each sample's planes are copied once into
//! zero-bordered planes, and every kernel tap is one matrix product with a shifted view of them.
//! Results live on the padded grid (`ho` rows of `w + 2 pad` columns); the columns past `wo`
//! are dropped (forward) or multiply zeros (gradients).

use super::dense::{Dense, View, batch_sum, matmul_view};
use rayon::prelude::*;

/// The padded grid of a stride-1 convolution.
#[derive(Debug, Clone, Copy)]
struct Grid {
    /// Output height and width.
    ho: usize,
    wo: usize,
    /// Padded row length.
    pw: usize,
    /// Distance between two padded planes: the padded plane and `k` zeros, so that every tap's
    /// view of `ho` padded rows stays inside its plane.
    plane: usize,
    /// Values of a result plane on the padded grid (`ho * pw`).
    len: usize,
}

impl Grid {
    fn of(g: &Dense) -> Self {
        let (ho, wo) = g.out_hw().unwrap_or((0, 0));
        let pw = g.w + 2 * g.pad;
        Self {
            ho,
            wo,
            pw,
            plane: (g.h + 2 * g.pad) * pw + g.k,
            len: ho * pw,
        }
    }

    /// Offset of tap `t` (row-major over the kernel) in a padded plane.
    fn offset(&self, t: usize, k: usize) -> usize {
        (t / k) * self.pw + t % k
    }
}

/// Copies `c` planes of `h x w` into `buf` as zero-bordered planes of the grid.
fn pad(x: &[f32], c: usize, g: &Dense, grid: &Grid, buf: &mut Vec<f32>) {
    buf.clear();
    buf.resize(c * grid.plane, 0.0);
    for (ch, plane) in x.chunks_exact(g.h * g.w).take(c).enumerate() {
        for (y, row) in plane.chunks_exact(g.w).enumerate() {
            let start = ch * grid.plane + (y + g.pad) * grid.pw + g.pad;
            buf[start..start + g.w].copy_from_slice(row);
        }
    }
}

/// Copies `c` planes of `ho x wo` into `wide` as planes of the grid, zero past column `wo`.
fn widen(src: &[f32], c: usize, grid: &Grid, wide: &mut Vec<f32>) {
    wide.clear();
    wide.resize(c * grid.len, 0.0);
    for (line, row) in wide
        .chunks_exact_mut(grid.pw)
        .zip(src.chunks_exact(grid.wo))
    {
        line[..grid.wo].copy_from_slice(row);
    }
}

/// The weight of tap `t` as a `[c_out, c_in]` view of `[c_out, c_in, k, k]`.
fn tap<'a>(weight: &'a [f32], t: usize, g: &Dense) -> View<'a> {
    let kk = g.k * g.k;
    View {
        data: &weight[t..],
        rs: g.c_in * kk,
        cs: kk,
    }
}

/// Forward pass.
pub fn forward(x: &[f32], weight: &[f32], g: &Dense) -> Vec<f32> {
    let grid = Grid::of(g);
    let (out_plane, sample) = (grid.ho * grid.wo, g.c_in * g.h * g.w);
    let mut out = vec![0.0f32; g.n * g.c_out * out_plane];
    out.par_chunks_mut(g.c_out * out_plane)
        .enumerate()
        .for_each_init(
            || (Vec::new(), vec![0.0f32; g.c_out * grid.len]),
            |(buf, wide), (n, y)| {
                pad(&x[n * sample..][..sample], g.c_in, g, &grid, buf);
                for t in 0..g.k * g.k {
                    let shifted = View {
                        data: &buf[grid.offset(t, g.k)..],
                        rs: grid.plane,
                        cs: 1,
                    };
                    let dims = [g.c_out, grid.len, g.c_in];
                    matmul_view(wide, [grid.len, 1], tap(weight, t, g), shifted, dims, t > 0);
                }
                let rows = wide.chunks_exact(grid.pw);
                for (row, line) in y.chunks_exact_mut(grid.wo).zip(rows) {
                    row.copy_from_slice(&line[..grid.wo]);
                }
            },
        );
    out
}

/// Gradient of the input: every tap's transposed weight times the widened output gradient,
/// added onto the shifted view of zero-bordered planes, which are then cropped.
pub fn input_grad(grad: &[f32], weight: &[f32], g: &Dense) -> Vec<f32> {
    let grid = Grid::of(g);
    let (out_sample, sample) = (g.c_out * grid.ho * grid.wo, g.c_in * g.h * g.w);
    let kk = g.k * g.k;
    let mut dx = vec![0.0f32; g.n * sample];
    dx.par_chunks_mut(sample).enumerate().for_each_init(
        || (Vec::new(), Vec::new()),
        |(wide, padded), (n, d)| {
            widen(&grad[n * out_sample..][..out_sample], g.c_out, &grid, wide);
            padded.clear();
            padded.resize(g.c_in * grid.plane, 0.0);
            for t in 0..kk {
                let transposed = View {
                    data: &weight[t..],
                    rs: kk,
                    cs: g.c_in * kk,
                };
                let rows = View {
                    data: wide,
                    rs: grid.len,
                    cs: 1,
                };
                let dst = &mut padded[grid.offset(t, g.k)..];
                let dims = [g.c_in, grid.len, g.c_out];
                matmul_view(dst, [grid.plane, 1], transposed, rows, dims, true);
            }
            for (ch, plane) in d.chunks_exact_mut(g.h * g.w).enumerate() {
                for (y, row) in plane.chunks_exact_mut(g.w).enumerate() {
                    let start = ch * grid.plane + (y + g.pad) * grid.pw + g.pad;
                    row.copy_from_slice(&padded[start..start + g.w]);
                }
            }
        },
    );
    dx
}

/// Gradient of the weight: per tap, the widened output gradient times the transposed shifted
/// view of the zero-bordered input, summed over the batch.
pub fn weight_grad(x: &[f32], grad: &[f32], g: &Dense) -> Vec<f32> {
    let grid = Grid::of(g);
    let (out_sample, sample) = (g.c_out * grid.ho * grid.wo, g.c_in * g.h * g.w);
    let kk = g.k * g.k;
    let size = g.c_out * g.c_in * kk;
    batch_sum(g.n, size, |samples, dw| {
        let (mut buf, mut wide) = (Vec::new(), Vec::new());
        for n in samples {
            pad(&x[n * sample..][..sample], g.c_in, g, &grid, &mut buf);
            widen(
                &grad[n * out_sample..][..out_sample],
                g.c_out,
                &grid,
                &mut wide,
            );
            for t in 0..kk {
                let rows = View {
                    data: &wide,
                    rs: grid.len,
                    cs: 1,
                };
                let shifted = View {
                    data: &buf[grid.offset(t, g.k)..],
                    rs: 1,
                    cs: grid.plane,
                };
                let dims = [g.c_out, g.c_in, grid.len];
                matmul_view(&mut dw[t..], [g.c_in * kk, kk], rows, shifted, dims, true);
            }
        }
    })
}
