//! Convolution + BatchNorm (+ activation) blocks: the original's `Conv` and `DWConv`, and the
//! LWModel stem with its own PReLU.

use super::activation::Activation;
use crate::cost::{self, Feature, Walk};
use burn::module::Module;
use burn::nn::conv::{Conv2d, Conv2dConfig};
use burn::nn::{BatchNorm, BatchNormConfig, PRelu, PReluConfig, PaddingConfig2d};
use burn::tensor::{Device, Tensor};

/// BatchNorm momentum and epsilon the original sets on every BatchNorm (`initialize_weights`).
const BN_MOMENTUM: f64 = 0.03;
const BN_EPSILON: f64 = 1e-5;

/// Geometry of a [`ConvBn`].
#[derive(Debug, Clone, Copy)]
pub struct ConvSpec {
    /// Input channels.
    pub c_in: usize,
    /// Output channels.
    pub c_out: usize,
    /// Square kernel side.
    pub kernel: usize,
    /// Stride.
    pub stride: usize,
    /// Channel groups (the input and output channels must be multiples of it).
    pub groups: usize,
    /// Whether the convolution has a bias (only the pose head's do).
    pub bias: bool,
    /// Whether the activation follows the BatchNorm.
    pub activate: bool,
}

impl ConvSpec {
    /// A dense convolution without bias, followed by the activation (`Conv(c1, c2, k, s)`).
    pub fn new(c_in: usize, c_out: usize, kernel: usize, stride: usize) -> Self {
        Self {
            c_in,
            c_out,
            kernel,
            stride,
            groups: 1,
            bias: false,
            activate: true,
        }
    }

    /// A depth-wise convolution with `gcd(c_in, c_out)` groups (`DWConv(c1, c2, k, s)`).
    pub fn depthwise(c_in: usize, c_out: usize, kernel: usize, stride: usize) -> Self {
        Self {
            groups: gcd(c_in, c_out),
            ..Self::new(c_in, c_out, kernel, stride)
        }
    }

    /// The same convolution without the activation.
    pub fn linear(self) -> Self {
        Self {
            activate: false,
            ..self
        }
    }

    /// The same convolution with a bias.
    pub fn with_bias(self) -> Self {
        Self { bias: true, ..self }
    }

    fn conv(&self, device: &Device) -> Conv2d {
        let pad = self.kernel / 2;
        Conv2dConfig::new([self.c_in, self.c_out], [self.kernel, self.kernel])
            .with_stride([self.stride, self.stride])
            .with_groups(self.groups)
            .with_padding(PaddingConfig2d::Explicit(pad, pad, pad, pad))
            .with_bias(self.bias)
            .init(device)
    }
}

fn batch_norm(channels: usize, device: &Device) -> BatchNorm {
    BatchNormConfig::new(channels)
        .with_momentum(BN_MOMENTUM)
        .with_epsilon(BN_EPSILON)
        .init(device)
}

/// Greatest common divisor (the original's `math.gcd`).
fn gcd(a: usize, b: usize) -> usize {
    if b == 0 { a } else { gcd(b, a % b) }
}

/// Convolution, BatchNorm and, optionally, the model's activation.
#[derive(Module, Debug)]
pub struct ConvBn {
    pub(crate) conv: Conv2d,
    pub(crate) bn: BatchNorm,
    pub(crate) activate: bool,
}

impl ConvBn {
    /// The block `spec` describes, on `device`.
    pub(crate) fn new(spec: ConvSpec, device: &Device) -> Self {
        Self {
            conv: spec.conv(device),
            bn: batch_norm(spec.c_out, device),
            activate: spec.activate,
        }
    }

    /// Applies the block, with `act` when it has an activation.
    pub fn forward(&self, x: Tensor<4>, act: &Activation) -> Tensor<4> {
        let y = fdfat_kernels::conv2d(&self.conv, x);
        match (self.activate, act.after_batch_norm()) {
            (true, Some(fused)) => fdfat_kernels::batch_norm_act(&self.bn, y, fused),
            (true, None) => act.forward(fdfat_kernels::batch_norm(&self.bn, y)),
            (false, _) => fdfat_kernels::batch_norm(&self.bn, y),
        }
    }

    /// Output shape and multiply-adds on `input`.
    pub(crate) fn walk(&self, input: Feature) -> Walk {
        cost::conv2d(&self.conv, input)
    }

    /// The convolution.
    pub fn conv(&self) -> &Conv2d {
        &self.conv
    }

    /// The BatchNorm after the convolution.
    pub fn bn(&self) -> &BatchNorm {
        &self.bn
    }

    /// Whether the model's activation follows the BatchNorm (false for linear blocks).
    pub fn has_activation(&self) -> bool {
        self.activate
    }
}

/// The LWModel stem: a 3x3 stride-2 convolution to 16 channels, BatchNorm and its own PReLU.
#[derive(Module, Debug)]
pub struct StemConv {
    pub(crate) conv: Conv2d,
    pub(crate) bn: BatchNorm,
    pub(crate) act: PRelu,
}

impl StemConv {
    /// The stem from `c_in` to `c_out` channels, on `device`.
    pub(crate) fn new(c_in: usize, c_out: usize, device: &Device) -> Self {
        Self {
            conv: ConvSpec::new(c_in, c_out, 3, 2).conv(device),
            bn: batch_norm(c_out, device),
            act: PReluConfig::new().init(device),
        }
    }

    /// Applies the stem.
    pub fn forward(&self, x: Tensor<4>) -> Tensor<4> {
        let y = fdfat_kernels::batch_norm(&self.bn, fdfat_kernels::conv2d(&self.conv, x));
        fdfat_kernels::prelu(&self.act, y)
    }

    /// Output shape and multiply-adds on `input`.
    pub(crate) fn walk(&self, input: Feature) -> Walk {
        cost::conv2d(&self.conv, input)
    }

    /// The convolution.
    pub fn conv(&self) -> &Conv2d {
        &self.conv
    }

    /// The BatchNorm after the convolution.
    pub fn bn(&self) -> &BatchNorm {
        &self.bn
    }

    /// The stem's own PReLU (one slope), applied after the BatchNorm.
    pub fn prelu(&self) -> &PRelu {
        &self.act
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn depthwise_groups_are_the_gcd() {
        assert_eq!(gcd(16, 32), 16);
        assert_eq!(gcd(32, 64), 32);
        assert_eq!(gcd(12, 18), 6);
        assert_eq!(gcd(7, 7), 7);
    }
}
