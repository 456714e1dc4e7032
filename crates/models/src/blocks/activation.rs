//! The configured activation function, one instance shared by every block of a model as the
//! original shares one `torch.nn` module (so a PReLU activation has a single learnable slope).

use burn::module::Module;
use burn::nn::{PRelu, PReluConfig};
use burn::tensor::{Device, Tensor, activation as act};
use fdfat_config::Activation as Kind;

/// Slope of `LeakyReLU` for negative inputs (the `torch.nn.LeakyReLU` default).
pub const LEAKY_SLOPE: f64 = 0.01;

/// The model's activation function.
#[derive(Module, Debug)]
pub enum Activation {
    /// A function without parameters.
    Fixed(FixedActivation),
    /// PReLU with one learnable slope.
    Prelu(PRelu),
}

/// An activation function without parameters.
#[derive(Module, Debug)]
pub struct FixedActivation {
    #[module(skip)]
    function: Function,
}

/// The parameter-free functions of [`fdfat_config::Activation`].
#[derive(Debug, Clone, Copy)]
enum Function {
    Relu6,
    Silu,
    Relu,
    Hardswish,
    LeakyRelu,
    Gelu,
    Tanh,
    Sigmoid,
    Mish,
}

impl Activation {
    /// The activation `kind`, with its slope on `device` when it is `PReLU`.
    pub(crate) fn new(kind: Kind, device: &Device) -> Self {
        let function = match kind {
            Kind::Prelu => return Self::Prelu(PReluConfig::new().init(device)),
            Kind::Relu6 => Function::Relu6,
            Kind::Silu => Function::Silu,
            Kind::Relu => Function::Relu,
            Kind::Hardswish => Function::Hardswish,
            Kind::LeakyRelu => Function::LeakyRelu,
            Kind::Gelu => Function::Gelu,
            Kind::Tanh => Function::Tanh,
            Kind::Sigmoid => Function::Sigmoid,
            Kind::Mish => Function::Mish,
        };
        Self::Fixed(FixedActivation { function })
    }

    /// The function as [`fdfat_kernels::batch_norm_act`] applies it after a BatchNorm, when
    /// it can.
    pub(crate) fn after_batch_norm(&self) -> Option<fdfat_kernels::NormAct> {
        match self {
            Self::Fixed(FixedActivation {
                function: Function::Relu6,
            }) => Some(fdfat_kernels::NormAct::Relu6),
            Self::Fixed(FixedActivation {
                function: Function::Silu,
            }) => Some(fdfat_kernels::NormAct::Silu),
            _ => None,
        }
    }

    /// Applies the function element-wise.
    pub fn forward<const D: usize>(&self, x: Tensor<D>) -> Tensor<D> {
        let function = match self {
            Self::Prelu(prelu) => return fdfat_kernels::prelu(prelu, x),
            Self::Fixed(fixed) => fixed.function,
        };
        match function {
            Function::Relu6 => fdfat_kernels::relu6(x),
            Function::Silu => fdfat_kernels::silu(x),
            Function::Relu => act::relu(x),
            Function::Hardswish => act::hard_swish(x),
            Function::LeakyRelu => act::leaky_relu(x, LEAKY_SLOPE),
            Function::Gelu => act::gelu(x),
            Function::Tanh => act::tanh(x),
            Function::Sigmoid => act::sigmoid(x),
            Function::Mish => act::mish(x),
        }
    }
}
