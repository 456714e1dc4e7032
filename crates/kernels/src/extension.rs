//! The kernels as burn backend extensions, and the one backward step of each.
//!
//! - [`TrainKernels`]: depth-wise convolution and training-mode BatchNorm with its activation,
//!   on the flex CPU backend and the CubeCL GPU backends (wgpu, CUDA), lazily through burn's
//!   fusion where it is on, and on `Autodiff` of any of them with a backward step built from
//!   the inner backend's [`TrainGrads`].
//! - [`FlexKernels`]: dense convolution, ReLU6, SiLU and PReLU, on flex only (the GPUs run
//!   burn's own operations there: autotuned convolutions and fused element-wise kernels).
//!
//! Inputs are `f32` (the dispatcher in the crate root checks it).

use crate::NormAct;
use burn::backend::autodiff::checkpoint::base::Checkpointer;
use burn::backend::autodiff::checkpoint::strategy::CheckpointStrategy;
use burn::backend::autodiff::grads::Gradients;
use burn::backend::autodiff::ops::{Backward, Ops, OpsKind};
use burn::backend::tensor::FloatTensor;
use burn::backend::{Autodiff, Backend, ExtensionType, backend_extension};

/// Training-mode BatchNorm's output with the batch statistics it used.
#[derive(ExtensionType)]
#[extension_type(fusion: cfg(feature = "cube"))]
pub struct NormOut<B: Backend> {
    /// The normalised, scaled, shifted (and activated) input.
    pub output: FloatTensor<B>,
    /// Per-channel batch mean.
    pub mean: FloatTensor<B>,
    /// Per-channel biased batch variance.
    pub var: FloatTensor<B>,
}

/// The gradients of training-mode BatchNorm.
#[derive(ExtensionType)]
#[extension_type(fusion: cfg(feature = "cube"))]
pub struct NormGrads<B: Backend> {
    /// With respect to the input.
    pub x: FloatTensor<B>,
    /// With respect to the scale.
    pub gamma: FloatTensor<B>,
    /// With respect to the shift.
    pub beta: FloatTensor<B>,
}

/// The output shape of a depth-wise convolution of `x` by `weight` (fusion's output metadata).
#[cfg(feature = "cube")]
fn depthwise_out_shape(
    x: &burn::tensor::Shape,
    weight: &burn::tensor::Shape,
    stride: &usize,
    padding: &usize,
) -> burn::tensor::Shape {
    let (dims, [c_out, _, k, _]) = (x.as_slice(), weight.dims::<4>());
    let out = |len: usize| (len + 2 * padding).saturating_sub(k) / stride + 1;
    burn::tensor::Shape::new([dims[0], c_out, out(dims[2]), out(dims[3])])
}

/// Fusion's output metadata of [`TrainKernels::batch_norm_act_train`] on input `x`.
#[cfg(feature = "cube")]
fn norm_out_meta(x: &burn::backend::fusion::custom::TensorSpec) -> NormOutMetadata {
    let stats = burn::backend::fusion::custom::TensorSpec::new([x.shape[1]].into(), x.dtype);
    NormOutMetadata {
        output: x.clone(),
        mean: stats.clone(),
        var: stats,
    }
}

/// Depth-wise convolution and training-mode BatchNorm, the operations every backend with
/// kernels of this crate runs.
#[backend_extension(
    Flex: cfg(any(feature = "flex", test)),
    Cube: cfg(feature = "cube"),
    Autodiff,
    Fusion: cfg(feature = "cube")
)]
pub trait TrainKernels: Backend {
    /// Depth-wise convolution of `[n, c, h, w]` by a `[m * c, 1, k, k]` weight, no bias.
    #[fusion(dtype = x, shape = depthwise_out_shape(x, weight, stride, padding))]
    fn depthwise_conv2d(
        x: FloatTensor<Self>,
        weight: FloatTensor<Self>,
        stride: usize,
        padding: usize,
    ) -> FloatTensor<Self>;
    /// Training-mode BatchNorm of `[n, c, ...]` with batch statistics, then `act` if any.
    #[fusion(meta = |x, _gamma, _beta, _epsilon, _act| norm_out_meta(x))]
    fn batch_norm_act_train(
        x: FloatTensor<Self>,
        gamma: FloatTensor<Self>,
        beta: FloatTensor<Self>,
        epsilon: f64,
        act: Option<NormAct>,
    ) -> NormOut<Self>;
}

