//! The flex kernels as burn backend extensions: [`TrainKernels`] and [`TrainGrads`] on `Flex`
//! (depth-wise convolution, BatchNorm; their backward step is the generic one of
//! [`crate::extension`]), and [`FlexKernels`] (dense convolution, ReLU6, SiLU, PReLU), which
//! only the CPU takes, on `Flex` and with its own backward steps on `Autodiff<Flex, C>`.

use super::channels;
use super::dense::{self, Dense};
use super::depthwise::{self, Depthwise};
use super::norm::{self, Norm, Planes};
use super::pointwise;
use crate::NormAct;
use crate::extension::{NormGrads, NormOut, TrainGrads, TrainKernels};
use burn::backend::TensorMetadata;
use burn::backend::autodiff::checkpoint::base::Checkpointer;
use burn::backend::autodiff::checkpoint::strategy::CheckpointStrategy;
use burn::backend::autodiff::grads::Gradients;
use burn::backend::autodiff::ops::{Backward, Ops, OpsKind};
use burn::backend::flex::FlexTensor;
use burn::backend::tensor::FloatTensor;
use burn::backend::{Autodiff, Backend, Flex, backend_extension};
use burn::tensor::{Shape, TensorData};
use std::marker::PhantomData;

/// The operations only the CPU kernels take (the GPUs run burn's own, autotuned and fused).
#[backend_extension(Flex, Autodiff)]
pub trait FlexKernels: Backend {
    /// Dense convolution of `[n, c_in, h, w]` by a `[c_out, c_in, k, k]` weight, no bias.
    fn dense_conv2d(
        x: FloatTensor<Self>,
        weight: FloatTensor<Self>,
        stride: usize,
        padding: usize,
    ) -> FloatTensor<Self>;
    /// `min(max(x, 0), 6)`.
    fn relu6(x: FloatTensor<Self>) -> FloatTensor<Self>;
    /// `x * sigmoid(x)`.
    fn silu(x: FloatTensor<Self>) -> FloatTensor<Self>;
    /// `x < 0 ? alpha * x : x` over `[n, c, ...]`, `alpha` of 1 or `c` slopes.
    fn prelu(x: FloatTensor<Self>, alpha: FloatTensor<Self>) -> FloatTensor<Self>;
    /// Channels `start..start + len` of `[n, c, ...]`.
    fn narrow_channels(x: FloatTensor<Self>, start: usize, len: usize) -> FloatTensor<Self>;
    /// `[n, ca + cb, ...]`: the channels of `a`, then those of `b`.
    fn cat_channels(a: FloatTensor<Self>, b: FloatTensor<Self>) -> FloatTensor<Self>;
}

/// The contiguous `f32` values of a tensor.
fn values(t: &FlexTensor) -> FlexTensor {
    t.to_contiguous()
}

fn slice(t: &FlexTensor) -> &[f32] {
    t.as_slice::<f32>()
        .expect("the dispatcher routes only contiguous f32 tensors here")
}

/// A contiguous tensor of its own (copied when it was shared), to overwrite in place.
fn owned(t: FlexTensor) -> FlexTensor {
    let contiguous = t.to_contiguous();
    drop(t);
    contiguous
}

/// The values of an [`owned`] tensor, writable (copy-on-write when shared after all).
fn slice_mut(t: &mut FlexTensor) -> &mut [f32] {
    let (start, end) = t
        .layout()
        .contiguous_offsets()
        .expect("owned tensors are contiguous");
    &mut t.storage_mut::<f32>()[start..end]
}

fn tensor(values: Vec<f32>, shape: impl Into<Shape>) -> FlexTensor {
    FlexTensor::from_data(TensorData::new(values, shape.into()))
}

/// The shape of `x` with `c` channels.
fn with_channels(x: &FlexTensor, c: usize) -> Shape {
    let mut dims = x.shape().as_slice().to_vec();
    dims[1] = c;
    Shape::from(dims)
}

fn planes(x: &FlexTensor) -> Planes {
    let shape = x.shape();
    let dims = shape.as_slice();
    Planes {
        n: dims[0],
        c: dims[1],
        hw: dims[2..].iter().product(),
    }
}

impl TrainKernels for Flex {
    fn depthwise_conv2d(
        x: FlexTensor,
        weight: FlexTensor,
        stride: usize,
        padding: usize,
    ) -> FlexTensor {
        conv_forward::<DepthwiseKernel>(x, weight, stride, padding)
    }

