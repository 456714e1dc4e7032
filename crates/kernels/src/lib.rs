//! Training kernels for the fdfat models: the operations a training step spends its time in
//! (convolution, BatchNorm, activation), as the models' blocks call them, each routed to the
//! fastest exact kernel of its backend.
//!
//! On an `f32` autodiff tensor of the flex CPU backend (the `flex` feature) they run this
//! crate's own kernels (the `cpu` module), plugged into burn through its
//! backend-extension API (`#[backend_extension]`) with a forward on `Flex` and a backward step
//! registered with burn's autodiff: dense and depth-wise convolutions (no bias; register-blocked
//! direct loops on stride phases, and matrix products), training-mode BatchNorm fused with a
//! following ReLU6 or SiLU, ReLU6, SiLU and PReLU alone, and the channel slices and joins of
//! the C2f blocks. [`alloc`] holds the binaries' allocator setting. Elsewhere a dense 1x1
//! convolution on an autodiff tensor runs as a batched matrix product (other backends), and
//! everything else is burn's own operation: inference, other backends and dtypes, and modules
//! the kernels do not cover (a bias, dilation, uneven padding).
//!
//! [`with_reference_ops`] runs a closure with burn's own operations only, which the tests and
//! benchmarks use to compare the two routes (outputs and gradients agree within 1e-5).
//!
//! [`sgemm`] is the crate's single-threaded strided `f32` matrix product, shared with the fused
//! inference engine (`fdfat-infer`).
//!
//! ```
//! use burn::nn::conv::Conv2dConfig;
//! use burn::tensor::{Device, Tensor};
//!
//! let device = Device::default();
//! let conv = Conv2dConfig::new([3, 8], [3, 3]).init(&device);
//! let y = fdfat_kernels::relu6(fdfat_kernels::conv2d(&conv, Tensor::zeros([1, 3, 9, 9], &device)));
//! assert_eq!(y.dims(), [1, 8, 7, 7]);
//! ```
#![warn(missing_docs)]

pub mod alloc;
#[cfg(any(feature = "flex", test))]
mod cpu;
#[cfg(feature = "cube")]
mod cube;
#[cfg(any(feature = "flex", feature = "cube", test))]
mod extension;
#[cfg(any(feature = "flex", feature = "cube", test))]
mod geometry;
pub mod sgemm;
#[cfg(test)]
mod tests;

use burn::nn::conv::Conv2d;
use burn::nn::{BatchNorm, PRelu, PaddingConfig2d};
use burn::tensor::{Tensor, activation as act};
use std::cell::Cell;

thread_local! {
    /// Whether this thread uses burn's own operations only (`FDFAT_REFERENCE_OPS` set).
    static REFERENCE: Cell<bool> = Cell::new(std::env::var_os("FDFAT_REFERENCE_OPS").is_some());
}

/// Restores the thread's previous choice when dropped, also on unwinding.
struct Restore(bool);

impl Drop for Restore {
    fn drop(&mut self) {
        REFERENCE.with(|r| r.set(self.0));
    }
}

/// Runs `f` on this thread with burn's own operations only (the route before this crate's
/// kernels), for comparisons. The choice is made when a forward pass records an operation, so
/// the forward must run inside `f`; the backward may run outside. Setting the environment
/// variable `FDFAT_REFERENCE_OPS` makes it the default of every thread.
pub fn with_reference_ops<R>(f: impl FnOnce() -> R) -> R {
    let _restore = Restore(REFERENCE.with(|r| r.replace(true)));
    f()
}

/// The kernels an `f32` autodiff tensor takes, by its device: [`Route::Flex`] on the flex
/// CPU backend, [`Route::Cube`] on a CubeCL GPU backend; `None` elsewhere and on a thread that
/// has asked for the reference operations.
#[cfg(any(feature = "flex", feature = "cube", test))]
fn route<const D: usize>(x: &Tensor<D>) -> Option<Route> {
    use burn::backend::DispatchDevice;
    if !x.is_autodiff() || x.dtype() != burn::tensor::DType::F32 || REFERENCE.with(Cell::get) {
        return None;
    }
    match x.device().without_autodiff().as_dispatch() {
        #[cfg(any(feature = "flex", test))]
        DispatchDevice::Flex(_) => Some(Route::Flex),
        #[cfg(feature = "cube")]
        DispatchDevice::Cube(_) => Some(Route::Cube),
        #[allow(
            unreachable_patterns,
            reason = "builds with one backend have no other device"
        )]
        _ => None,
    }
}

