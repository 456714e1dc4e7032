//! Multiply-add counting by walking feature-map shapes through the layers: the work of the
//! convolutions and linear layers (what the original's fvcore figure counts as FLOPs), with
//! the spatial sizes checked so an input size the architecture cannot take is an error.

use burn::nn::conv::Conv2d;
use burn::nn::{Linear, PaddingConfig2d};
use std::fmt;

/// The shape of one image's feature map, `C x H x W`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Feature {
    /// Channels.
    pub channels: usize,
    /// Rows.
    pub height: usize,
    /// Columns.
    pub width: usize,
}

impl Feature {
    /// An input image of `channels` x `side` x `side`.
    pub fn square(channels: usize, side: usize) -> Self {
        Self {
            channels,
            height: side,
            width: side,
        }
    }
}

impl fmt::Display for Feature {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}x{}x{}", self.channels, self.height, self.width)
    }
}

/// A feature shape and the multiply-adds spent to produce it; errors say why a layer cannot
/// take its input.
pub type Walk = Result<(Feature, u64), String>;

/// Output shape and multiply-adds of `conv` on `input`.
pub fn conv2d(conv: &Conv2d, input: Feature) -> Walk {
    let shape = conv.weight.lazy_shape();
    let (out_channels, in_per_group) = (shape[0], shape[1]);
    if input.channels != in_per_group * conv.groups {
        return Err(format!(
            "a convolution expects {} channels, got {}",
            in_per_group * conv.groups,
            input.channels
        ));
    }
    let (top, left, bottom, right) = match conv.padding {
        PaddingConfig2d::Explicit(t, l, b, r) => (t, l, b, r),
        PaddingConfig2d::Valid => (0, 0, 0, 0),
        PaddingConfig2d::Same => {
            let pad = |k: usize| (k - 1) / 2;
            let (ph, pw) = (pad(conv.kernel_size[0]), pad(conv.kernel_size[1]));
            (
                ph,
                pw,
                conv.kernel_size[0] - 1 - ph,
                conv.kernel_size[1] - 1 - pw,
            )
        }
    };
    let height = out_size(input.height + top + bottom, conv, 0)?;
    let width = out_size(input.width + left + right, conv, 1)?;
    let output = Feature {
        channels: out_channels,
        height,
        width,
    };
    let per_output = (in_per_group * conv.kernel_size[0] * conv.kernel_size[1]) as u64;
    let outputs = (out_channels * height * width) as u64;
    Ok((output, outputs * per_output))
}

/// Output length along axis `axis` of a padded input of length `padded`.
fn out_size(padded: usize, conv: &Conv2d, axis: usize) -> Result<usize, String> {
    let span = conv.dilation[axis] * (conv.kernel_size[axis] - 1) + 1;
    if padded < span {
        return Err(format!(
            "a {}x{} convolution gets a feature map too small for it",
            conv.kernel_size[0], conv.kernel_size[1]
        ));
    }
    Ok((padded - span) / conv.stride[axis] + 1)
}

/// Multiply-adds of `linear` on one input vector.
pub fn linear(linear: &Linear) -> u64 {
    linear.weight.lazy_shape().num_elements() as u64
}
