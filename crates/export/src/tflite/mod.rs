//! TFLite (LiteRT) export, written from Rust: the float ONNX graph the ONNX exporter verifies
//! is translated into a TFLite graph ([`from_onnx`]), optionally with float16 weights
//! ([`to_float16`]) or quantized to int8 or int16x8 ([`quantize`]), and serialised with the
//! flatbuffer builders tract-tflite generates from TFLite's schema ([`to_flatbuffer`]).
//! [`read_tflite`] reads such files back (for `val`, `predict` and `track`) and
//! [`runnable_onnx`] turns one into an equivalent ONNX graph that tract runs (tract-tflite
//! 0.23.9 itself runs no PRELU, CAST, QUANTIZE or DEQUANTIZE).
//!
//! # The files
//!
//! Named as onnx2tf names the original's: `model_float32.tflite`, `model_float16.tflite`,
//! `model_full_integer_quant.tflite` (int8 in and out), `model_integer_quant.tflite` (float in
//! and out) and `model_integer_quant_with_int16_act.tflite` (int16 activations, int8 weights,
//! float in and out). Input `input` `[N, H, W, 3]` (float32 normalised `pixel / 127.5 - 1`, or
//! uint8 pixels with `export_nhwc_uint8`), output `output` `[N, outputs]`, a free batch axis
//! (`shape_signature` -1), a `serving_default` signature and the checkpoint, configuration and
//! layouts as metadata.

mod from_onnx;
mod ir;
mod quantize;
mod read;
mod run;
mod write;

pub use from_onnx::from_onnx;
pub use ir::{ElemType, Fused, Graph, Op, OpKind, Padding, Quant, Tensor};
pub use quantize::{Precision, QuantOptions, TensorRange, quantize};
pub use read::{from_flatbuffer, read_tflite};
pub use run::runnable_onnx;
pub use write::{IDENTIFIER, SIGNATURE, builtin, op_version, to_flatbuffer};

use crate::error::ExportError;
use crate::lower::InputLayout;
use crate::onnx_model::{OnnxOptions, to_onnx};
use crate::quantize::calibrate_tensors;
use crate::runtime::{Input, OnnxRunner};
use fdfat_config::Activation;
use fdfat_models::LandmarkModel;
use std::path::Path;

/// The float32 TFLite graph of `model`: its ONNX graph (BatchNorm always folded) translated,
/// with the ONNX metadata (model, output layout, `options.metadata`) as TFLite metadata.
pub fn to_tflite(model: &LandmarkModel, options: &OnnxOptions) -> Result<Graph, ExportError> {
    let activation = model.spec().activation;
    if matches!(activation, Activation::Gelu | Activation::Mish) {
        return Err(ExportError::TfliteUnsupported(format!(
            "activation `{activation}` has no TFLite builtin operator this exporter writes (ONNX \
             export supports it); TFLite takes ReLU6, ReLU, SiLU, PReLU, Hardswish, LeakyReLU, \
             Tanh or Sigmoid"
        )));
    }
    let mut options = options.clone();
    options.graph.fold_batchnorm = true;
    let onnx = to_onnx(model, &options)?;
    let mut graph = from_onnx(&onnx)?;
    graph.metadata = onnx
        .metadata_props
        .iter()
        .map(|e| (e.key.clone(), e.value.clone()))
        .collect();
    Ok(graph)
}

/// What calibration saw of every activation tensor of `graph` (indexed like its tensors;
/// `None` for constants) over `batches`, run in tract.
pub fn calibrate<'a>(
    graph: &Graph,
    batches: impl IntoIterator<Item = Input<'a>>,
) -> Result<Vec<Option<TensorRange>>, ExportError> {
    let (model, _) = runnable_onnx(graph)?;
    let names: Vec<String> = (0..graph.tensors.len())
        .filter(|&k| graph.tensors[k].data.is_none())
        .map(run::tensor_name)
        .collect();
    let ranges = calibrate_tensors(&model, &names, batches)?;
    Ok((0..graph.tensors.len())
        .map(|k| {
            let name = run::tensor_name(k);
            ranges.get(&name).map(|(lo, hi)| TensorRange {
                lo,
                hi,
                spread: ranges.channel_spread(&name),
            })
        })
        .collect())
}

