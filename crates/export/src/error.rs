//! [`ExportError`]: why an export, a verification or the reading of an ONNX file failed.

use std::path::PathBuf;

/// Why an export, a verification or the reading of an ONNX file failed.
#[derive(Debug, thiserror::Error)]
pub enum ExportError {
    /// A configuration key has a value the exporter cannot honour.
    #[error("`{key}` = {value}: {reason}")]
    Config {
        /// The configuration key.
        key: &'static str,
        /// Its value.
        value: String,
        /// What is wrong and what to set instead.
        reason: String,
    },
    /// The model could not be built or its weights loaded.
    #[error(transparent)]
    Model(#[from] fdfat_models::ModelError),
    /// A tensor of the model is missing or has an unexpected shape or type.
    #[error("model tensor `{path}`: {reason}")]
    Weights {
        /// The tensor path (`backbone.conv21.conv1.conv.weight`).
        path: String,
        /// What is wrong.
        reason: String,
    },
    /// A file could not be read or written.
    #[error("cannot {action} `{}`: {source}", path.display())]
    Io {
        /// `read`, `write` or `create the folder of`.
        action: &'static str,
        /// The file.
        path: PathBuf,
        /// The underlying error.
        source: std::io::Error,
    },
    /// A file is not an ONNX model that can be run (corrupt protobuf, unsupported operator, ...).
    #[error("`{}` is not a usable ONNX model: {message}", path.display())]
    Onnx {
        /// The file (or `<memory>` for bytes never written).
        path: PathBuf,
        /// The runtime's complaint, innermost cause last.
        message: String,
    },
    /// The graph has an operator or activation TFLite's builtin operators cannot express.
    #[error("cannot write TFLite: {0}")]
    TfliteUnsupported(String),
    /// A file is not a TFLite model fdfat-rs can read and run (corrupt flatbuffer, an operator
    /// outside the landmark models' set, ...).
    #[error("`{}` is not a usable TFLite model: {message}", path.display())]
    Tflite {
        /// The file (or `<memory>`).
        path: PathBuf,
        /// What is wrong.
        message: String,
    },
    /// A quantized file is further from the float one than `export_int8_max_nme_delta` allows.
    #[error(
        "`{}`: NME {quantized:.4} against {float:.4} for the float model, a drift of          {:.4} > export_int8_max_nme_delta {max:.4}",
        path.display(), quantized - float
    )]
    NmeDrift {
        /// The quantized file.
        path: PathBuf,
        /// NME of the float model on the val split.
        float: f64,
        /// NME of the quantized file.
        quantized: f64,
        /// The allowed drift.
        max: f64,
    },
    /// An ONNX model could not be run on an input.
    #[error("running `{}` failed: {message}", path.display())]
    Run {
        /// The file (or `<memory>`).
        path: PathBuf,
        /// The runtime's complaint.
        message: String,
    },
    /// The exported file disagrees with the burn model beyond the tolerance.
    #[error(
        "`{}` disagrees with the burn model: max |difference| {max_diff:.3e} > {tolerance:.0e} \
         (at output {index})",
        path.display()
    )]
    Mismatch {
        /// The exported file.
        path: PathBuf,
        /// The largest absolute difference.
        max_diff: f32,
        /// The allowed difference.
        tolerance: f32,
        /// Flat index of the largest difference.
        index: usize,
    },
    /// The calibration or evaluation data could not be read.
    #[error(transparent)]
    Data(#[from] fdfat_data::DataError),
    /// The data YAML or a landmark scheme could not be read.
    #[error(transparent)]
    DataConfig(#[from] fdfat_config::ConfigError),
    /// The NME could not be computed.
    #[error(transparent)]
    Eval(#[from] fdfat_eval::EvalError),
}
