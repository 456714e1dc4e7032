//! The fdfat-rs two-stage trainer: landmark regression first, then the face-classification
//! head on the frozen backbone. Losses, optimizers (a PyTorch-exact NAdam among them), the
//! learning-rate schedules (the original's linear, cosine, warm-up), best-epoch choice and
//! early stopping, the loop with validation, atomic checkpoints with resume, `log.csv`,
//! `log.png` and batch pictures; data-parallel training over several CUDA devices.
#![warn(missing_docs)]

mod baseline;
mod dump;
pub mod ema;
mod error;
mod figures;
mod inputs;
pub mod log;
pub mod losses;
pub mod nadam;
mod objective;
pub mod optimizer;
mod pose_target;
mod replicas;
pub mod schedule;
mod state;
pub mod stopping;
mod trainer;

pub use error::TrainError;
pub use state::{TrainState, Weights};
pub use trainer::{TrainSummary, train};
