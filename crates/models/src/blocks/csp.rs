//! The original's CSP blocks: `Bottleneck` (two 3x3 convolutions, no shortcut as C2f uses it)
//! and `C2f` (1x1 to two halves, a bottleneck on the second half, concatenation, 1x1).

use super::activation::Activation;
use super::conv::{ConvBn, ConvSpec};
use crate::cost::{Feature, Walk};
use burn::module::Module;
use burn::tensor::{Device, Tensor};

/// Two 3x3 convolutions of equal width.
#[derive(Module, Debug)]
pub struct Bottleneck {
    pub(crate) cv1: ConvBn,
    pub(crate) cv2: ConvBn,
}

impl Bottleneck {
    /// A bottleneck of `channels` channels (expansion 1.0, no shortcut).
    pub(crate) fn new(channels: usize, device: &Device) -> Self {
        Self {
            cv1: ConvBn::new(ConvSpec::new(channels, channels, 3, 1), device),
            cv2: ConvBn::new(ConvSpec::new(channels, channels, 3, 1), device),
        }
    }

    /// Applies the block.
    pub fn forward(&self, x: Tensor<4>, act: &Activation) -> Tensor<4> {
        self.cv2.forward(self.cv1.forward(x, act), act)
    }

    /// Output shape and multiply-adds on `input`.
    pub(crate) fn walk(&self, input: Feature) -> Walk {
        let (f, a) = self.cv1.walk(input)?;
        let (out, b) = self.cv2.walk(f)?;
        Ok((out, a + b))
    }

    /// The first 3x3 convolution.
    pub fn cv1(&self) -> &ConvBn {
        &self.cv1
    }

    /// The second 3x3 convolution.
    pub fn cv2(&self) -> &ConvBn {
        &self.cv2
    }
}

/// CSP bottleneck with two convolutions and one inner bottleneck.
#[derive(Module, Debug)]
pub struct C2f {
    pub(crate) cv1: ConvBn,
    pub(crate) cv2: ConvBn,
    pub(crate) m: Vec<Bottleneck>,
}

impl C2f {
    /// A C2f from `c_in` to `c_out` channels with halves of `int(c_out * 0.5)` channels.
    pub(crate) fn new(c_in: usize, c_out: usize, device: &Device) -> Self {
        let half = c_out / 2;
        Self {
            cv1: ConvBn::new(ConvSpec::new(c_in, 2 * half, 1, 1), device),
            cv2: ConvBn::new(ConvSpec::new(3 * half, c_out, 1, 1), device),
            m: vec![Bottleneck::new(half, device)],
        }
    }

    /// Applies the block. The original splits the first convolution's output into two halves
    /// and concatenates both with the bottleneck outputs; concatenating the unsplit output
    /// instead gives the same tensor with one slice and one copy fewer (and their gradients).
    pub fn forward(&self, x: Tensor<4>, act: &Activation) -> Tensor<4> {
        let y = self.cv1.forward(x, act);
        let [_, channels, _, _] = y.dims();
        let half = channels / 2;
        let mut last = fdfat_kernels::narrow_channels(y.clone(), half, channels - half);
        let mut parts = vec![y];
        for bottleneck in &self.m {
            last = bottleneck.forward(last, act);
            parts.push(last.clone());
        }
        self.cv2.forward(fdfat_kernels::cat_channels(parts), act)
    }

    /// Output shape and multiply-adds on `input`.
    pub(crate) fn walk(&self, input: Feature) -> Walk {
        let (split, mut macs) = self.cv1.walk(input)?;
        let mut half = Feature {
            channels: split.channels / 2,
            ..split
        };
        let mut channels = split.channels;
        for bottleneck in &self.m {
            let (out, m) = bottleneck.walk(half)?;
            macs += m;
            channels += out.channels;
            half = out;
        }
        let (out, m) = self.cv2.walk(Feature { channels, ..split })?;
        Ok((out, macs + m))
    }

    /// The first 1x1 convolution, whose output channels are the two halves.
    pub fn cv1(&self) -> &ConvBn {
        &self.cv1
    }

    /// The last 1x1 convolution, on the halves and every bottleneck output concatenated.
    pub fn cv2(&self) -> &ConvBn {
        &self.cv2
    }

    /// The bottlenecks, each on the previous one's output (the first on the second half).
    pub fn bottlenecks(&self) -> &[Bottleneck] {
        &self.m
    }
}
