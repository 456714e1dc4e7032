//! Training errors.

use std::path::PathBuf;

/// Everything that stops a training run.
#[derive(Debug, thiserror::Error)]
pub enum TrainError {
    /// The configuration is inconsistent for training.
    #[error(transparent)]
    Config(#[from] fdfat_config::ConfigError),
    /// The data could not be read.
    #[error(transparent)]
    Data(#[from] fdfat_data::DataError),
    /// The model could not be built or its weights loaded or saved.
    #[error(transparent)]
    Model(#[from] fdfat_models::ModelError),
    /// A file could not be written or read.
    #[error("cannot {action} `{}`: {source}", path.display())]
    Io {
        /// What was being done.
        action: &'static str,
        /// The file.
        path: PathBuf,
        /// The underlying error.
        source: std::io::Error,
    },
    /// A checkpoint or its optimizer state is unusable.
    #[error("checkpoint `{}`: {message}", path.display())]
    Checkpoint {
        /// The checkpoint file.
        path: PathBuf,
        /// What is wrong.
        message: String,
    },
    /// The loss became NaN or infinite.
    #[error(
        "the training loss became {value} at epoch {epoch}, batch {batch}; stopped. The last good \
         checkpoint is kept in {}",
        weights.display()
    )]
    NonFiniteLoss {
        /// The value (NaN or inf).
        value: f32,
        /// 1-based epoch.
        epoch: usize,
        /// 1-based batch within the epoch.
        batch: usize,
        /// The weights folder.
        weights: PathBuf,
    },
    /// A plot or picture could not be drawn.
    #[error("cannot draw `{}`: {message}", path.display())]
    Plot {
        /// The image file.
        path: PathBuf,
        /// What went wrong.
        message: String,
    },
}

impl TrainError {
    /// An I/O error while `action`ing `path`.
    pub fn io(action: &'static str, path: impl Into<PathBuf>, source: std::io::Error) -> Self {
        TrainError::Io {
            action,
            path: path.into(),
            source,
        }
    }
}