/// Which of the crate's kernels run.
#[cfg(any(feature = "flex", feature = "cube", test))]
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Route {
    /// The flex CPU kernels: every operation of this module.
    #[cfg(any(feature = "flex", test))]
    Flex,
    /// The GPU kernels: depth-wise convolution and BatchNorm (burn's own autotuned and fused
    /// kernels serve the rest).
    #[cfg(feature = "cube")]
    Cube,
}

/// Whether `x` takes the kernels of every operation (the flex CPU kernels).
#[cfg(any(feature = "flex", test))]
fn flex_takes<const D: usize>(x: &Tensor<D>) -> bool {
    route(x) == Some(Route::Flex)
}

/// Applies `conv` to `x`.
pub fn conv2d(conv: &Conv2d, x: Tensor<4>) -> Tensor<4> {
    #[cfg(any(feature = "flex", feature = "cube", test))]
    if let Some(geometry) = kernel_geometry(conv, &x) {
        use burn::backend::Dispatch;
        let (stride, padding) = (geometry.stride, geometry.padding);
        if geometry.depthwise && route(&x).is_some() {
            let (x, weight) = (x.into_dispatch(), conv.weight.val().into_dispatch());
            return Tensor::from_dispatch(<Dispatch as extension::TrainKernels>::depthwise_conv2d(
                x, weight, stride, padding,
            ));
        }
        #[cfg(any(feature = "flex", test))]
        if flex_takes(&x) {
            let (x, weight) = (x.into_dispatch(), conv.weight.val().into_dispatch());
            return Tensor::from_dispatch(<Dispatch as cpu::backend::FlexKernels>::dense_conv2d(
                x, weight, stride, padding,
            ));
        }
    }
    let pointwise = conv.kernel_size == [1, 1] && conv.stride == [1, 1] && conv.groups == 1;
    let unpadded = matches!(conv.padding, PaddingConfig2d::Explicit(0, 0, 0, 0));
    if pointwise && unpadded && x.is_autodiff() {
        return pointwise_matmul(conv, x);
    }
    conv.forward(x)
}

/// A convolution the kernels take.
#[cfg(any(feature = "flex", feature = "cube", test))]
struct KernelGeometry {
    /// One input channel per group (else one group).
    depthwise: bool,
    stride: usize,
    padding: usize,
}

/// The geometry of `conv` on `x` when the kernels take it: one group or one input channel
/// per group, square kernel, equal strides and padding, no dilation, no bias.
#[cfg(any(feature = "flex", feature = "cube", test))]
fn kernel_geometry(conv: &Conv2d, x: &Tensor<4>) -> Option<KernelGeometry> {
    let [_, c_in, _, _] = x.dims();
    let [c_out, per_group, kh, kw] = conv.weight.dims();
    let PaddingConfig2d::Explicit(top, left, bottom, right) = conv.padding else {
        return None;
    };
    let [sy, sx] = conv.stride;
    let depthwise = conv.groups == c_in && c_in > 1 && per_group == 1 && c_out % c_in == 0;
    let simple = (depthwise || (conv.groups == 1 && per_group == c_in))
        && kh == kw
        && sy == sx
        && top == left
        && top == bottom
        && top == right
        && conv.dilation == [1, 1]
        && conv.bias.is_none();
    simple.then_some(KernelGeometry {
        depthwise,
        stride: sy,
        padding: top,
    })
}

/// A dense 1x1 stride-1 convolution as a batched matrix product: the same sums, with a
/// backward pass 2-3x faster than the convolution's on the CPU backends.
fn pointwise_matmul(conv: &Conv2d, x: Tensor<4>) -> Tensor<4> {
    let [n, c_in, h, w] = x.dims();
    let [c_out, ..] = conv.weight.dims();
    let weight: Tensor<3> = conv.weight.val().reshape([1, c_out, c_in]);
    let y = weight
        .matmul(x.reshape([n, c_in, h * w]))
        .reshape([n, c_out, h, w]);
    match &conv.bias {
        Some(bias) => y + bias.val().reshape([1, c_out, 1, 1]),
        None => y,
    }
}

/// Applies `bn` to `x` (batch statistics and a running-statistics update in training, as
/// burn's `BatchNorm::forward`).
pub fn batch_norm(bn: &BatchNorm, x: Tensor<4>) -> Tensor<4> {
    #[cfg(any(feature = "flex", feature = "cube", test))]
    if bn.training.is_enabled() && route(&x).is_some() {
        return batch_norm_train(bn, x, None);
    }
    bn.forward(x)
}