    fn batch_norm_act_train(
        x: FlexTensor,
        gamma: FlexTensor,
        beta: FlexTensor,
        epsilon: f64,
        act: Option<NormAct>,
    ) -> NormOut<Self> {
        let p = planes(&x);
        let shape = x.shape();
        let (x, gamma, beta) = (values(&x), values(&gamma), values(&beta));
        let (mean, var) = norm::batch_stats(slice(&x), &p);
        let params = Norm {
            mean: &mean,
            var: &var,
            gamma: slice(&gamma),
            beta: slice(&beta),
            eps: epsilon,
            act,
        };
        let out = norm::batch_norm_forward(slice(&x), &p, &params);
        NormOut {
            output: tensor(out, shape),
            mean: tensor(mean, [p.c]),
            var: tensor(var, [p.c]),
        }
    }
}

impl TrainGrads for Flex {
    fn depthwise_input_grad(
        x: FlexTensor,
        weight: FlexTensor,
        grad: FlexTensor,
        stride: usize,
        padding: usize,
    ) -> FlexTensor {
        conv_input_grad::<DepthwiseKernel>(&x, &weight, &grad, stride, padding)
    }

    fn depthwise_weight_grad(
        x: FlexTensor,
        weight: FlexTensor,
        grad: FlexTensor,
        stride: usize,
        padding: usize,
    ) -> FlexTensor {
        conv_weight_grad::<DepthwiseKernel>(&x, &weight, &grad, stride, padding)
    }

    fn batch_norm_act_backward(
        x: FlexTensor,
        grad: FlexTensor,
        gamma: FlexTensor,
        beta: FlexTensor,
        mean: FlexTensor,
        var: FlexTensor,
        epsilon: f64,
        act: Option<NormAct>,
    ) -> NormGrads<Self> {
        let mut grad = owned(grad);
        let (x, gamma, beta) = (values(&x), values(&gamma), values(&beta));
        let (mean, var) = (values(&mean), values(&var));
        let p = planes(&x);
        let params = Norm {
            mean: slice(&mean),
            var: slice(&var),
            gamma: slice(&gamma),
            beta: slice(&beta),
            eps: epsilon,
            act,
        };
        let (dgamma, dbeta) =
            norm::batch_norm_backward(slice(&x), slice_mut(&mut grad), &p, &params);
        NormGrads {
            x: grad,
            gamma: tensor(dgamma, [p.c]),
            beta: tensor(dbeta, [p.c]),
        }
    }
}

impl FlexKernels for Flex {
    fn dense_conv2d(
        x: FlexTensor,
        weight: FlexTensor,
        stride: usize,
        padding: usize,
    ) -> FlexTensor {
        conv_forward::<DenseKernel>(x, weight, stride, padding)
    }

    fn relu6(x: FlexTensor) -> FlexTensor {
        let shape = x.shape();
        tensor(pointwise::relu6_forward(slice(&values(&x))), shape)
    }

    fn silu(x: FlexTensor) -> FlexTensor {
        let shape = x.shape();
        tensor(pointwise::silu_forward(slice(&values(&x))), shape)
    }

    fn prelu(x: FlexTensor, alpha: FlexTensor) -> FlexTensor {
        let (p, shape) = (planes(&x), x.shape());
        let (x, alpha) = (values(&x), values(&alpha));
        tensor(
            pointwise::prelu_forward(slice(&x), &p, slice(&alpha)),
            shape,
        )
    }

    fn narrow_channels(x: FlexTensor, start: usize, len: usize) -> FlexTensor {
        let x = values(&x);
        let picked = channels::pick(slice(&x), planes(&x), start..start + len);
        tensor(picked, with_channels(&x, len))
    }

    fn cat_channels(a: FlexTensor, b: FlexTensor) -> FlexTensor {
        let (a, b) = (values(&a), values(&b));
        let (ca, cb) = (planes(&a).c, planes(&b).c);
        let at = Planes {
            c: ca + cb,
            ..planes(&a)
        };
        let parts = [(slice(&a), ca), (slice(&b), cb)];
        tensor(channels::place(&parts, at, 0), with_channels(&a, ca + cb))
    }
}

