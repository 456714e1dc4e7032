//! Launches the kernels of [`super::kernels`] on `f32` cube tensors (made contiguous first).

use super::kernels::{self, BLOCK, NormArgsLaunch, PER_UNIT};
use crate::NormAct;
use crate::geometry::Depthwise;
use burn::backend::TensorMetadata;
use burn::tensor::{DType, Shape};
use burn_cubecl::kernel::into_contiguous;
use burn_cubecl::ops::numeric::empty_device_dtype;
use burn_cubecl::tensor::CubeTensor;
use cubecl::calculate_cube_count_elemwise;
use cubecl::prelude::*;

/// The geometry of a depth-wise convolution of input `x` by `weight`, and its output size.
fn depthwise(x: &Shape, weight: &Shape, stride: usize, pad: usize) -> (Depthwise, usize, usize) {
    let g = Depthwise::new(x.dims(), weight.dims(), stride, pad);
    let (ho, wo) = g.out_hw().unwrap_or((0, 0));
    (g, ho, wo)
}

/// An empty contiguous `f32` tensor of `shape` on `like`'s device.
fn empty(like: &CubeTensor, shape: impl Into<Shape>) -> CubeTensor {
    empty_device_dtype(
        like.client.clone(),
        like.device.clone(),
        shape.into(),
        DType::F32,
    )
}

/// The launch grid of an element-wise kernel over `units` values.
fn elementwise(like: &CubeTensor, units: usize) -> (CubeCount, CubeDim) {
    let dim = CubeDim::new(&like.client, units.max(1));
    (
        calculate_cube_count_elemwise(&like.client, units.max(1), dim),
        dim,
    )
}

/// Chunks of `BLOCK * PER_UNIT` values covering `count`.
fn chunks(count: usize) -> usize {
    count.div_ceil(BLOCK * PER_UNIT).max(1)
}

/// `t` as a kernel's slice argument.
fn buffer(t: &CubeTensor) -> BufferArg {
    t.clone().into_buffer_arg()
}

/// Depth-wise convolution of `x` by `weight`.
pub fn depthwise_forward(
    x: CubeTensor,
    weight: CubeTensor,
    stride: usize,
    pad: usize,
) -> CubeTensor {
    let (x, weight) = (into_contiguous(x), into_contiguous(weight));
    let (g, ho, wo) = depthwise(&x.shape(), &weight.shape(), stride, pad);
    let out = empty(&x, [g.n, g.c_out(), ho, wo]);
    let (count, dim) = elementwise(&x, g.n * g.c_out() * ho * wo);
    kernels::depthwise_forward::launch(
        &x.client,
        count,
        dim,
        buffer(&x),
        buffer(&weight),
        buffer(&out),
        g,
    );
    out
}

/// The input gradient of [`depthwise_forward`] for output gradient `grad`.
pub fn depthwise_input_grad(
    x_shape: &Shape,
    weight: CubeTensor,
    grad: CubeTensor,
    stride: usize,
    pad: usize,
) -> CubeTensor {
    let (grad, weight) = (into_contiguous(grad), into_contiguous(weight));
    let (g, _, _) = depthwise(x_shape, &weight.shape(), stride, pad);
    let dx = empty(&grad, x_shape.clone());
    let (count, dim) = elementwise(&grad, x_shape.num_elements());
    kernels::depthwise_input_grad::launch(
        &grad.client,
        count,
        dim,
        buffer(&grad),
        buffer(&weight),
        buffer(&dx),
        g,
    );
    dx
}

/// The weight gradient of [`depthwise_forward`] for output gradient `grad`.
pub fn depthwise_weight_grad(
    x: CubeTensor,
    weight_shape: &Shape,
    grad: CubeTensor,
    stride: usize,
    pad: usize,
) -> CubeTensor {
    let (x, grad) = (into_contiguous(x), into_contiguous(grad));
    let (g, ho, wo) = depthwise(&x.shape(), weight_shape, stride, pad);
    let rows = chunks(g.n * ho * wo);
    let cols = g.c_out() * g.k * g.k;
    let partials = empty(&x, [rows * cols]);
    let grid = CubeCount::Static((g.k * g.k) as u32, g.c_out() as u32, rows as u32);
    kernels::partial_sums_depthwise_weight::launch(
        &x.client,
        grid,
        CubeDim::new_1d(BLOCK as u32),
        buffer(&x),
        buffer(&grad),
        buffer(&partials),
        g,
    );
    let dw = empty(&x, weight_shape.clone());
    let (count, dim) = elementwise(&x, cols);
    kernels::sum_partials::launch(
        &x.client,
        count,
        dim,
        buffer(&partials),
        buffer(&dw),
        rows,
        cols,
        cols,
        1,
    );
    dw
}

/// `[n, c, hw]` of a BatchNorm input.
fn planes(shape: &Shape) -> (usize, usize, usize) {
    let dims = shape.as_slice();
    (dims[0], dims[1], dims[2..].iter().product())
}

