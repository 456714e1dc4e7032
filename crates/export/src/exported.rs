//! [`ExportedModel`]: an exported landmark model file (`.onnx`, float or int8 QDQ, or
//! `.tflite`, float32, float16 or quantized) loaded to run in tract, which `val`, `predict` and
//! `track` take in place of a checkpoint; [`OutputLayout`] reads its output row.

use crate::error::ExportError;
use crate::lower::InputLayout;
use crate::runtime::{OnnxRunner, read_model};
use crate::tflite;
use crate::verify::SampleBatch;
use std::fmt;
use std::path::Path;
use tract_onnx::pb;
use tract_onnx::pb::tensor_proto::DataType;

/// The file format of an exported model.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    /// ONNX (`.onnx`).
    Onnx,
    /// TFLite (`.tflite`).
    Tflite,
}

impl Format {
    /// The format `path` names by its extension, if it is an exported model.
    pub fn of(path: &Path) -> Option<Self> {
        let ext = path.extension()?.to_str()?.to_ascii_lowercase();
        match ext.as_str() {
            "onnx" => Some(Self::Onnx),
            "tflite" => Some(Self::Tflite),
            _ => None,
        }
    }
}

impl fmt::Display for Format {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::Onnx => "ONNX",
            Self::Tflite => "TFLite",
        })
    }
}

/// The columns of a landmark model's output row: the landmarks, then the face score (`+1`),
/// then 3 pose values (`+3` or `+4`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct OutputLayout {
    /// Landmarks per face.
    pub points: usize,
    /// Column of the face score, when the model has one.
    pub face_score: Option<usize>,
}

impl OutputLayout {
    /// The layout of a `width`-long row of a model of `points` landmarks, if it fits one.
    pub fn for_width(width: usize, points: usize) -> Option<Self> {
        let face_score = match width.checked_sub(2 * points)? {
            0 | 3 => None,
            1 | 4 => Some(2 * points),
            _ => return None,
        };
        Some(Self { points, face_score })
    }
}

/// An exported model file, ready to run on batches of face crops.
#[derive(Debug, Clone)]
pub struct ExportedModel {
    format: Format,
    /// Runs the file itself, or a TFLite file's ONNX equivalent.
    runner: OnnxRunner,
    layout: InputLayout,
}

impl ExportedModel {
    /// Loads the `.onnx` or `.tflite` file at `path`.
    pub fn load(path: &Path) -> Result<Self, ExportError> {
        let format = Format::of(path).ok_or_else(|| ExportError::Config {
            key: "checkpoint",
            value: path.display().to_string(),
            reason: "an exported model must end in .onnx or .tflite".into(),
        })?;
        let (proto, layout) = match format {
            Format::Onnx => {
                let proto = read_model(path)?;
                let layout = onnx_input_layout(&proto);
                (proto, layout)
            }
            Format::Tflite => {
                let graph = tflite::read_tflite(path)?;
                tflite::runnable_onnx(&graph).map_err(|e| ExportError::Tflite {
                    path: path.to_path_buf(),
                    message: e.to_string(),
                })?
            }
        };
        let runner = OnnxRunner::from_model(&proto, path)?;
        Ok(Self {
            format,
            runner,
            layout,
        })
    }

    /// Its format.
    pub fn format(&self) -> Format {
        self.format
    }

    /// The input it takes (float NCHW or uint8 NHWC).
    pub fn input_layout(&self) -> InputLayout {
        self.layout
    }

    /// Runs the model on `batch`; returns the output rows, flattened.
    pub fn run(&self, batch: &SampleBatch) -> Result<Vec<f32>, ExportError> {
        self.runner.run(batch.input(self.layout))
    }
}

/// The input layout of an ONNX model: uint8 NHWC when its input is uint8.
fn onnx_input_layout(model: &pb::ModelProto) -> InputLayout {
    use pb::type_proto::Value;
    let elem = model
        .graph
        .as_ref()
        .and_then(|g| g.input.first())
        .and_then(|i| i.r#type.as_ref())
        .and_then(|t| match &t.value {
            Some(Value::TensorType(t)) => Some(t.elem_type),
            _ => None,
        });
    if elem == Some(DataType::Uint8 as i32) {
        InputLayout::NhwcU8
    } else {
        InputLayout::NchwF32
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formats_and_output_layouts() {
        assert_eq!(
            Format::of(Path::new("a/model.TFLite")),
            Some(Format::Tflite)
        );
        assert_eq!(Format::of(Path::new("m.onnx")), Some(Format::Onnx));
        assert_eq!(Format::of(Path::new("best.pt")), None);
        let lw = OutputLayout::for_width(141, 70).unwrap();
        assert_eq!(lw.face_score, Some(140));
        assert_eq!(OutputLayout::for_width(140, 70).unwrap().face_score, None);
        assert_eq!(OutputLayout::for_width(143, 70).unwrap().face_score, None);
        assert_eq!(
            OutputLayout::for_width(137, 68).unwrap().face_score,
            Some(136)
        );
        assert_eq!(
            OutputLayout::for_width(144, 70).unwrap().face_score,
            Some(140)
        );
        assert!(OutputLayout::for_width(142, 70).is_none());
        assert!(OutputLayout::for_width(100, 70).is_none());
    }
}
