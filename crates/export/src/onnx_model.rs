//! [`to_onnx`]: a [`LandmarkModel`] as an ONNX model (graph, opset, producer, metadata), and
//! [`write_onnx`] to store it.

use crate::error::ExportError;
use crate::lower::{self, GraphOptions};
use crate::proto;
use fdfat_models::LandmarkModel;
use prost::Message;
use std::path::Path;
use tract_onnx::pb;

/// The lowest opset written: the first whose operators (`Split` with a sizes input, `Clip`
/// with bound inputs, per-axis `QuantizeLinear`) all exist as used here.
pub const MIN_OPSET: i64 = 17;

/// Producer name recorded in exported files.
pub const PRODUCER: &str = "fdfat-rs";

/// How to export.
#[derive(Debug, Clone, PartialEq)]
pub struct OnnxOptions {
    /// What the graph looks like.
    pub graph: GraphOptions,
    /// The default-domain opset (`export_opset`, at least [`MIN_OPSET`]).
    pub opset: i64,
    /// Metadata properties (checkpoint, configuration, ...).
    pub metadata: Vec<(String, String)>,
}

impl Default for OnnxOptions {
    fn default() -> Self {
        Self {
            graph: GraphOptions::default(),
            opset: MIN_OPSET,
            metadata: Vec::new(),
        }
    }
}

/// The ONNX model of `model`: input `input` `[N, 3, H, W]` (or `[N, H, W, 3]` uint8), output
/// `output` `[N, 2 * points (+1 face score) (+3 pose)]`, with `options.metadata` plus the model
/// description and output layout as metadata properties.
pub fn to_onnx(
    model: &LandmarkModel,
    options: &OnnxOptions,
) -> Result<pb::ModelProto, ExportError> {
    if options.opset < MIN_OPSET {
        return Err(ExportError::Config {
            key: "export_opset",
            value: options.opset.to_string(),
            reason: format!("the exporter writes opset {MIN_OPSET} or newer"),
        });
    }
    let graph = lower::lower(model, options.graph)?;
    let mut metadata = vec![
        proto::entry("model", &model.spec().to_string()),
        proto::entry("output_layout", &output_layout(model)),
    ];
    metadata.extend(options.metadata.iter().map(|(k, v)| proto::entry(k, v)));
    Ok(pb::ModelProto {
        ir_version: proto::IR_VERSION,
        opset_import: vec![pb::OperatorSetIdProto {
            domain: String::new(),
            version: options.opset,
        }],
        producer_name: PRODUCER.into(),
        producer_version: env!("CARGO_PKG_VERSION").into(),
        graph: Some(graph),
        metadata_props: metadata,
        ..Default::default()
    })
}

/// The columns of an output row, in words.
fn output_layout(model: &LandmarkModel) -> String {
    let mut layout = format!(
        "0..{}: {} landmark (x, y) pairs in [-0.5, 0.5] of the crop",
        model.landmark_outputs(),
        model.landmark_outputs() / 2
    );
    if let Some(i) = model.face_cls_index() {
        layout.push_str(&format!("; {i}: face score in (0, 1)"));
    }
    if let Some(range) = model.pose_range() {
        layout.push_str(&format!(
            "; {}..{}: head pose in (-1, 1)",
            range.start, range.end
        ));
    }
    layout
}

/// Writes `model` to `path` atomically (creating its folder); returns the file size in bytes.
pub fn write_onnx(model: &pb::ModelProto, path: &Path) -> Result<u64, ExportError> {
    write_file(path, &model.encode_to_vec())
}

/// Writes `bytes` to `path` atomically (creating its folder); returns their length.
pub(crate) fn write_file(path: &Path, bytes: &[u8]) -> Result<u64, ExportError> {
    if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
        std::fs::create_dir_all(dir).map_err(|source| ExportError::Io {
            action: "create the folder of",
            path: path.to_path_buf(),
            source,
        })?;
    }
    fdfat_config::write_atomic(path, bytes).map_err(|source| ExportError::Io {
        action: "write",
        path: path.to_path_buf(),
        source,
    })?;
    Ok(bytes.len() as u64)
}