/// The per-channel sums of `what` over `x` (and `grad`) divided by `divide`: `[c]` of the first
/// sum, or `[2 * c]` of both with `both`.
#[allow(clippy::too_many_arguments)]
fn channel_sums(
    x: &CubeTensor,
    grad: &CubeTensor,
    stats: [&CubeTensor; 4],
    eps: f32,
    what: u32,
    act: u32,
    divide: usize,
    both: bool,
) -> CubeTensor {
    let (n, c, hw) = planes(&x.shape());
    let rows = chunks(n * hw);
    let partials = empty(x, [rows * 2 * c]);
    let [mean, var, gamma, beta] = stats;
    kernels::partial_sums_channels::launch(
        &x.client,
        CubeCount::Static(c as u32, rows as u32, 1),
        CubeDim::new_1d(BLOCK as u32),
        buffer(x),
        buffer(grad),
        buffer(mean),
        buffer(var),
        buffer(gamma),
        buffer(beta),
        buffer(&partials),
        NormArgsLaunch::new(eps),
        n,
        c,
        hw,
        what,
        act,
    );
    let cols = if both { 2 * c } else { c };
    let sums = empty(x, [cols]);
    let (count, dim) = elementwise(x, cols);
    kernels::sum_partials::launch(
        &x.client,
        count,
        dim,
        buffer(&partials),
        buffer(&sums),
        rows,
        cols,
        2 * c,
        divide,
    );
    sums
}

/// The kernels' code of `act`.
fn act_code(act: Option<NormAct>) -> u32 {
    match act {
        None => kernels::ACT_NONE,
        Some(NormAct::Relu6) => kernels::ACT_RELU6,
        Some(NormAct::Silu) => kernels::ACT_SILU,
    }
}

/// Training-mode BatchNorm then `act`: the output, the batch mean and the biased variance.
pub fn batch_norm_train(
    x: CubeTensor,
    gamma: CubeTensor,
    beta: CubeTensor,
    eps: f32,
    act: Option<NormAct>,
) -> (CubeTensor, CubeTensor, CubeTensor) {
    let act = act_code(act);
    let (x, gamma, beta) = (
        into_contiguous(x),
        into_contiguous(gamma),
        into_contiguous(beta),
    );
    let (n, c, hw) = planes(&x.shape());
    let count = (n * hw).max(1);
    let none = [&gamma, &gamma, &gamma, &beta];
    let mean = channel_sums(&x, &x, none, eps, kernels::SUM_X, act, count, false);
    let with_mean = [&mean, &gamma, &gamma, &beta];
    let var = channel_sums(
        &x,
        &x,
        with_mean,
        eps,
        kernels::SUM_CENTRED_SQUARES,
        act,
        count,
        false,
    );
    let out = empty(&x, x.shape());
    let (cubes, dim) = elementwise(&x, x.shape().num_elements());
    kernels::batch_norm_forward::launch(
        &x.client,
        cubes,
        dim,
        buffer(&x),
        buffer(&mean),
        buffer(&var),
        buffer(&gamma),
        buffer(&beta),
        buffer(&out),
        NormArgsLaunch::new(eps),
        c,
        hw,
        act,
    );
    (out, mean, var)
}

/// The gradients of [`batch_norm_train`] for output gradient `grad`: input, gamma, beta.
/// `params` are gamma, beta and the batch mean and variance of the forward pass.
pub fn batch_norm_backward(
    x: CubeTensor,
    grad: CubeTensor,
    params: [CubeTensor; 4],
    eps: f32,
    act: Option<NormAct>,
) -> (CubeTensor, CubeTensor, CubeTensor) {
    let act = act_code(act);
    let [x, grad] = [x, grad].map(into_contiguous);
    let [gamma, beta, mean, var] = params.map(into_contiguous);
    let (n, c, hw) = planes(&x.shape());
    let count = (n * hw).max(1);
    let sums = channel_sums(
        &x,
        &grad,
        [&mean, &var, &gamma, &beta],
        eps,
        kernels::SUM_GRADIENTS,
        act,
        1,
        true,
    );
    let dx = empty(&x, x.shape());
    let (cubes, dim) = elementwise(&x, x.shape().num_elements());
    kernels::batch_norm_input_grad::launch(
        &x.client,
        cubes,
        dim,
        buffer(&x),
        buffer(&grad),
        buffer(&mean),
        buffer(&var),
        buffer(&gamma),
        buffer(&beta),
        buffer(&sums),
        buffer(&dx),
        NormArgsLaunch::new(eps),
        c,
        hw,
        count,
        act,
    );
    let (dgamma, dbeta) = (empty(&x, [c]), empty(&x, [c]));
    let (cubes, dim) = elementwise(&x, c);
    kernels::batch_norm_param_grads::launch(
        &x.client,
        cubes,
        dim,
        buffer(&sums),
        buffer(&var),
        buffer(&dgamma),
        buffer(&dbeta),
        NormArgsLaunch::new(eps),
        c,
    );
    (dx, dgamma, dbeta)
}