/// A convolution kernel over the geometry `G`: the forward `(x, weight)`, the input gradient
/// `(grad, weight)` or the weight gradient `(x, grad)`.
type ConvFn<G> = fn(&[f32], &[f32], &G) -> Vec<f32>;

/// A convolution's kernels: its geometry, forward and the two gradients.
trait ConvKernel: std::fmt::Debug + Send + 'static {
    /// The geometry the kernels take.
    type Geometry;
    /// The forward convolution.
    const FORWARD: ConvFn<Self::Geometry>;
    /// The gradient with respect to the input.
    const INPUT_GRAD: ConvFn<Self::Geometry>;
    /// The gradient with respect to the weight.
    const WEIGHT_GRAD: ConvFn<Self::Geometry>;
    /// The geometry of input `x` and `weight`.
    fn geometry(x: &FlexTensor, weight: &FlexTensor, stride: usize, pad: usize) -> Self::Geometry;
    /// The output shape `[n, c_out, ho, wo]`.
    fn out_shape(g: &Self::Geometry) -> [usize; 4];
}

/// The depth-wise convolution's kernels.
#[derive(Debug)]
struct DepthwiseKernel;

impl ConvKernel for DepthwiseKernel {
    type Geometry = Depthwise;
    const FORWARD: ConvFn<Depthwise> = depthwise::depthwise_forward;
    const INPUT_GRAD: ConvFn<Depthwise> = depthwise::depthwise_input_grad;
    const WEIGHT_GRAD: ConvFn<Depthwise> = depthwise::depthwise_weight_grad;

    fn geometry(x: &FlexTensor, weight: &FlexTensor, stride: usize, pad: usize) -> Depthwise {
        Depthwise::new(x.shape().dims(), weight.shape().dims(), stride, pad)
    }

    fn out_shape(g: &Depthwise) -> [usize; 4] {
        let (ho, wo) = g.out_hw().unwrap_or((0, 0));
        [g.n, g.c_out(), ho, wo]
    }
}

/// The dense convolution's kernels.
#[derive(Debug)]
struct DenseKernel;

impl ConvKernel for DenseKernel {
    type Geometry = Dense;
    const FORWARD: ConvFn<Dense> = dense::dense_forward;
    const INPUT_GRAD: ConvFn<Dense> = dense::dense_input_grad;
    const WEIGHT_GRAD: ConvFn<Dense> = dense::dense_weight_grad;

    fn geometry(x: &FlexTensor, weight: &FlexTensor, stride: usize, pad: usize) -> Dense {
        let [n, c_in, h, w] = x.shape().dims();
        let [c_out, _, k, _] = weight.shape().dims();
        Dense {
            n,
            c_in,
            c_out,
            h,
            w,
            k,
            stride,
            pad,
        }
    }

    fn out_shape(g: &Dense) -> [usize; 4] {
        let (ho, wo) = g.out_hw().unwrap_or((0, 0));
        [g.n, g.c_out, ho, wo]
    }
}

/// The forward convolution of kernel `K` on `Flex`.
fn conv_forward<K: ConvKernel>(
    x: FlexTensor,
    weight: FlexTensor,
    stride: usize,
    padding: usize,
) -> FlexTensor {
    let g = K::geometry(&x, &weight, stride, padding);
    let (x, weight) = (values(&x), values(&weight));
    let out = K::FORWARD(slice(&x), slice(&weight), &g);
    tensor(out, K::out_shape(&g))
}

/// The input gradient of the convolution of kernel `K` for output gradient `grad`.
fn conv_input_grad<K: ConvKernel>(
    x: &FlexTensor,
    weight: &FlexTensor,
    grad: &FlexTensor,
    stride: usize,
    padding: usize,
) -> FlexTensor {
    let g = K::geometry(x, weight, stride, padding);
    let (grad, weight) = (values(grad), values(weight));
    tensor(K::INPUT_GRAD(slice(&grad), slice(&weight), &g), x.shape())
}

/// The weight gradient of the convolution of kernel `K` for output gradient `grad`.
fn conv_weight_grad<K: ConvKernel>(
    x: &FlexTensor,
    weight: &FlexTensor,
    grad: &FlexTensor,
    stride: usize,
    padding: usize,
) -> FlexTensor {
    let g = K::geometry(x, weight, stride, padding);
    let (x, grad) = (values(x), values(grad));
    tensor(K::WEIGHT_GRAD(slice(&x), slice(&grad), &g), weight.shape())
}

