//! The original's `IdentifyBlock`: an inverted residual (1x1 expand, depth-wise kxk, 1x1
//! squeeze without activation), with a residual when the widths match, through a 2x2 max pool
//! when the block has stride 2.

use super::activation::Activation;
use super::conv::{ConvBn, ConvSpec};
use crate::cost::{Feature, Walk};
use burn::module::Module;
use burn::nn::pool::{MaxPool2d, MaxPool2dConfig};
use burn::tensor::{Device, Tensor};

/// An inverted residual block.
#[derive(Module, Debug)]
pub struct IdentifyBlock {
    pub(crate) conv1: ConvBn,
    pub(crate) conv2: ConvBn,
    pub(crate) conv3: ConvBn,
    pub(crate) residual: bool,
    pub(crate) pool: Option<MaxPool2d>,
}

impl IdentifyBlock {
    /// A 3x3 block from `c_in` to `c_out` channels that expands to `int(expand * c_in)`.
    pub(crate) fn new(
        c_in: usize,
        c_out: usize,
        expand: usize,
        stride: usize,
        device: &Device,
    ) -> Self {
        let hidden = expand * c_in;
        let residual = c_in == c_out;
        Self {
            conv1: ConvBn::new(ConvSpec::new(c_in, hidden, 1, 1), device),
            conv2: ConvBn::new(ConvSpec::depthwise(hidden, hidden, 3, stride), device),
            conv3: ConvBn::new(ConvSpec::new(hidden, c_out, 1, 1).linear(), device),
            residual,
            pool: (residual && stride == 2)
                .then(|| MaxPool2dConfig::new([2, 2]).with_strides([2, 2]).init()),
        }
    }

    /// Applies the block.
    pub fn forward(&self, x: Tensor<4>, act: &Activation) -> Tensor<4> {
        let y = self.conv1.forward(x.clone(), act);
        let y = self.conv2.forward(y, act);
        let y = self.conv3.forward(y, act);
        match (self.residual, &self.pool) {
            (false, _) => y,
            (true, None) => y + x,
            (true, Some(pool)) => y + pool.forward(x),
        }
    }

    /// Output shape and multiply-adds on `input`; an error when the residual path and the
    /// convolutions would disagree on the output size.
    pub(crate) fn walk(&self, input: Feature) -> Walk {
        let (f, a) = self.conv1.walk(input)?;
        let (f, b) = self.conv2.walk(f)?;
        let (out, c) = self.conv3.walk(f)?;
        if self.residual {
            let skip = match self.pool {
                Some(_) => (input.height / 2, input.width / 2),
                None => (input.height, input.width),
            };
            if skip != (out.height, out.width) {
                return Err(format!(
                    "its residual pools a {}x{} map to {}x{} while its convolutions give {}x{}",
                    input.height, input.width, skip.0, skip.1, out.height, out.width
                ));
            }
        }
        Ok((out, a + b + c))
    }

    /// The 1x1 expansion, with the activation.
    pub fn conv1(&self) -> &ConvBn {
        &self.conv1
    }

    /// The depth-wise 3x3 convolution (stride 1 or 2), with the activation.
    pub fn conv2(&self) -> &ConvBn {
        &self.conv2
    }

    /// The 1x1 squeeze, without activation.
    pub fn conv3(&self) -> &ConvBn {
        &self.conv3
    }

    /// Whether the block adds its input to its output (input and output widths match).
    pub fn has_residual(&self) -> bool {
        self.residual
    }

    /// The 2x2 stride-2 max pool on the residual path of a stride-2 block with a residual.
    pub fn residual_pool(&self) -> Option<&MaxPool2d> {
        self.pool.as_ref()
    }
}
