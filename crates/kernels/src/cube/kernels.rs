//! The CubeCL kernels (wgpu, CUDA): depth-wise convolution (forward, input gradient, weight
//! gradient) and training-mode BatchNorm fused with its activation (statistics, forward,
//! backward), on contiguous `f32` NCHW buffers.
//!
//! Element-wise kernels run one unit per output value. Sums over the batch (a weight gradient,
//! per-channel statistics) run in two deterministic stages: the `partial_sums_*` kernels give
//! each cube a slice of one channel's `n x h x w` values, each unit a strided share of that
//! slice, and reduce the units' sums in shared memory to one partial per cube;
//! [`sum_partials`] then adds the partials of each output in a fixed order.

use crate::geometry::Depthwise;
use cubecl::prelude::*;

/// Units per cube of the reduction kernels (a power of two).
pub const BLOCK: usize = 256;

/// Values each unit of a reduction cube sums before the cubes' partials are added.
pub const PER_UNIT: usize = 32;

/// The BatchNorm activation codes of the kernels' `act` parameter.
pub const ACT_NONE: u32 = 0;
/// ReLU6.
pub const ACT_RELU6: u32 = 1;
/// SiLU.
pub const ACT_SILU: u32 = 2;

/// What a channel reduction sums.
pub const SUM_X: u32 = 0;
/// `(x - mean)^2`.
pub const SUM_CENTRED_SQUARES: u32 = 1;
/// The gradient through the activation `g`, and `g * (x - mean)` (the BatchNorm backward).
pub const SUM_GRADIENTS: u32 = 2;

/// The runtime values of a BatchNorm kernel.
#[derive(CubeLaunch, CubeType)]
pub struct NormArgs {
    /// Added to the variance.
    pub eps: f32,
}

/// `act(z)` for the comptime activation code `act`.
#[cube]
fn activate(z: f32, #[comptime] act: u32) -> f32 {
    let mut y = z;
    if comptime![act == ACT_RELU6] {
        y = clamp(z, 0.0, 6.0);
    } else if comptime![act == ACT_SILU] {
        y = z / (1.0 + (-z).exp());
    }
    y
}

/// The derivative of `act` at `z`; ReLU6 passes the gradient where `0 <= z <= 6` (as burn's
/// clamp does).
#[cube]
#[allow(
    clippy::manual_range_contains,
    reason = "kernel code: CubeCL expands comparisons, not ranges"
)]
fn derivative(z: f32, #[comptime] act: u32) -> f32 {
    let mut d = 1.0f32;
    if comptime![act == ACT_RELU6] {
        d = select(z >= 0.0 && z <= 6.0, 1.0f32, 0.0f32);
    } else if comptime![act == ACT_SILU] {
        let s = 1.0 / (1.0 + (-z).exp());
        d = s * (1.0 + z * (1.0 - s));
    }
    d
}

/// Depth-wise convolution, one unit per output value: `out[b, co, oy, ox]` sums the `k x k`
/// taps of input channel `co / mult` under `weight[co]`.
#[cube(launch)]
pub fn depthwise_forward(x: &[f32], weight: &[f32], out: &mut [f32], #[comptime] g: Depthwise) {
    let (c_in, mult, h, w, k) = (g.c_in, g.mult, g.h, g.w, g.k);
    let (stride, pad) = (g.stride, g.pad);
    let ho = comptime![g.out_hw().map_or(0, |(ho, _)| ho)];
    let wo = comptime![g.out_hw().map_or(0, |(_, wo)| wo)];
    if ABSOLUTE_POS >= out.len() {
        terminate!();
    }
    let pos = ABSOLUTE_POS;
    let ox = pos % wo;
    let oy = (pos / wo) % ho;
    let co = (pos / (wo * ho)) % (c_in * mult);
    let b = pos / (wo * ho * c_in * mult);
    let plane = (b * c_in + co / mult) * h * w;
    let taps = co * k * k;
    let mut acc = 0.0f32;
    for ky in 0..k {
        let sy = oy * stride + ky;
        if sy >= pad && sy < h + pad {
            let row = plane + (sy - pad) * w;
            for kx in 0..k {
                let sx = ox * stride + kx;
                if sx >= pad && sx < w + pad {
                    acc += x[row + sx - pad] * weight[taps + ky * k + kx];
                }
            }
        }
    }
    out[pos] = acc;
}

