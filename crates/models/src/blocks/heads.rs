//! Output heads: landmark regression (Linear-Tanh stacks), face / non-face score and head pose.

use super::activation::Activation;
use super::conv::{ConvBn, ConvSpec};
use crate::cost::{self, Feature, Walk};
use burn::module::Module;
use burn::nn::{Linear, LinearConfig};
use burn::tensor::{Device, Tensor, activation};

/// Linear layers each followed by tanh (the original's `FERegress` and pose `stack2`).
#[derive(Module, Debug)]
pub struct RegressHead {
    pub(crate) layers: Vec<Linear>,
}

impl RegressHead {
    /// Linear layers through the given widths: `[a, b, c]` gives `a -> b -> c`.
    pub(crate) fn new(widths: &[usize], device: &Device) -> Self {
        let layers = widths
            .windows(2)
            .map(|w| LinearConfig::new(w[0], w[1]).init(device))
            .collect();
        Self { layers }
    }

    /// Applies the layers, tanh after each.
    pub fn forward(&self, mut x: Tensor<2>) -> Tensor<2> {
        for layer in &self.layers {
            x = activation::tanh(layer.forward(x));
        }
        x
    }

    /// Multiply-adds for one input vector.
    pub(crate) fn macs(&self) -> u64 {
        self.layers.iter().map(cost::linear).sum()
    }

    /// The linear layers, each followed by tanh.
    pub fn layers(&self) -> &[Linear] {
        &self.layers
    }
}

/// Global max over the spatial axes: `[N, C, H, W] -> [N, C]`.
pub(crate) fn global_max_pool(x: Tensor<4>) -> Tensor<2> {
    let [n, c, _, _] = x.dims();
    x.flatten::<3>(2, 3).max_dim(2).reshape([n, c])
}

/// Global mean over the spatial axes: `[N, C, H, W] -> [N, C]`.
pub(crate) fn global_avg_pool(x: Tensor<4>) -> Tensor<2> {
    let [n, c, _, _] = x.dims();
    x.flatten::<3>(2, 3).mean_dim(2).reshape([n, c])
}

/// The face / non-face head on the backbone features: two stride-2 depth-wise convolutions,
/// global max pool, linear, sigmoid.
#[derive(Module, Debug)]
pub struct FaceClsHead {
    pub(crate) conv1: ConvBn,
    pub(crate) conv2: ConvBn,
    pub(crate) fc: Linear,
}

impl FaceClsHead {
    /// The head on `c_in` backbone channels, widening to `c_mid` then `c_out` channels.
    pub(crate) fn new(c_in: usize, c_mid: usize, c_out: usize, device: &Device) -> Self {
        Self {
            conv1: ConvBn::new(ConvSpec::depthwise(c_in, c_mid, 3, 2), device),
            conv2: ConvBn::new(ConvSpec::depthwise(c_mid, c_out, 3, 2), device),
            fc: LinearConfig::new(c_out, 1).init(device),
        }
    }

    /// The face score in (0, 1), `[N, 1]`.
    pub fn forward(&self, x: Tensor<4>, act: &Activation) -> Tensor<2> {
        let x = self.conv2.forward(self.conv1.forward(x, act), act);
        activation::sigmoid(self.fc.forward(global_max_pool(x)))
    }

    /// Output shape (the score) and multiply-adds on `input`.
    pub(crate) fn walk(&self, input: Feature) -> Walk {
        let (f, a) = self.conv1.walk(input)?;
        let (_, b) = self.conv2.walk(f)?;
        Ok((Feature::square(1, 1), a + b + cost::linear(&self.fc)))
    }

    /// The first stride-2 depth-wise convolution.
    pub fn conv1(&self) -> &ConvBn {
        &self.conv1
    }

    /// The second stride-2 depth-wise convolution.
    pub fn conv2(&self) -> &ConvBn {
        &self.conv2
    }

    /// The linear layer on the pooled features, before the sigmoid.
    pub fn fc(&self) -> &Linear {
        &self.fc
    }
}

/// The auxiliary head-pose head: four 3x3 convolutions with bias (strides 2, 1, 2, 1), global
/// average pool, then Linear-Tanh-Linear-Tanh to 3 values.
#[derive(Module, Debug)]
pub struct PoseHead {
    pub(crate) convs: Vec<ConvBn>,
    pub(crate) head: RegressHead,
}

impl PoseHead {
    /// The head on `c_in` backbone channels with widths scaled by `width`.
    pub(crate) fn new(c_in: usize, width: impl Fn(usize) -> usize, device: &Device) -> Self {
        let (c32, c64, c128) = (width(32), width(64), width(128));
        let convs = [(c_in, c32, 2), (c32, c64, 1), (c64, c64, 2), (c64, c128, 1)]
            .into_iter()
            .map(|(a, b, s)| ConvBn::new(ConvSpec::new(a, b, 3, s).with_bias(), device))
            .collect();
        Self {
            convs,
            head: RegressHead::new(&[c128, 9, 3], device),
        }
    }

    /// The 3 pose values in (-1, 1), `[N, 3]`.
    pub fn forward(&self, mut x: Tensor<4>, act: &Activation) -> Tensor<2> {
        for conv in &self.convs {
            x = conv.forward(x, act);
        }
        self.head.forward(global_avg_pool(x))
    }

    /// Output shape (the 3 values) and multiply-adds on `input`.
    pub(crate) fn walk(&self, mut input: Feature) -> Walk {
        let mut macs = 0;
        for conv in &self.convs {
            let (f, m) = conv.walk(input)?;
            input = f;
            macs += m;
        }
        Ok((Feature::square(3, 1), macs + self.head.macs()))
    }

    /// The four 3x3 convolutions with bias.
    pub fn convs(&self) -> &[ConvBn] {
        &self.convs
    }

    /// The Linear-Tanh layers on the pooled features.
    pub fn head(&self) -> &RegressHead {
        &self.head
    }
}
