//! Building blocks shared by both architectures, as burn modules. Their layers are read
//! through accessors (the fused inference engine of `fdfat-infer` folds them into its kernels);
//! a [`LandmarkModel`](crate::LandmarkModel) builds them.

mod activation;
mod conv;
mod csp;
mod heads;
mod identify;

pub use activation::{Activation, FixedActivation, LEAKY_SLOPE};
pub(crate) use conv::ConvSpec;
pub use conv::{ConvBn, StemConv};
pub use csp::{Bottleneck, C2f};
pub use heads::{FaceClsHead, PoseHead, RegressHead};
pub(crate) use heads::{global_avg_pool, global_max_pool};
pub use identify::IdentifyBlock;
