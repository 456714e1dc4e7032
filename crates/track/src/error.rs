//! Errors of the tracking crate: each names the file, configuration key or program at fault.

use std::path::PathBuf;

/// Everything that can go wrong while detecting, aligning, tracking, reading or writing frames.
#[derive(Debug, thiserror::Error)]
pub enum TrackError {
    /// An ONNX file that tract cannot read, or a graph it cannot prepare.
    #[error("cannot load the ONNX model `{}`: {message}", path.display())]
    OnnxLoad {
        /// The ONNX file.
        path: PathBuf,
        /// What tract reported.
        message: String,
    },
    /// An ONNX model whose inputs or outputs are not what its role needs.
    #[error("ONNX model `{}` does not fit as {role}: {message}", path.display())]
    OnnxShape {
        /// The ONNX file.
        path: PathBuf,
        /// `the face detector` or `a landmark model`.
        role: &'static str,
        /// What is wrong.
        message: String,
    },
    /// An ONNX model that failed while running.
    #[error("running the ONNX model `{}` failed: {message}", path.display())]
    OnnxRun {
        /// The ONNX file.
        path: PathBuf,
        /// What tract reported.
        message: String,
    },
    /// A landmark checkpoint that cannot be loaded into the configured model.
    #[error("landmark model `{}`: {source}", path.display())]
    Checkpoint {
        /// The checkpoint.
        path: PathBuf,
        /// The models crate's error.
        source: Box<fdfat_models::ModelError>,
    },
    /// The burn model failed to run or returned an unreadable output.
    #[error("the landmark model failed: {0}")]
    Model(String),
    /// A configuration value that cannot be used.
    #[error("`{key}`: {message}")]
    Config {
        /// The configuration key.
        key: &'static str,
        /// What is wrong with its value.
        message: String,
    },
    /// A file or folder that cannot be read or written.
    #[error("cannot {action} `{}`: {source}", path.display())]
    Io {
        /// What was being done (`read`, `create`, ...).
        action: &'static str,
        /// The file or folder.
        path: PathBuf,
        /// The underlying error.
        source: std::io::Error,
    },
    /// An image that cannot be decoded or encoded.
    #[error("image `{}`: {message}", path.display())]
    Image {
        /// The image file.
        path: PathBuf,
        /// What the codec reported.
        message: String,
    },
    /// An input that holds no frames or images.
    #[error("`{}` holds no {what}", path.display())]
    Empty {
        /// The input.
        path: PathBuf,
        /// `images` or `frames`.
        what: &'static str,
    },
    /// A program (ffmpeg, ffprobe) that is needed but could not be started.
    #[error("{purpose} needs the `{program}` program on PATH ({reason}); {hint}")]
    MissingProgram {
        /// The program.
        program: &'static str,
        /// What it was needed for.
        purpose: String,
        /// Why it could not be started.
        reason: String,
        /// What to do instead.
        hint: &'static str,
    },
    /// A video program that ran and failed or produced unexpected output.
    #[error("{program} on `{}`: {message}", path.display())]
    Video {
        /// The program.
        program: &'static str,
        /// The video file or device.
        path: PathBuf,
        /// What went wrong.
        message: String,
    },
    /// A result that cannot be serialised.
    #[error("cannot write JSON for `{}`: {source}", path.display())]
    Json {
        /// The destination.
        path: PathBuf,
        /// The serialiser's error.
        source: serde_json::Error,
    },
}

impl TrackError {
    /// An I/O error on `path` while doing `action`.
    pub(crate) fn io(
        action: &'static str,
        path: impl Into<PathBuf>,
        source: std::io::Error,
    ) -> Self {
        Self::Io {
            action,
            path: path.into(),
            source,
        }
    }
}
