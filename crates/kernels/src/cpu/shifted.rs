//! Dense convolutions with a kernel wider than 1 (or any stride or padding) without im2col.
//! Each sample's planes are copied once into zero-bordered planes split into stride phases
//! (the rows and columns `stride` apart, so that phase `(py, px)` holds the bordered input at
//! `(s a + py, s b + px)`). On them every kernel tap is one constant offset: tap `(ky, kx)` reads
//! phase `(ky % s, kx % s)` shifted by `(ky / s, kx / s)`, and output position `(oy, ox)` is grid
//! position `oy * pw + ox` of the phase row length `pw`. At stride 1 there is one phase, the
//! bordered plane itself.
//!
//! The forward pass and the input gradient run the register-blocked loop of [`super::direct`];
//! the weight gradient is one matrix product per tap on shifted views of a group of samples
//! laid out one after another (its inner dimension is the group's planes, long enough for
//! `gemm`). Results live on the grid; the columns past `wo` are dropped (forward, input
//! gradient) or multiply zeros (weight gradient).

use super::dense::{Dense, View, batch_sum, matmul_view};
use super::direct::{Correlation, Packed, STEP, correlate};
use fdfat_simd::Isa;
use rayon::prelude::*;

/// The phase grid of a convolution.
#[derive(Debug, Clone, Copy)]
struct Grid {
    /// Kernel side and stride.
    k: usize,
    s: usize,
    /// Output height and width.
    ho: usize,
    wo: usize,
    /// Rows and row length of a phase plane.
    ph: usize,
    pw: usize,
    /// Distance between two channels' planes: the `s * s` phase planes and `k` zeros, so that
    /// every tap's view of `ho` grid rows stays inside its channel.
    plane: usize,
    /// Values of a result plane on the grid (`ho * pw`).
    len: usize,
}

impl Grid {
    fn of(g: &Dense) -> Self {
        let (ho, wo) = g.out_hw().unwrap_or((0, 0));
        let s = g.stride;
        let (ph, pw) = ((g.h + 2 * g.pad).div_ceil(s), (g.w + 2 * g.pad).div_ceil(s));
        Self {
            k: g.k,
            s,
            ho,
            wo,
            ph,
            pw,
            plane: s * s * ph * pw + g.k,
            len: ho * pw,
        }
    }

    /// Offset of every tap (row-major over the kernel) in a channel's phase planes, `phase`
    /// apart.
    fn offsets(&self, phase: usize) -> Vec<usize> {
        let (k, s) = (self.k, self.s);
        (0..k * k)
            .map(|t| ((t / k % s) * s + t % k % s) * phase + t / k / s * self.pw + t % k / s)
            .collect()
    }

    /// Copies `c` planes of `g.h x g.w` from `x` into the zeroed `dst` as bordered phase
    /// planes: channel `ch`, phase `p` at `ch * at.channel + p * at.phase`.
    fn split(&self, x: &[f32], c: usize, g: &Dense, dst: &mut [f32], at: Phases) {
        let s = self.s;
        for (ch, plane) in x.chunks_exact(g.h * g.w).take(c).enumerate() {
            let dst = &mut dst[ch * at.channel..];
            for (y, row) in plane.chunks_exact(g.w).enumerate() {
                let yy = y + g.pad;
                let line = (yy % s) * s * at.phase + yy / s * self.pw;
                if s == 1 {
                    let start = line + g.pad;
                    dst[start..start + g.w].copy_from_slice(row);
                    continue;
                }
                for px in 0..s {
                    let (first, column) = column_phase(px, s, g.pad);
                    let start = line + px * at.phase + column;
                    let values = row.iter().skip(first).step_by(s);
                    for (d, &v) in dst[start..].iter_mut().zip(values) {
                        *d = v;
                    }
                }
            }
        }
    }

    /// Phase planes one after another, each channel's `s * s` of them `plane` apart.
    fn packed(&self) -> Phases {
        Phases {
            channel: self.plane,
            phase: self.ph * self.pw,
        }
    }
}

/// The first column `x` of a row bordered by `pad` with `(x + pad) % s == px`, and its column
/// in phase `px`.
fn column_phase(px: usize, s: usize, pad: usize) -> (usize, usize) {
    let first = (px + s - pad % s) % s;
    (first, (first + pad) / s)
}

