//! [`TrainKernels`] and [`TrainGrads`] on the CubeCL backend (every cubecl runtime: wgpu,
//! CUDA), through the launches of [`super::launch`]. Under burn's `fusion` feature the
//! generated `Fusion<CubeBackend>` implementations call these when the fused stream runs.

use super::launch;
use crate::NormAct;
use crate::extension::{NormGrads, NormOut, TrainGrads, TrainKernels};
use burn::backend::TensorMetadata;
use burn_cubecl::CubeBackend;
use burn_cubecl::tensor::CubeTensor;

impl TrainKernels for CubeBackend {
    fn depthwise_conv2d(
        x: CubeTensor,
        weight: CubeTensor,
        stride: usize,
        padding: usize,
    ) -> CubeTensor {
        launch::depthwise_forward(x, weight, stride, padding)
    }

    fn batch_norm_act_train(
        x: CubeTensor,
        gamma: CubeTensor,
        beta: CubeTensor,
        epsilon: f64,
        act: Option<NormAct>,
    ) -> NormOut<Self> {
        let (output, mean, var) = launch::batch_norm_train(x, gamma, beta, epsilon as f32, act);
        NormOut { output, mean, var }
    }
}

impl TrainGrads for CubeBackend {
    fn depthwise_input_grad(
        x: CubeTensor,
        weight: CubeTensor,
        grad: CubeTensor,
        stride: usize,
        padding: usize,
    ) -> CubeTensor {
        launch::depthwise_input_grad(&x.shape(), weight, grad, stride, padding)
    }

    fn depthwise_weight_grad(
        x: CubeTensor,
        weight: CubeTensor,
        grad: CubeTensor,
        stride: usize,
        padding: usize,
    ) -> CubeTensor {
        launch::depthwise_weight_grad(x, &weight.shape(), grad, stride, padding)
    }

    fn batch_norm_act_backward(
        x: CubeTensor,
        grad: CubeTensor,
        gamma: CubeTensor,
        beta: CubeTensor,
        mean: CubeTensor,
        var: CubeTensor,
        epsilon: f64,
        act: Option<NormAct>,
    ) -> NormGrads<Self> {
        let params = [gamma, beta, mean, var];
        let (x, gamma, beta) = launch::batch_norm_backward(x, grad, params, epsilon as f32, act);
        NormGrads { x, gamma, beta }
    }
}
