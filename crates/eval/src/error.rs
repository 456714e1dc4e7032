//! Evaluation errors: each names the image, scheme, key or file it is about.

use std::path::PathBuf;

/// Everything that can go wrong while evaluating, reporting or plotting.
#[derive(Debug, thiserror::Error)]
pub enum EvalError {
    /// A point set has the wrong number of points for its scheme.
    #[error("{image}: the {what} has {found} points, but scheme `{scheme}` has {expected}")]
    PointCount {
        /// The image the points belong to.
        image: String,
        /// `prediction` or `ground truth`.
        what: &'static str,
        /// The scheme the points should follow.
        scheme: String,
        /// Points the scheme has.
        expected: usize,
        /// Points given.
        found: usize,
    },
    /// A flat `x, y, x, y, ...` list has an odd length.
    #[error("a flat point list must hold x, y pairs, but it has {0} values")]
    OddCoordinates(usize),
    /// A coordinate or score is NaN or infinite.
    #[error("{image}: the {what} holds a value that is not finite")]
    NonFinite {
        /// The image.
        image: String,
        /// What holds the value (`prediction`, `ground truth`, `face score`).
        what: &'static str,
    },
    /// The ground truth gives a zero (or non-finite) normalising distance.
    #[error("{image}: the ground-truth {norm} distance is {distance}, so the NME is undefined")]
    DegenerateNormaliser {
        /// The image.
        image: String,
        /// `inter_ocular` or `inter_pupil`.
        norm: &'static str,
        /// The distance found, in pixels.
        distance: f64,
    },
    /// An image size of zero.
    #[error("{image}: the image size {width}x{height} is empty")]
    EmptyImage {
        /// The image.
        image: String,
        /// Width in pixels.
        width: u32,
        /// Height in pixels.
        height: u32,
    },
    /// The predicted and ground-truth schemes share no scheme to be compared in.
    #[error(
        "cannot compare `{pred}` predictions with `{gt}` ground truth: neither maps to the other \
         and they have no common `ibug68` mapping (add one under `mappings` in the scheme YAML)"
    )]
    NoCommonScheme {
        /// Scheme of the predictions.
        pred: String,
        /// Scheme of the ground truth.
        gt: String,
    },
    /// A scheme could not be loaded.
    #[error(transparent)]
    Scheme(#[from] fdfat_config::ConfigError),
    /// A configuration value the evaluation cannot use.
    #[error("`{key}` = {found} is invalid for evaluation: expected {expected}")]
    InvalidSetting {
        /// The configuration key.
        key: &'static str,
        /// The value found.
        found: String,
        /// What was expected.
        expected: &'static str,
    },
    /// `finish` was called before any face with landmarks was pushed.
    #[error("no face with landmarks was evaluated, so there is no NME to report")]
    NoSamples,
    /// A report file could not be written or read.
    #[error("cannot {action} `{}`: {source}", path.display())]
    Io {
        /// `write` or `read`.
        action: &'static str,
        /// The file.
        path: PathBuf,
        /// The underlying error.
        source: std::io::Error,
    },
    /// A report file is not a valid report.
    #[error("`{}` is not a valid fdfat report: {source}", path.display())]
    Json {
        /// The file.
        path: PathBuf,
        /// The parser error (with line and column).
        source: serde_json::Error,
    },
    /// A picture could not be drawn or encoded.
    #[error("cannot draw {what}: {message}")]
    Plot {
        /// Which picture.
        what: &'static str,
        /// The drawing or encoding error.
        message: String,
    },
}
