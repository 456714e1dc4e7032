//! Building blocks shared by both architectures.

mod activation;
mod conv;
mod csp;
mod heads;
mod identify;

pub use activation::{Activation, LEAKY_SLOPE};
pub use conv::{ConvBn, ConvSpec, StemConv};
pub use csp::C2f;
pub use heads::{FaceClsHead, PoseHead, RegressHead, global_avg_pool, global_max_pool};
pub use identify::IdentifyBlock;