/// Backward step of the convolution of kernel `K`; the state is the input and the weight.
#[derive(Debug)]
struct ConvBackward<K> {
    stride: usize,
    padding: usize,
    kernel: PhantomData<K>,
}

impl<K: ConvKernel> Backward<Flex, 2> for ConvBackward<K> {
    type State = (FlexTensor, FlexTensor);

    fn backward(self, ops: Ops<Self::State, 2>, grads: &mut Gradients, _: &mut Checkpointer) {
        let [node_x, node_w] = ops.parents;
        let grad = values(&grads.consume::<Flex>(&ops.node));
        let (x, weight) = ops.state;
        let (stride, padding) = (self.stride, self.padding);
        if let Some(node) = node_x {
            let dx = conv_input_grad::<K>(&x, &weight, &grad, stride, padding);
            grads.register::<Flex>(node.id, dx);
        }
        if let Some(node) = node_w {
            let dw = conv_weight_grad::<K>(&x, &weight, &grad, stride, padding);
            grads.register::<Flex>(node.id, dw);
        }
    }
}

/// The convolution of kernel `K` on `Autodiff<Flex, C>`, its backward step registered when
/// tracked.
fn conv_autodiff<K: ConvKernel, C: CheckpointStrategy>(
    x: FloatTensor<Autodiff<Flex, C>>,
    weight: FloatTensor<Autodiff<Flex, C>>,
    stride: usize,
    padding: usize,
) -> FloatTensor<Autodiff<Flex, C>> {
    let step = ConvBackward::<K> {
        stride,
        padding,
        kernel: PhantomData,
    };
    match step
        .prepare::<C>([x.node(), weight.node()])
        .compute_bound()
        .stateful()
    {
        OpsKind::Tracked(prep) => {
            let (x, weight) = (values(x.primitive()), values(weight.primitive()));
            let out = conv_forward::<K>(x.clone(), weight.clone(), stride, padding);
            prep.finish((x, weight), out)
        }
        OpsKind::UnTracked(prep) => prep.finish(conv_forward::<K>(
            x.into_primitive(),
            weight.into_primitive(),
            stride,
            padding,
        )),
    }
}

/// Backward step of an element-wise activation; the state is the input, `backward` scales the
/// upstream gradient in place by the activation's derivative there.
#[derive(Debug)]
struct UnaryBackward {
    backward: fn(&[f32], &mut [f32]),
}

impl Backward<Flex, 1> for UnaryBackward {
    type State = FlexTensor;

    fn backward(self, ops: Ops<Self::State, 1>, grads: &mut Gradients, _: &mut Checkpointer) {
        let [node] = ops.parents;
        let mut grad = owned(grads.consume::<Flex>(&ops.node));
        if let Some(node) = node {
            (self.backward)(slice(&ops.state), slice_mut(&mut grad));
            grads.register::<Flex>(node.id, grad);
        }
    }
}

/// The element-wise activation `forward` on `Autodiff<Flex, C>`, `backward` its
/// [`UnaryBackward`] step.
fn unary_autodiff<C: CheckpointStrategy>(
    x: FloatTensor<Autodiff<Flex, C>>,
    forward: fn(FlexTensor) -> FlexTensor,
    backward: fn(&[f32], &mut [f32]),
) -> FloatTensor<Autodiff<Flex, C>> {
    let step = UnaryBackward { backward };
    match step.prepare::<C>([x.node()]).compute_bound().stateful() {
        OpsKind::Tracked(prep) => {
            let x = values(x.primitive());
            let out = forward(x.clone());
            prep.finish(x, out)
        }
        OpsKind::UnTracked(prep) => prep.finish(forward(x.into_primitive())),
    }
}

/// Backward step of PReLU; the state is the input and the slopes.
#[derive(Debug)]
struct PreluBackward;

impl Backward<Flex, 2> for PreluBackward {
    type State = (FlexTensor, FlexTensor);

