//! Stride-1 dense convolution without im2col: each sample's planes are copied once into
//! zero-bordered planes, on which every kernel tap is a constant offset. The forward pass and
//! the input gradient (the output gradient correlated with the flipped, transposed kernel) run
//! the register-blocked loop of [`super::direct`]; the weight gradient is one matrix product
//! per tap on shifted views (its inner dimension is the plane, long enough for `gemm`).
//! Results live on the padded grid (`ho` rows of `w + 2 pad` columns); the columns past `wo`
//! are dropped (forward, input gradient) or multiply zeros (weight gradient).

use super::dense::{Dense, View, batch_sum, matmul_view};
use super::direct::{Correlation, Packed, STEP, correlate};
use fdfat_simd::Isa;
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

/// Copies `c` planes of `h x w` into `buf` as zero-bordered planes of the grid, followed by
/// `slack` zeros.
fn pad(x: &[f32], c: usize, g: &Dense, grid: &Grid, buf: &mut Vec<f32>, slack: usize) {
    buf.clear();
    buf.resize(c * grid.plane + slack, 0.0);
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

/// Forward pass.
pub fn forward(x: &[f32], weight: &[f32], g: &Dense) -> Vec<f32> {
    let kk = g.k * g.k;
    let packed = Packed::new(g.c_out, g.c_in, kk, |o, i, t| {
        weight[(o * g.c_in + i) * kk + t]
    });
    correlate_samples(x, &packed, g)
}

/// Gradient of the input: the output gradient, zero-bordered by `k - 1 - pad`, correlated with
/// the kernel flipped and its channel axes swapped (a stride-1 convolution back onto the input).
pub fn input_grad(grad: &[f32], weight: &[f32], g: &Dense) -> Vec<f32> {
    let (ho, wo) = g.out_hw().unwrap_or((0, 0));
    let back = Dense {
        c_in: g.c_out,
        c_out: g.c_in,
        h: ho,
        w: wo,
        pad: g.k - 1 - g.pad,
        ..*g
    };
    let kk = g.k * g.k;
    let packed = Packed::new(g.c_in, g.c_out, kk, |o, i, t| {
        weight[(i * g.c_in + o) * kk + kk - 1 - t]
    });
    correlate_samples(grad, &packed, &back)
}

/// The stride-1 convolution `g` of every sample of `x` with the `packed` weights.
fn correlate_samples(x: &[f32], packed: &Packed, g: &Dense) -> Vec<f32> {
    let grid = Grid::of(g);
    let (out_plane, sample) = (grid.ho * grid.wo, g.c_in * g.h * g.w);
    let offsets: Vec<usize> = (0..g.k * g.k).map(|t| grid.offset(t, g.k)).collect();
    let len = grid.len.next_multiple_of(STEP);
    let slack = len + offsets.last().copied().unwrap_or(0);
    let isa = Isa::detect();
    let mut out = vec![0.0f32; g.n * g.c_out * out_plane];
    out.par_chunks_mut(g.c_out * out_plane)
        .enumerate()
        .for_each_init(
            || (Vec::new(), vec![0.0f32; packed.padded_outputs() * len]),
            |(buf, wide), (n, y)| {
                pad(&x[n * sample..][..sample], g.c_in, g, &grid, buf, slack);
                let job = Correlation {
                    weights: packed,
                    offsets: &offsets,
                    src: buf,
                    plane: grid.plane,
                    len,
                    dst: wide,
                };
                correlate(isa, job);
                for (plane, rows) in y.chunks_exact_mut(out_plane).zip(wide.chunks_exact(len)) {
                    let lines = rows.chunks_exact(grid.pw);
                    for (row, line) in plane.chunks_exact_mut(grid.wo).zip(lines) {
                        row.copy_from_slice(&line[..grid.wo]);
                    }
                }
            },
        );
    out
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
            pad(&x[n * sample..][..sample], g.c_in, g, &grid, &mut buf, 0);
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
