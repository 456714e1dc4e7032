//! Errors of the data crate: each names the file (and line) it comes from.

use std::path::PathBuf;

/// Everything that can go wrong between files on disk and a batch.
#[derive(Debug, thiserror::Error)]
pub enum DataError {
    /// The configuration or data YAML is invalid (missing `base_path`, missing split, ...).
    #[error(transparent)]
    Config(#[from] fdfat_config::ConfigError),
    /// A file or folder could not be read or written.
    #[error("cannot {action} `{}`: {source}", path.display())]
    Io {
        /// What was attempted (`read`, `write`, `list`, ...).
        action: &'static str,
        /// The file or folder.
        path: PathBuf,
        /// The underlying error.
        source: std::io::Error,
    },
    /// An annotation file or list line is malformed.
    #[error("{}{}: {message}", path.display(), line.map(|l| format!(":{l}")).unwrap_or_default())]
    Annotation {
        /// The annotation or list file.
        path: PathBuf,
        /// 1-based line, when the problem is on one line.
        line: Option<usize>,
        /// What is wrong.
        message: String,
    },
    /// An image is missing, unreadable or not a decodable image.
    #[error("image `{}`: {message}", path.display())]
    Image {
        /// The image file.
        path: PathBuf,
        /// What is wrong.
        message: String,
    },
    /// A split names no sample at all.
    #[error("split `{}` has no samples{hint}", path.display())]
    EmptySplit {
        /// The list file or folder.
        path: PathBuf,
        /// Why it may be empty.
        hint: String,
    },
    /// The dataset's landmark scheme cannot be mapped onto the model's points.
    #[error("landmark scheme `{from}` has no point in common with `{to}` (add a `mappings` entry)")]
    SchemeMismatch {
        /// The dataset scheme.
        from: String,
        /// The model scheme.
        to: String,
    },
    /// An argument is out of range (batch size 0, image size 0, ...).
    #[error("invalid {what}: {message}")]
    Invalid {
        /// The argument.
        what: &'static str,
        /// Why it is invalid.
        message: String,
    },
    /// A worker thread of the input pipeline stopped unexpectedly.
    #[error("input pipeline worker failed: {0}")]
    Worker(String),
}

impl DataError {
    /// An [`DataError::Io`] error for `path`.
    pub fn io(action: &'static str, path: impl Into<PathBuf>, source: std::io::Error) -> Self {
        DataError::Io {
            action,
            path: path.into(),
            source,
        }
    }

    /// An [`DataError::Annotation`] error at an optional 1-based line of `path`.
    pub fn annotation(
        path: impl Into<PathBuf>,
        line: Option<usize>,
        message: impl Into<String>,
    ) -> Self {
        DataError::Annotation {
            path: path.into(),
            line,
            message: message.into(),
        }
    }

    /// An [`DataError::Image`] error for `path`.
    pub fn image(path: impl Into<PathBuf>, message: impl ToString) -> Self {
        DataError::Image {
            path: path.into(),
            message: message.to_string(),
        }
    }
}