    fn backward(self, ops: Ops<Self::State, 2>, grads: &mut Gradients, _: &mut Checkpointer) {
        let [node_x, node_alpha] = ops.parents;
        let mut grad = owned(grads.consume::<Flex>(&ops.node));
        let (x, alpha) = ops.state;
        let p = planes(&x);
        let dalpha = pointwise::prelu_backward(slice(&x), slice_mut(&mut grad), &p, slice(&alpha));
        if let Some(node) = node_x {
            grads.register::<Flex>(node.id, grad);
        }
        if let Some(node) = node_alpha {
            grads.register::<Flex>(node.id, tensor(dalpha, alpha.shape()));
        }
    }
}

/// Backward step of [`FlexKernels::narrow_channels`]: the gradient in its channels of the
/// input's shape, zeros elsewhere.
#[derive(Debug)]
struct NarrowBackward {
    /// The input's shape and the first channel taken.
    shape: Shape,
    start: usize,
}

impl Backward<Flex, 1> for NarrowBackward {
    type State = ();

    fn backward(self, ops: Ops<Self::State, 1>, grads: &mut Gradients, _: &mut Checkpointer) {
        let [node] = ops.parents;
        let grad = values(&grads.consume::<Flex>(&ops.node));
        if let Some(node) = node {
            let g = planes(&grad);
            let at = Planes {
                c: self.shape.as_slice()[1],
                ..g
            };
            let full = channels::place(&[(slice(&grad), g.c)], at, self.start);
            grads.register::<Flex>(node.id, tensor(full, self.shape));
        }
    }
}

/// Backward step of [`FlexKernels::cat_channels`]: the gradient's channels of each input.
#[derive(Debug)]
struct CatBackward {
    /// Channels of the first input.
    split: usize,
}

impl Backward<Flex, 2> for CatBackward {
    type State = ();

    fn backward(self, ops: Ops<Self::State, 2>, grads: &mut Gradients, _: &mut Checkpointer) {
        let grad = values(&grads.consume::<Flex>(&ops.node));
        let at = planes(&grad);
        let ranges = [0..self.split, self.split..at.c];
        for (node, range) in ops.parents.into_iter().zip(ranges) {
            if let Some(node) = node {
                let shape = with_channels(&grad, range.len());
                let part = channels::pick(slice(&grad), at, range);
                grads.register::<Flex>(node.id, tensor(part, shape));
            }
        }
    }
}

impl<C: CheckpointStrategy> FlexKernels for Autodiff<Flex, C> {
    fn dense_conv2d(
        x: FloatTensor<Self>,
        weight: FloatTensor<Self>,
        stride: usize,
        padding: usize,
    ) -> FloatTensor<Self> {
        conv_autodiff::<DenseKernel, C>(x, weight, stride, padding)
    }

    fn relu6(x: FloatTensor<Self>) -> FloatTensor<Self> {
        unary_autodiff::<C>(x, Flex::relu6, pointwise::relu6_backward)
    }

    fn silu(x: FloatTensor<Self>) -> FloatTensor<Self> {
        unary_autodiff::<C>(x, Flex::silu, pointwise::silu_backward)
    }

    fn prelu(x: FloatTensor<Self>, alpha: FloatTensor<Self>) -> FloatTensor<Self> {
        match PreluBackward
            .prepare::<C>([x.node(), alpha.node()])
            .compute_bound()
            .stateful()
        {
            OpsKind::Tracked(prep) => {
                let (x, alpha) = (values(x.primitive()), values(alpha.primitive()));
                let out = Flex::prelu(x.clone(), alpha.clone());
                prep.finish((x, alpha), out)
            }
            OpsKind::UnTracked(prep) => {
                prep.finish(Flex::prelu(x.into_primitive(), alpha.into_primitive()))
            }
        }
    }

    fn narrow_channels(x: FloatTensor<Self>, start: usize, len: usize) -> FloatTensor<Self> {
        let step = NarrowBackward {
            shape: x.primitive().shape(),
            start,
        };
        let out = Flex::narrow_channels(x.primitive().clone(), start, len);
        step.prepare::<C>([x.node()]).compute_bound().stateless(out)
    }

    fn cat_channels(a: FloatTensor<Self>, b: FloatTensor<Self>) -> FloatTensor<Self> {
        let step = CatBackward {
            split: a.primitive().shape().as_slice()[1],
        };
        let out = Flex::cat_channels(a.primitive().clone(), b.primitive().clone());
        step.prepare::<C>([a.node(), b.node()])
            .compute_bound()
            .stateless(out)
    }
}