/// Where [`Grid::split`] puts the phase planes.
#[derive(Debug, Clone, Copy)]
struct Phases {
    /// Distance between two channels.
    channel: usize,
    /// Distance between two phases of a channel.
    phase: usize,
}

/// Copies `c` planes of `rows x cols` from `src` into the zeroed `dst`: plane `ch` row `y` lands
/// at `ch * channel + (top + y) * line + left`.
fn place(src: &[f32], c: usize, [rows, cols]: [usize; 2], dst: &mut [f32], layout: Layout) {
    for (ch, plane) in src.chunks_exact(rows * cols).take(c).enumerate() {
        for (y, row) in plane.chunks_exact(cols).enumerate() {
            let start = ch * layout.channel + (layout.top + y) * layout.line + layout.left;
            dst[start..start + cols].copy_from_slice(row);
        }
    }
}

/// Where [`place`] puts planes.
#[derive(Debug, Clone, Copy)]
struct Layout {
    /// Distance between two channels.
    channel: usize,
    /// Row length.
    line: usize,
    /// Zero rows above and columns left of the values.
    top: usize,
    left: usize,
}

/// Forward pass.
pub fn forward(x: &[f32], weight: &[f32], g: &Dense) -> Vec<f32> {
    let kk = g.k * g.k;
    let packed = Packed::new(g.c_out, g.c_in, kk, |o, i, t| {
        weight[(o * g.c_in + i) * kk + t]
    });
    correlate_samples(x, &packed, g)
}