/// The input gradient of [`depthwise_forward`], one unit per input value: the sum over the
/// output positions and taps that read it.
#[cube(launch)]
pub fn depthwise_input_grad(
    grad: &[f32],
    weight: &[f32],
    dx: &mut [f32],
    #[comptime] g: Depthwise,
) {
    let (c_in, mult, h, w, k) = (g.c_in, g.mult, g.h, g.w, g.k);
    let (stride, pad) = (g.stride, g.pad);
    let ho = comptime![g.out_hw().map_or(0, |(ho, _)| ho)];
    let wo = comptime![g.out_hw().map_or(0, |(_, wo)| wo)];
    if ABSOLUTE_POS >= dx.len() {
        terminate!();
    }
    let pos = ABSOLUTE_POS;
    let ix = pos % w;
    let iy = (pos / w) % h;
    let ci = (pos / (w * h)) % c_in;
    let b = pos / (w * h * c_in);
    let mut acc = 0.0f32;
    for m in 0..mult {
        let co = ci * mult + m;
        let plane = (b * c_in * mult + co) * ho * wo;
        for ky in 0..k {
            let ty = iy + pad;
            if ty >= ky && (ty - ky).is_multiple_of(stride) && (ty - ky) / stride < ho {
                let row = plane + (ty - ky) / stride * wo;
                for kx in 0..k {
                    let tx = ix + pad;
                    if tx >= kx && (tx - kx).is_multiple_of(stride) && (tx - kx) / stride < wo {
                        acc += grad[row + (tx - kx) / stride] * weight[(co * k + ky) * k + kx];
                    }
                }
            }
        }
    }
    dx[pos] = acc;
}

/// Sums the `BLOCK` units' values of a cube in shared memory; unit 0 gets the total.
#[cube]
fn block_sum(value: f32) -> f32 {
    let mut shared = Shared::<[f32]>::new_slice(BLOCK);
    let unit = UNIT_POS as usize;
    shared[unit] = value;
    sync_cube();
    let mut half = (BLOCK / 2).runtime();
    while half > 0 {
        if unit < half {
            let sum = shared[unit] + shared[unit + half];
            shared[unit] = sum;
        }
        sync_cube();
        half /= 2;
    }
    shared[0]
}

/// Partial weight gradients of [`depthwise_forward`]: cube `(tap, co, chunk)` sums
/// `grad[b, co, oy, ox] * x[b, co / mult, oy * stride + ky - pad, ox * stride + kx - pad]`
/// over its chunk of the `n x ho x wo` output positions, into
/// `partials[(chunk * c_out + co) * k * k + tap]`.
#[cube(launch)]
pub fn partial_sums_depthwise_weight(
    x: &[f32],
    grad: &[f32],
    partials: &mut [f32],
    #[comptime] g: Depthwise,
) {
    let n = g.n;
    let (c_in, mult, h, w, k) = (g.c_in, g.mult, g.h, g.w, g.k);
    let (stride, pad) = (g.stride, g.pad);
    let ho = comptime![g.out_hw().map_or(0, |(ho, _)| ho)];
    let wo = comptime![g.out_hw().map_or(0, |(_, wo)| wo)];
    let tap = CUBE_POS_X as usize;
    let co = CUBE_POS_Y as usize;
    let chunk = CUBE_POS_Z as usize;
    let (ky, kx) = (tap / k, tap % k);
    let positions = n * ho * wo;
    let start = chunk * BLOCK * PER_UNIT;
    let end = clamp_max(start + BLOCK * PER_UNIT, positions);
    let c_out = c_in * mult;
    let mut acc = 0.0f32;
    let mut p = start + UNIT_POS as usize;
    while p < end {
        let ox = p % wo;
        let oy = (p / wo) % ho;
        let b = p / (wo * ho);
        let sy = oy * stride + ky;
        let sx = ox * stride + kx;
        if sy >= pad && sy < h + pad && sx >= pad && sx < w + pad {
            let g = grad[((b * c_out + co) * ho + oy) * wo + ox];
            acc += g * x[((b * c_in + co / mult) * h + sy - pad) * w + sx - pad];
        }
        p += BLOCK;
    }
    let total = block_sum(acc);
    if UNIT_POS == 0 {
        partials[(chunk * c_out + co) * k * k + tap] = total;
    }
}

