//! The optimizer named by the `optimizer` key, with PyTorch's default hyper-parameters (the
//! original instantiated `torch.optim.<name>(params, lr)`; SGD with momentum 0.95, Nesterov).

use crate::nadam::NAdamConfig;
use burn::optim::momentum::MomentumConfig;
use burn::optim::{AdamConfig, AdamWConfig, ModuleOptimizer, SgdConfig};
use fdfat_config::OptimizerKind;

/// PyTorch's Adam/AdamW/NAdam epsilon.
const TORCH_EPSILON: f32 = 1e-8;
/// PyTorch's AdamW weight decay.
const TORCH_ADAMW_DECAY: f32 = 1e-2;
/// The original's SGD momentum.
const SGD_MOMENTUM: f64 = 0.95;

/// A module optimizer for `kind`.
pub fn build(kind: OptimizerKind) -> ModuleOptimizer {
    match kind {
        OptimizerKind::NAdam => NAdamConfig::default().init(),
        OptimizerKind::Adam => AdamConfig::new().with_epsilon(TORCH_EPSILON).init(),
        OptimizerKind::AdamW => AdamWConfig::new()
            .with_epsilon(TORCH_EPSILON)
            .with_weight_decay(TORCH_ADAMW_DECAY)
            .init(),
        OptimizerKind::Sgd => SgdConfig::new()
            .with_momentum(Some(MomentumConfig {
                momentum: SGD_MOMENTUM,
                dampening: 0.0,
                nesterov: true,
            }))
            .init(),
    }
}