/// Gradient of the input. At stride 1 with `pad < k`, the output gradient zero-bordered by
/// `k - 1 - pad` correlated with the kernel flipped and its channel axes swapped (a stride-1
/// convolution back onto the input); otherwise [`phase_input_grad`].
pub fn input_grad(grad: &[f32], weight: &[f32], g: &Dense) -> Vec<f32> {
    let (ho, wo) = g.out_hw().unwrap_or((0, 0));
    if g.stride > 1 || g.pad >= g.k || ho * wo == 0 {
        return phase_input_grad(grad, weight, g);
    }
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
    let offsets = grid.offsets(grid.ph * grid.pw);
    let len = grid.len.next_multiple_of(STEP);
    let size = g.c_in * grid.plane + len + offsets.iter().max().copied().unwrap_or(0);
    let isa = Isa::detect();
    let mut out = vec![0.0f32; g.n * g.c_out * out_plane];
    if out_plane == 0 {
        return out;
    }
    out.par_chunks_mut(g.c_out * out_plane)
        .enumerate()
        .for_each_init(
            || (Vec::new(), vec![0.0f32; packed.padded_outputs() * len]),
            |(buf, wide), (n, y)| {
                zeroed(buf, size);
                grid.split(&x[n * sample..][..sample], g.c_in, g, buf, grid.packed());
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

/// Clears `buf` to `size` zeros.
fn zeroed(buf: &mut Vec<f32>, size: usize) {
    buf.clear();
    buf.resize(size, 0.0);
}

/// Gradient of the input phase by phase: input phase `(py, px)` at `(a, b)` gathers the taps
/// `(py + s m, px + s n)` from output position `(a - m, b - n)`, so each phase is a stride-1
/// correlation of the output gradient (bordered by `(k - 1) / s` above and left) with a part of
/// the flipped, transposed kernel. The phases are then interleaved back onto the input.
fn phase_input_grad(grad: &[f32], weight: &[f32], g: &Dense) -> Vec<f32> {
    let grid = Grid::of(g);
    let (s, k, kk) = (grid.s, g.k, g.k * g.k);
    let reach = (k - 1) / s;
    let taps = |p: usize| 0..k.saturating_sub(p).div_ceil(s);
    let line = grid.pw + reach;
    let layout = Layout {
        channel: (grid.ph + reach) * line + reach + 1,
        line,
        top: reach,
        left: reach,
    };
    let len = (grid.ph * line).next_multiple_of(STEP);
    let phases: Vec<(Packed, Vec<usize>)> = (0..s * s)
        .map(|phase| {
            let (py, px) = (phase / s, phase % s);
            let cols = taps(px).len();
            let packed = Packed::new(g.c_in, g.c_out, taps(py).len() * cols, |i, o, t| {
                let (ky, kx) = (py + s * (t / cols), px + s * (t % cols));
                weight[(o * g.c_in + i) * kk + ky * k + kx]
            });
            let offsets = taps(py)
                .flat_map(|m| taps(px).map(move |n| (reach - m) * line + reach - n))
                .collect();
            (packed, offsets)
        })
        .collect();
    let size = g.c_out * layout.channel + len + reach * line + reach;
    let (out_sample, sample) = (g.c_out * grid.ho * grid.wo, g.c_in * g.h * g.w);
    // every phase has the input channels as its outputs
    let wide_len = phases[0].0.padded_outputs() * len;
    let isa = Isa::detect();
    let mut dx = vec![0.0f32; g.n * sample];
    if sample == 0 || out_sample == 0 {
        return dx;
    }
    dx.par_chunks_mut(sample).enumerate().for_each_init(
        || (Vec::new(), vec![0.0f32; s * s * wide_len]),
        |(buf, wide), (n, dx)| {
            zeroed(buf, size);
            let shape = [grid.ho, grid.wo];
            place(
                &grad[n * out_sample..][..out_sample],
                g.c_out,
                shape,
                buf,
                layout,
            );
            for ((packed, offsets), dst) in phases.iter().zip(wide.chunks_exact_mut(wide_len)) {
                let job = Correlation {
                    weights: packed,
                    offsets,
                    src: buf,
                    plane: layout.channel,
                    len,
                    dst,
                };
                correlate(isa, job);
            }
            // interleave the phases back, row by row and column phase by column phase
            for (i, plane) in dx.chunks_exact_mut(g.h * g.w).enumerate() {
                for (y, row) in plane.chunks_exact_mut(g.w).enumerate() {
                    let yy = y + g.pad;
                    let line = (yy % s) * s * wide_len + i * len + yy / s * line;
                    for px in 0..s {
                        let (first, column) = column_phase(px, s, g.pad);
                        let src = &wide[line + px * wide_len + column..];
                        for (d, &v) in row.iter_mut().skip(first).step_by(s).zip(src) {
                            *d = v;
                        }
                    }
                }
            }
        },
    );
    dx
}

/// Gradient of the weight: per tap, the output gradient times the transposed shifted view of
/// the phase planes, summed over the batch. The samples of a group lie one after another
/// (channel by channel, phase by phase, `ph * pw` values each, the output gradient on the same
/// grid), so one matrix product per tap covers the group.
pub fn weight_grad(x: &[f32], grad: &[f32], g: &Dense) -> Vec<f32> {
    let grid = Grid::of(g);
    let (out_sample, sample) = (g.c_out * grid.ho * grid.wo, g.c_in * g.h * g.w);
    let kk = g.k * g.k;
    let size = g.c_out * g.c_in * kk;
    let plane = grid.ph * grid.pw;
    // enough positions per product for `gemm`, independent of the threads
    let group = (8192 / plane.max(1)).clamp(4, 8);
    if grid.len == 0 {
        return vec![0.0; size];
    }
    batch_sum(g.n, size, group, |samples, dw| {
        let phase = samples.len() * plane;
        let at = Phases {
            channel: grid.s * grid.s * phase,
            phase,
        };
        let offsets = grid.offsets(phase);
        let reach = offsets.iter().max().copied().unwrap_or(0);
        let (mut buf, mut wide) = (Vec::new(), Vec::new());
        zeroed(&mut buf, g.c_in * at.channel + reach);
        zeroed(&mut wide, g.c_out * phase);
        let layout = Layout {
            channel: phase,
            line: grid.pw,
            top: 0,
            left: 0,
        };
        for (j, n) in samples.enumerate() {
            let x = &x[n * sample..][..sample];
            grid.split(x, g.c_in, g, &mut buf[j * plane..], at);
            let src = &grad[n * out_sample..][..out_sample];
            place(
                src,
                g.c_out,
                [grid.ho, grid.wo],
                &mut wide[j * plane..],
                layout,
            );
        }
        for (t, &offset) in offsets.iter().enumerate() {
            let rows = View {
                data: &wide,
                rs: phase,
                cs: 1,
            };
            let shifted = View {
                data: &buf[offset..],
                rs: 1,
                cs: at.channel,
            };
            let dims = [g.c_out, g.c_in, phase];
            matmul_view(&mut dw[t..], [g.c_in * kk, kk], rows, shifted, dims, true);
        }
    })
}