/// Partial per-channel sums of a BatchNorm input of `n x c` planes of `hw` values: cube
/// `(ch, chunk)` sums its chunk of the channel's `n x hw` values into
/// `partials[(chunk * 2 + 0) * c + ch]` and `partials[(chunk * 2 + 1) * c + ch]`. What is
/// summed is `what`: [`SUM_X`], [`SUM_CENTRED_SQUARES`] (about `mean`), or [`SUM_GRADIENTS`]
/// (the gradient `grad` through `act` at the normalised `x`, and that times `x - mean`).
#[cube(launch)]
#[allow(clippy::too_many_arguments)]
pub fn partial_sums_channels(
    x: &[f32],
    grad: &[f32],
    mean: &[f32],
    var: &[f32],
    gamma: &[f32],
    beta: &[f32],
    partials: &mut [f32],
    args: NormArgs,
    #[comptime] n: usize,
    #[comptime] c: usize,
    #[comptime] hw: usize,
    #[comptime] what: u32,
    #[comptime] act: u32,
) {
    let ch = CUBE_POS_X as usize;
    let chunk = CUBE_POS_Y as usize;
    let count = n * hw;
    let start = chunk * BLOCK * PER_UNIT;
    let end = clamp_max(start + BLOCK * PER_UNIT, count);
    let mut m = 0.0f32;
    if comptime![what != SUM_X] {
        m = mean[ch];
    }
    let mut inv = 0.0f32;
    let mut gain = 0.0f32;
    let mut shift = 0.0f32;
    if comptime![what == SUM_GRADIENTS] {
        inv = 1.0 / (var[ch] + args.eps).sqrt();
        gain = gamma[ch];
        shift = beta[ch];
    }
    let mut first = 0.0f32;
    let mut second = 0.0f32;
    let mut p = start + UNIT_POS as usize;
    while p < end {
        let index = ((p / hw) * c + ch) * hw + p % hw;
        let v = x[index];
        if comptime![what == SUM_X] {
            first += v;
        } else if comptime![what == SUM_CENTRED_SQUARES] {
            first += (v - m) * (v - m);
        } else {
            let g = grad[index] * derivative((v - m) * inv * gain + shift, act);
            first += g;
            second += g * (v - m);
        }
        p += BLOCK;
    }
    let first = block_sum(first);
    let mut second_total = 0.0f32;
    if comptime![what == SUM_GRADIENTS] {
        second_total = block_sum(second);
    }
    if UNIT_POS == 0 {
        partials[chunk * 2 * c + ch] = first;
        partials[(chunk * 2 + 1) * c + ch] = second_total;
    }
}

/// `out[j] = (sum over r of partials[r * stride + j]) / count` for the `rows` partials of each
/// of the `cols` outputs, added in row order (one unit per output).
#[cube(launch)]
pub fn sum_partials(
    partials: &[f32],
    out: &mut [f32],
    #[comptime] rows: usize,
    #[comptime] cols: usize,
    #[comptime] stride: usize,
    #[comptime] count: usize,
) {
    let j = ABSOLUTE_POS;
    if j >= cols {
        terminate!();
    }
    let mut acc = 0.0f32;
    for r in 0..rows {
        acc += partials[r * stride + j];
    }
    out[j] = acc / f32::cast_from(count);
}

/// Training-mode BatchNorm then `act`, one unit per value:
/// `act((x - mean) / sqrt(var + eps) * gamma + beta)`.
#[cube(launch)]
#[allow(clippy::too_many_arguments)]
pub fn batch_norm_forward(
    x: &[f32],
    mean: &[f32],
    var: &[f32],
    gamma: &[f32],
    beta: &[f32],
    out: &mut [f32],
    args: NormArgs,
    #[comptime] c: usize,
    #[comptime] hw: usize,
    #[comptime] act: u32,
) {
    if ABSOLUTE_POS >= out.len() {
        terminate!();
    }
    let pos = ABSOLUTE_POS;
    let ch = (pos / hw) % c;
    let inv = 1.0 / (var[ch] + args.eps).sqrt();
    out[pos] = activate((x[pos] - mean[ch]) * inv * gamma[ch] + beta[ch], act);
}

/// The input gradient of [`batch_norm_forward`], one unit per value, from the per-channel
/// sums `sums[ch]` (of the gradient through `act`) and `sums[c + ch]` (of that times
/// `x - mean`) over the `count` values of each channel.
#[cube(launch)]
#[allow(clippy::too_many_arguments)]
pub fn batch_norm_input_grad(
    x: &[f32],
    grad: &[f32],
    mean: &[f32],
    var: &[f32],
    gamma: &[f32],
    beta: &[f32],
    sums: &[f32],
    dx: &mut [f32],
    args: NormArgs,
    #[comptime] c: usize,
    #[comptime] hw: usize,
    #[comptime] count: usize,
    #[comptime] act: u32,
) {
    if ABSOLUTE_POS >= dx.len() {
        terminate!();
    }
    let pos = ABSOLUTE_POS;
    let ch = (pos / hw) % c;
    let m = mean[ch];
    let inv = 1.0 / (var[ch] + args.eps).sqrt();
    let gain = gamma[ch];
    let v = x[pos];
    let g = grad[pos] * derivative((v - m) * inv * gain + beta[ch], act);
    let total = f32::cast_from(count);
    let g_mean = sums[ch] / total;
    let gx_mean = sums[c + ch] * inv / total;
    dx[pos] = gain * inv * (g - g_mean - (v - m) * inv * gx_mean);
}

/// The gamma and beta gradients of [`batch_norm_forward`] from the sums of
/// [`batch_norm_input_grad`], one unit per channel.
#[cube(launch)]
pub fn batch_norm_param_grads(
    sums: &[f32],
    var: &[f32],
    dgamma: &mut [f32],
    dbeta: &mut [f32],
    args: NormArgs,
    #[comptime] c: usize,
) {
    let ch = ABSOLUTE_POS;
    if ch >= c {
        terminate!();
    }
    dbeta[ch] = sums[ch];
    dgamma[ch] = sums[c + ch] / (var[ch] + args.eps).sqrt();
}