/// An activation that the BatchNorm kernel applies in the same passes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum NormAct {
    /// [`relu6`].
    Relu6,
    /// [`silu`].
    Silu,
}

/// `act(bn(x))`: [`batch_norm`] then [`relu6`] or [`silu`], in one kernel where the kernels
/// take both.
pub fn batch_norm_act(bn: &BatchNorm, x: Tensor<4>, act: NormAct) -> Tensor<4> {
    #[cfg(any(feature = "flex", feature = "cube", test))]
    if bn.training.is_enabled() && route(&x).is_some() {
        return batch_norm_train(bn, x, Some(act));
    }
    let y = bn.forward(x);
    match act {
        NormAct::Relu6 => relu6(y),
        NormAct::Silu => silu(y),
    }
}

/// Training-mode BatchNorm (and `act`) on the kernels, with burn's running-statistics update.
#[cfg(any(feature = "flex", feature = "cube", test))]
fn batch_norm_train(bn: &BatchNorm, x: Tensor<4>, act: Option<NormAct>) -> Tensor<4> {
    let device = x.device();
    let out = <burn::backend::Dispatch as extension::TrainKernels>::batch_norm_act_train(
        x.into_dispatch(),
        bn.gamma.val().into_dispatch(),
        bn.beta.val().into_dispatch(),
        bn.epsilon,
        act,
    );
    let (mean, var) = (
        Tensor::<1>::from_dispatch(out.mean),
        Tensor::<1>::from_dispatch(out.var),
    );
    let blend = |running: Tensor<1>, batch: Tensor<1>| {
        running
            .to_device(&device)
            .mul_scalar(1.0 - bn.momentum)
            .add(batch.detach().mul_scalar(bn.momentum))
            .detach()
    };
    bn.running_mean
        .update(blend(bn.running_mean.value_sync(), mean));
    bn.running_var
        .update(blend(bn.running_var.value_sync(), var));
    Tensor::from_dispatch(out.output)
}

/// `min(max(x, 0), 6)`.
pub fn relu6<const D: usize>(x: Tensor<D>) -> Tensor<D> {
    #[cfg(any(feature = "flex", test))]
    if flex_takes(&x) {
        return Tensor::from_dispatch(
            <burn::backend::Dispatch as cpu::backend::FlexKernels>::relu6(x.into_dispatch()),
        );
    }
    act::relu6(x)
}

/// `x * sigmoid(x)`.
pub fn silu<const D: usize>(x: Tensor<D>) -> Tensor<D> {
    #[cfg(any(feature = "flex", test))]
    if flex_takes(&x) {
        return Tensor::from_dispatch(
            <burn::backend::Dispatch as cpu::backend::FlexKernels>::silu(x.into_dispatch()),
        );
    }
    act::silu(x)
}

/// Channels `start..start + len` of `x` (axis 1), as a tensor of its own.
pub fn narrow_channels(x: Tensor<4>, start: usize, len: usize) -> Tensor<4> {
    #[cfg(any(feature = "flex", test))]
    if flex_takes(&x) {
        return Tensor::from_dispatch(
            <burn::backend::Dispatch as cpu::backend::FlexKernels>::narrow_channels(
                x.into_dispatch(),
                start,
                len,
            ),
        );
    }
    x.narrow(1, start, len)
}

/// `parts` concatenated along the channels (axis 1).
pub fn cat_channels(parts: Vec<Tensor<4>>) -> Tensor<4> {
    #[cfg(any(feature = "flex", test))]
    if parts.len() > 1 && parts.iter().all(flex_takes) {
        use burn::backend::Dispatch;
        let mut parts = parts.into_iter();
        let first = parts.next().expect("two parts or more");
        return parts.fold(first, |joined, part| {
            Tensor::from_dispatch(<Dispatch as cpu::backend::FlexKernels>::cat_channels(
                joined.into_dispatch(),
                part.into_dispatch(),
            ))
        });
    }
    Tensor::cat(parts, 1)
}

/// PReLU with `prelu`'s slopes (one, or one per channel of axis 1).
pub fn prelu<const D: usize>(prelu: &PRelu, x: Tensor<D>) -> Tensor<D> {
    #[cfg(any(feature = "flex", test))]
    if D >= 2 && flex_takes(&x) {
        return Tensor::from_dispatch(
            <burn::backend::Dispatch as cpu::backend::FlexKernels>::prelu(
                x.into_dispatch(),
                prelu.alpha.val().into_dispatch(),
            ),
        );
    }
    prelu.forward(x)
}