/// The gradients of [`TrainKernels`]' operations, which their backward steps call on the
/// backend under `Autodiff`.
#[backend_extension(
    Flex: cfg(any(feature = "flex", test)),
    Cube: cfg(feature = "cube"),
    Fusion: cfg(feature = "cube")
)]
pub trait TrainGrads: Backend {
    /// The gradient of [`TrainKernels::depthwise_conv2d`] with respect to its input `x`, for
    /// output gradient `grad`.
    #[fusion(dtype = x, shape = x)]
    fn depthwise_input_grad(
        x: FloatTensor<Self>,
        weight: FloatTensor<Self>,
        grad: FloatTensor<Self>,
        stride: usize,
        padding: usize,
    ) -> FloatTensor<Self>;
    /// The gradient of [`TrainKernels::depthwise_conv2d`] with respect to its weight.
    #[fusion(dtype = weight, shape = weight)]
    fn depthwise_weight_grad(
        x: FloatTensor<Self>,
        weight: FloatTensor<Self>,
        grad: FloatTensor<Self>,
        stride: usize,
        padding: usize,
    ) -> FloatTensor<Self>;
    /// The gradients of [`TrainKernels::batch_norm_act_train`] with respect to `x`, `gamma` and
    /// `beta`, for output gradient `grad` and the batch statistics the forward pass used.
    #[allow(clippy::too_many_arguments)]
    #[fusion(meta = |x, _grad, gamma, beta, _mean, _var, _epsilon, _act| NormGradsMetadata {
        x: x.clone(),
        gamma: gamma.clone(),
        beta: beta.clone(),
    })]
    fn batch_norm_act_backward(
        x: FloatTensor<Self>,
        grad: FloatTensor<Self>,
        gamma: FloatTensor<Self>,
        beta: FloatTensor<Self>,
        mean: FloatTensor<Self>,
        var: FloatTensor<Self>,
        epsilon: f64,
        act: Option<NormAct>,
    ) -> NormGrads<Self>;
}

/// Backward step of the depth-wise convolution; the state is the input and the weight.
#[derive(Debug)]
struct DepthwiseBackward {
    stride: usize,
    padding: usize,
}

impl<B: TrainGrads> Backward<B, 2> for DepthwiseBackward {
    type State = (FloatTensor<B>, FloatTensor<B>);

    fn backward(self, ops: Ops<Self::State, 2>, grads: &mut Gradients, _: &mut Checkpointer) {
        let [node_x, node_w] = ops.parents;
        let grad = grads.consume::<B>(&ops.node);
        let (x, weight) = ops.state;
        let (stride, padding) = (self.stride, self.padding);
        if let Some(node) = node_x {
            let dx =
                B::depthwise_input_grad(x.clone(), weight.clone(), grad.clone(), stride, padding);
            grads.register::<B>(node.id, dx);
        }
        if let Some(node) = node_w {
            let dw = B::depthwise_weight_grad(x, weight, grad, stride, padding);
            grads.register::<B>(node.id, dw);
        }
    }
}

/// Backward step of training-mode BatchNorm (and its activation); the state is the input,
/// gamma, beta and the batch statistics.
#[derive(Debug)]
struct BatchNormBackward {
    epsilon: f64,
    act: Option<NormAct>,
}

impl<B: TrainGrads> Backward<B, 3> for BatchNormBackward {
    type State = [FloatTensor<B>; 5];

    fn backward(self, ops: Ops<Self::State, 3>, grads: &mut Gradients, _: &mut Checkpointer) {
        let [node_x, node_gamma, node_beta] = ops.parents;
        let grad = grads.consume::<B>(&ops.node);
        let [x, gamma, beta, mean, var] = ops.state;
        let out =
            B::batch_norm_act_backward(x, grad, gamma, beta, mean, var, self.epsilon, self.act);
        for (node, grad) in [
            (node_x, out.x),
            (node_gamma, out.gamma),
            (node_beta, out.beta),
        ] {
            if let Some(node) = node {
                grads.register::<B>(node.id, grad);
            }
        }
    }
}

impl<B: TrainKernels + TrainGrads, C: CheckpointStrategy> TrainKernels for Autodiff<B, C> {
    fn depthwise_conv2d(
        x: FloatTensor<Self>,
        weight: FloatTensor<Self>,
        stride: usize,
        padding: usize,
    ) -> FloatTensor<Self> {
        let step = DepthwiseBackward { stride, padding };
        match step
            .prepare::<C>([x.node(), weight.node()])
            .compute_bound()
            .stateful()
        {
            OpsKind::Tracked(prep) => {
                let (x, weight) = (x.into_primitive(), weight.into_primitive());
                let out = B::depthwise_conv2d(x.clone(), weight.clone(), stride, padding);
                prep.finish((x, weight), out)
            }
            OpsKind::UnTracked(prep) => prep.finish(B::depthwise_conv2d(
                x.into_primitive(),
                weight.into_primitive(),
                stride,
                padding,
            )),
        }
    }

    fn batch_norm_act_train(
        x: FloatTensor<Self>,
        gamma: FloatTensor<Self>,
        beta: FloatTensor<Self>,
        epsilon: f64,
        act: Option<NormAct>,
    ) -> NormOut<Self> {
        let prepared = BatchNormBackward { epsilon, act }
            .prepare::<C>([x.node(), gamma.node(), beta.node()])
            .compute_bound()
            .stateful();
        let (x, gamma) = (x.into_primitive(), gamma.into_primitive());
        let beta = beta.into_primitive();
        let out = B::batch_norm_act_train(x.clone(), gamma.clone(), beta.clone(), epsilon, act);
        let (mean, var) = (out.mean, out.var);
        let output = match prepared {
            OpsKind::Tracked(prep) => {
                prep.finish([x, gamma, beta, mean.clone(), var.clone()], out.output)
            }
            OpsKind::UnTracked(prep) => prep.finish(out.output),
        };
        NormOut {
            output,
            mean: <FloatTensor<Self>>::new(mean),
            var: <FloatTensor<Self>>::new(var),
        }
    }
}
