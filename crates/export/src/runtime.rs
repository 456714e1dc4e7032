//! ONNX files read and run in-process with tract-onnx: [`read_model`] decodes and checks the
//! protobuf (a corrupt file gives [`ExportError::Onnx`], never a panic), [`OnnxInfo`]
//! describes a model, and [`OnnxRunner`] runs it on a batch (of any size, or of a size fixed
//! when it was loaded) and times it.

use crate::error::ExportError;
use prost::Message;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};
use tract_onnx::pb;
use tract_onnx::pb::tensor_proto::DataType;
use tract_onnx::prelude::{
    Datum, Framework, InferenceFact, InferenceModelExt, IntoRunnable, TValue, Tensor,
    TypedRunnableModel, tvec,
};

/// Reads and decodes the ONNX file at `path`, checking that it has a graph with an input and
/// an output.
pub fn read_model(path: &Path) -> Result<pb::ModelProto, ExportError> {
    let bytes = std::fs::read(path).map_err(|source| ExportError::Io {
        action: "read",
        path: path.to_path_buf(),
        source,
    })?;
    decode_model(&bytes, path)
}

/// Decodes ONNX bytes (from `path`, for messages).
pub fn decode_model(bytes: &[u8], path: &Path) -> Result<pb::ModelProto, ExportError> {
    let invalid = |message: String| ExportError::Onnx {
        path: path.to_path_buf(),
        message,
    };
    let model = pb::ModelProto::decode(bytes)
        .map_err(|e| invalid(format!("the protobuf does not decode ({e})")))?;
    let graph = model
        .graph
        .as_ref()
        .ok_or_else(|| invalid("the model has no graph".into()))?;
    if graph.input.is_empty() || graph.output.is_empty() || graph.node.is_empty() {
        return Err(invalid(format!(
            "the graph has {} inputs, {} outputs and {} nodes",
            graph.input.len(),
            graph.output.len(),
            graph.node.len()
        )));
    }
    Ok(model)
}

/// What an ONNX model holds: its size, operators, opset, input / output shapes and metadata.
#[derive(Debug, Clone, PartialEq)]
pub struct OnnxInfo {
    /// Number of nodes of the main graph.
    pub nodes: usize,
    /// Node count per operator type.
    pub op_counts: BTreeMap<String, usize>,
    /// The default-domain opset.
    pub opset: i64,
    /// Name and dimensions (`N` for a named one) of each graph input.
    pub inputs: Vec<(String, Vec<String>)>,
    /// Name and dimensions of each graph output.
    pub outputs: Vec<(String, Vec<String>)>,
    /// The model's metadata properties.
    pub metadata: BTreeMap<String, String>,
}

impl OnnxInfo {
    /// The description of `model`.
    pub fn of(model: &pb::ModelProto) -> Self {
        let graph = model.graph.clone().unwrap_or_default();
        let mut op_counts = BTreeMap::new();
        for node in &graph.node {
            *op_counts.entry(node.op_type.clone()).or_insert(0) += 1;
        }
        Self {
            nodes: graph.node.len(),
            op_counts,
            opset: model
                .opset_import
                .iter()
                .find(|o| o.domain.is_empty() || o.domain == "ai.onnx")
                .map_or(0, |o| o.version),
            inputs: graph.input.iter().map(shape_of).collect(),
            outputs: graph.output.iter().map(shape_of).collect(),
            metadata: model
                .metadata_props
                .iter()
                .map(|e| (e.key.clone(), e.value.clone()))
                .collect(),
        }
    }

    /// Nodes of type `op`.
    pub fn count(&self, op: &str) -> usize {
        self.op_counts.get(op).copied().unwrap_or(0)
    }
}

/// Name and dimensions of a graph input or output.
fn shape_of(info: &pb::ValueInfoProto) -> (String, Vec<String>) {
    use pb::tensor_shape_proto::dimension::Value;
    let dims = match &info.r#type {
        Some(pb::TypeProto {
            value: Some(pb::type_proto::Value::TensorType(t)),
            ..
        }) => t
            .shape
            .iter()
            .flat_map(|s| &s.dim)
            .map(|d| match &d.value {
                Some(Value::DimValue(v)) => v.to_string(),
                Some(Value::DimParam(p)) => p.clone(),
                None => "?".into(),
            })
            .collect(),
        _ => Vec::new(),
    };
    (info.name.clone(), dims)
}

/// The type and shape of `model`'s first input with its first (batch) dimension set to `batch`.
fn fixed_input_fact(model: &pb::ModelProto, batch: usize) -> Option<InferenceFact> {
    use pb::tensor_shape_proto::dimension::Value;
    let input = model.graph.as_ref()?.input.first()?;
    let Some(pb::type_proto::Value::TensorType(tensor)) = input.r#type.as_ref()?.value.as_ref()
    else {
        return None;
    };
    let datum = match tensor.elem_type {
        t if t == DataType::Float as i32 => f32::datum_type(),
        t if t == DataType::Uint8 as i32 => u8::datum_type(),
        _ => return None,
    };
    let mut dims = Vec::new();
    for (k, dim) in tensor.shape.as_ref()?.dim.iter().enumerate() {
        dims.push(match (k, &dim.value) {
            (0, _) => batch,
            (_, Some(Value::DimValue(v))) if *v > 0 => *v as usize,
            _ => return None,
        });
    }
    Some(InferenceFact::dt_shape(datum, dims))
}