/// `graph` made runnable in tract (see [`runnable_onnx`]); `path` names it in messages.
pub fn runner(graph: &Graph, path: &Path) -> Result<(OnnxRunner, InputLayout), ExportError> {
    let (model, layout) = runnable_onnx(graph)?;
    Ok((OnnxRunner::from_model(&model, path)?, layout))
}

/// The float16 variant of a float32 graph: every float32 constant stored as float16 and
/// expanded by a `DEQUANTIZE` before the first operator (as TensorFlow's float16
/// post-training quantization writes it), halving the file.
pub fn to_float16(graph: &Graph) -> Graph {
    let mut out = graph.clone();
    let mut ops = Vec::with_capacity(graph.ops.len() * 2);
    let mut expanded = std::collections::HashMap::new();
    for op in &graph.ops {
        let mut op = op.clone();
        for input in op.inputs.iter_mut() {
            let t = &graph.tensors[*input];
            let Some(values) = t.f32_values() else {
                continue;
            };
            if t.dtype != ElemType::F32 || matches!(op.kind, OpKind::Dequantize) {
                continue;
            }
            let full = *expanded.entry(*input).or_insert_with(|| {
                let half: Vec<u8> = values
                    .iter()
                    .flat_map(|&v| half::f16::from_f32(v).to_le_bytes())
                    .collect();
                let name = t.name.clone();
                let shape = t.shape.clone();
                let compact =
                    out.constant(&format!("{name}_fp16"), shape.clone(), ElemType::F16, half);
                let full = out.push(Tensor {
                    name,
                    shape,
                    batch_free: false,
                    dtype: ElemType::F32,
                    data: None,
                    quant: None,
                });
                ops.push(Op {
                    kind: OpKind::Dequantize,
                    inputs: vec![compact],
                    outputs: vec![full],
                });
                full
            });
            *input = full;
        }
        ops.push(op);
    }
    out.ops = ops;
    // the float32 originals are no longer read: keep them out of the file
    drop_unused(&mut out);
    out
}

/// Removes tensors no operator, input or output refers to, renumbering the rest.
fn drop_unused(graph: &mut Graph) {
    let mut used = vec![false; graph.tensors.len()];
    for &t in graph
        .ops
        .iter()
        .flat_map(|op| op.inputs.iter().chain(&op.outputs))
        .chain(&graph.inputs)
        .chain(&graph.outputs)
    {
        used[t] = true;
    }
    let mut index = vec![usize::MAX; graph.tensors.len()];
    let mut kept = Vec::new();
    for (i, t) in std::mem::take(&mut graph.tensors).into_iter().enumerate() {
        if used[i] {
            index[i] = kept.len();
            kept.push(t);
        }
    }
    graph.tensors = kept;
    let map = |list: &mut Vec<usize>| list.iter_mut().for_each(|t| *t = index[*t]);
    for op in &mut graph.ops {
        map(&mut op.inputs);
        map(&mut op.outputs);
    }
    map(&mut graph.inputs);
    map(&mut graph.outputs);
}

/// Writes `graph` to `path` atomically (creating its folder); returns the file size in bytes.
pub fn write_tflite(graph: &Graph, path: &Path) -> Result<u64, ExportError> {
    crate::onnx_model::write_file(path, &to_flatbuffer(graph))
}

/// Whether `path` names a TFLite file (by its extension).
pub fn is_tflite(path: &Path) -> bool {
    path.extension()
        .is_some_and(|e| e.eq_ignore_ascii_case("tflite"))
}
