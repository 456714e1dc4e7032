//! The fdfat-rs trainer.
#![warn(missing_docs)]

pub mod losses;
pub mod nadam;
pub mod optimizer;
pub mod schedule;