/// A batch of model inputs.
#[derive(Debug, Clone, Copy)]
pub enum Input<'a> {
    /// Normalised float32 pixels with their dimensions (`[N, 3, H, W]`).
    F32(&'a [f32], [usize; 4]),
    /// uint8 pixels with their dimensions (`[N, H, W, 3]`).
    U8(&'a [u8], [usize; 4]),
}

impl Input<'_> {
    fn to_tensor(self) -> Result<Tensor, String> {
        match self {
            Input::F32(data, dims) => Tensor::from_shape(&dims, data),
            Input::U8(data, dims) => Tensor::from_shape(&dims, data),
        }
        .map_err(|e| format!("{e:#}"))
    }
}

/// One output of a run.
#[derive(Debug, Clone, PartialEq)]
pub struct Output {
    /// Dimensions, outermost first.
    pub dims: Vec<usize>,
    /// Values in row-major order.
    pub values: Vec<f32>,
}

/// An ONNX model made runnable by tract (optimised, dynamic batch kept).
#[derive(Debug, Clone)]
pub struct OnnxRunner {
    path: PathBuf,
    plan: std::sync::Arc<TypedRunnableModel>,
}

impl OnnxRunner {
    /// Loads and optimises the ONNX file at `path`.
    pub fn load(path: &Path) -> Result<Self, ExportError> {
        Self::from_model(&read_model(path)?, path)
    }

    /// Optimises a decoded model (`path` names it in messages), keeping a free batch axis.
    pub fn from_model(model: &pb::ModelProto, path: &Path) -> Result<Self, ExportError> {
        Self::build(model, path, None)
    }

    /// Optimises a decoded model for batches of exactly `batch` images: tract plans a fixed
    /// shape several times faster than a symbolic one (what deployments of one face at a time
    /// run, and what [`Self::latency`] should time).
    pub fn for_batch(
        model: &pb::ModelProto,
        path: &Path,
        batch: usize,
    ) -> Result<Self, ExportError> {
        Self::build(model, path, Some(batch))
    }

    fn build(
        model: &pb::ModelProto,
        path: &Path,
        batch: Option<usize>,
    ) -> Result<Self, ExportError> {
        let invalid = |e: tract_onnx::prelude::TractError| ExportError::Onnx {
            path: path.to_path_buf(),
            message: format!("tract cannot load it: {e:#}"),
        };
        let mut inference = tract_onnx::onnx()
            .model_for_proto_model(model)
            .map_err(invalid)?;
        if let Some(batch) = batch {
            let fact = fixed_input_fact(model, batch).ok_or_else(|| ExportError::Onnx {
                path: path.to_path_buf(),
                message: "its input has no float32 or uint8 tensor type with a shape".into(),
            })?;
            inference = inference.with_input_fact(0, fact).map_err(invalid)?;
        }
        let plan = inference
            .into_optimized()
            .map_err(invalid)?
            .into_runnable()
            .map_err(invalid)?;
        Ok(Self {
            path: path.to_path_buf(),
            plan,
        })
    }

    /// Runs the model on `input`; returns every output as float32.
    pub fn run_all(&self, input: Input<'_>) -> Result<Vec<Output>, ExportError> {
        let failed = |message: String| ExportError::Run {
            path: self.path.clone(),
            message,
        };
        let tensor = input.to_tensor().map_err(failed)?;
        let outputs = self
            .plan
            .run(tvec!(TValue::from(tensor)))
            .map_err(|e| failed(format!("{e:#}")))?;
        outputs
            .iter()
            .map(|t| {
                t.to_plain_array_view::<f32>()
                    .map(|view| Output {
                        dims: view.shape().to_vec(),
                        values: view.iter().copied().collect(),
                    })
                    .map_err(|e| failed(format!("output is not float32: {e:#}")))
            })
            .collect()
    }

    /// Runs the model on `input`; returns its first output, flattened.
    pub fn run(&self, input: Input<'_>) -> Result<Vec<f32>, ExportError> {
        let mut outputs = self.run_all(input)?;
        if outputs.is_empty() {
            return Err(ExportError::Run {
                path: self.path.clone(),
                message: "the model produced no output".into(),
            });
        }
        Ok(outputs.swap_remove(0).values)
    }

    /// Median wall time of `runs` runs on `input`, after `runs / 10 + 1` warm-up runs.
    pub fn latency(&self, input: Input<'_>, runs: usize) -> Result<Duration, ExportError> {
        for _ in 0..runs / 10 + 1 {
            self.run(input)?;
        }
        let mut times = Vec::with_capacity(runs.max(1));
        for _ in 0..runs.max(1) {
            let start = Instant::now();
            self.run(input)?;
            times.push(start.elapsed());
        }
        times.sort();
        Ok(times[times.len() / 2])
    }
}
