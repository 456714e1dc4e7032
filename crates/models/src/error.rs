//! Errors of the models crate: each names the configuration key, file or tensor at fault.

use std::path::PathBuf;

/// Everything that can go wrong while building, loading or saving a model.
#[derive(Debug, thiserror::Error)]
pub enum ModelError {
    /// A configuration value the architecture cannot be built with.
    #[error("cannot build the model with `{key}: {value}`: {reason}")]
    InvalidConfig {
        /// The configuration key.
        key: &'static str,
        /// Its value.
        value: String,
        /// Why it does not work.
        reason: String,
    },
    /// An input tensor whose shape the model cannot process.
    #[error("input of shape {dims:?} does not fit the model: {reason}")]
    InvalidInput {
        /// The input shape, `[N, C, H, W]`.
        dims: [usize; 4],
        /// Why it does not fit.
        reason: String,
    },
    /// A checkpoint file that cannot be opened or read.
    #[error("cannot read checkpoint `{}`: {source}", path.display())]
    Io {
        /// The checkpoint.
        path: PathBuf,
        /// The underlying error.
        source: std::io::Error,
    },
    /// A file that is not a checkpoint this crate reads, or a damaged one.
    #[error("`{}` is not a readable checkpoint: {message}", path.display())]
    Format {
        /// The checkpoint.
        path: PathBuf,
        /// What the reader found.
        message: String,
    },
    /// A checkpoint of another architecture or configuration than the model.
    #[error("`{}` holds {found} weights but the model is {expected}{hint}", path.display())]
    WrongArchitecture {
        /// The checkpoint.
        path: PathBuf,
        /// What the checkpoint holds.
        found: String,
        /// What the model is.
        expected: String,
        /// A suggestion such as the configuration key to change (empty when none).
        hint: String,
    },
    /// A checkpoint tensor whose shape differs from the model's.
    #[error(
        "tensor `{tensor}` in `{}` has shape {found:?} but the model needs {expected:?}{more}",
        path.display()
    )]
    ShapeMismatch {
        /// The checkpoint.
        path: PathBuf,
        /// The tensor's name in the checkpoint.
        tensor: String,
        /// Its shape in the checkpoint.
        found: Vec<usize>,
        /// The shape the model needs, in the checkpoint's layout.
        expected: Vec<usize>,
        /// ` (and N more)` when several tensors mismatch.
        more: String,
    },
    /// A checkpoint tensor that no part of the model (nor a head the configuration turned off)
    /// corresponds to.
    #[error(
        "tensor `{tensor}` in `{}` has no counterpart in the {model}{more}",
        path.display()
    )]
    UnexpectedTensor {
        /// The checkpoint.
        path: PathBuf,
        /// The tensor's name in the checkpoint.
        tensor: String,
        /// The model description.
        model: String,
        /// ` (and N more)` when several tensors are unexpected.
        more: String,
    },
    /// A model tensor outside the optional heads that the checkpoint lacks.
    #[error("`{}` lacks tensor `{tensor}` of the model{more}", path.display())]
    MissingTensor {
        /// The checkpoint.
        path: PathBuf,
        /// The model tensor's name.
        tensor: String,
        /// ` (and N more)` when several tensors are missing.
        more: String,
    },
    /// A layer the fused inference engine (`fdfat-infer`) cannot compute.
    #[error("cannot build the fused inference engine: layer `{layer}`: {reason}")]
    Fused {
        /// The layer's module path.
        layer: String,
        /// Why.
        reason: String,
    },
    /// Weights that could not be written.
    #[error("cannot save weights to `{}`: {message}", path.display())]
    Save {
        /// The destination.
        path: PathBuf,
        /// What failed.
        message: String,
    },
}

/// ` (and N more)` for N > 0, else empty: the tail of an error naming the first of several.
pub(crate) fn and_more(count: usize) -> String {
    match count {
        0 => String::new(),
        n => format!(" (and {n} more)"),
    }
}
