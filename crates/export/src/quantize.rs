//! Static int8 quantization of a float ONNX model in the QDQ format (`QuantizeLinear` /
//! `DequantizeLinear` pairs around float operators, which runtimes fuse into integer kernels):
//!
//! - **Weights** of `Conv` and `Gemm`: int8, symmetric, per output channel (axis 0), scale
//!   `max |w| / 127`; their biases int32 with scale `input scale * weight scale`, zero point 0.
//! - **Activations**: int8, asymmetric, per tensor, from the min / max each tensor reaches on
//!   calibration inputs ([`calibrate`]), the range widened to include 0. A tensor is quantized
//!   where an operator of [`QUANTIZED_OPS`] reads it, except a `Conv` / `Gemm` output read
//!   only by a `Clip` / `Relu` (runtimes fuse the pair, and the activation's output is
//!   quantized instead) and the output tail: the last `Tanh` / `Sigmoid` layers and the final
//!   `Concat` read float values, so the output keeps float precision (a quantized landmark
//!   would move by up to half a step, about 0.2 pixel at 96 px).
//!
//! This is the "S8S8" QDQ layout onnxruntime recommends and microcontroller NPU toolchains
//! (int8 activations, per-channel int8 weights) expect.

use crate::error::ExportError;
use crate::proto;
use crate::runtime::{Input, OnnxRunner};
use std::collections::{HashMap, HashSet};
use std::path::Path;
use tract_onnx::pb;
use tract_onnx::pb::tensor_proto::DataType;

/// Operators whose float inputs are quantized.
pub const QUANTIZED_OPS: &[&str] = &[
    "Conv",
    "Gemm",
    "Add",
    "Mul",
    "Concat",
    "Split",
    "MaxPool",
    "GlobalAveragePool",
    "GlobalMaxPool",
    "Flatten",
    "Sigmoid",
    "Tanh",
    "Clip",
    "Relu",
    "PRelu",
    "LeakyRelu",
    "HardSwish",
];

/// Operators that may end the graph in float precision (see the module documentation).
const OUTPUT_TAIL_OPS: &[&str] = &["Concat", "Tanh", "Sigmoid"];

/// Activations fused into the convolution or linear layer before them.
const FUSED_ACTIVATIONS: &[&str] = &["Clip", "Relu"];

/// The observed range of each calibrated tensor.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Ranges {
    ranges: HashMap<String, (f32, f32)>,
}

impl Ranges {
    /// The (min, max) seen for `tensor`.
    pub fn get(&self, tensor: &str) -> Option<(f32, f32)> {
        self.ranges.get(tensor).copied()
    }

    /// Widens the range of `tensor` to cover `values` (non-finite values are ignored).
    pub fn observe(&mut self, tensor: &str, values: &[f32]) {
        let (lo, hi) = values
            .iter()
            .filter(|v| v.is_finite())
            .fold((f32::INFINITY, f32::NEG_INFINITY), |(lo, hi), &v| {
                (lo.min(v), hi.max(v))
            });
        if lo > hi {
            return;
        }
        let entry = self
            .ranges
            .entry(tensor.to_string())
            .or_insert((f32::INFINITY, f32::NEG_INFINITY));
        *entry = (entry.0.min(lo), entry.1.max(hi));
    }

    /// Number of calibrated tensors.
    pub fn len(&self) -> usize {
        self.ranges.len()
    }

    /// Whether no tensor was calibrated.
    pub fn is_empty(&self) -> bool {
        self.ranges.is_empty()
    }
}

/// The activation tensors of `graph` to quantize, and for each the nodes (by index) whose
/// input is replaced by its dequantized copy.
pub fn activation_targets(graph: &pb::GraphProto) -> HashMap<String, Vec<usize>> {
    let initializers: HashSet<&str> = graph.initializer.iter().map(|t| t.name.as_str()).collect();
    let outputs: HashSet<&str> = graph.output.iter().map(|o| o.name.as_str()).collect();
    let mut producer: HashMap<&str, usize> = HashMap::new();
    let mut consumers: HashMap<&str, Vec<usize>> = HashMap::new();
    for (k, node) in graph.node.iter().enumerate() {
        for output in &node.output {
            producer.insert(output, k);
        }
        for input in &node.input {
            consumers.entry(input).or_default().push(k);
        }
    }
    let tail = output_tail(graph, &producer);
    let non_float_inputs: HashSet<&str> = graph
        .input
        .iter()
        .filter(|i| elem_type(i) != Some(DataType::Float as i32))
        .map(|i| i.name.as_str())
        .collect();
    let mut targets: HashMap<String, Vec<usize>> = HashMap::new();
    for (k, node) in graph.node.iter().enumerate() {
        if !QUANTIZED_OPS.contains(&node.op_type.as_str()) || tail.contains(&k) {
            continue;
        }
        let data_inputs = match node.op_type.as_str() {
            // the weight and bias are handled as weights; Clip's bounds and PRelu's slope stay
            "Conv" | "Gemm" | "Clip" | "PRelu" | "Split" => &node.input[..1],
            _ => &node.input[..],
        };
        for input in data_inputs {
            let name = input.as_str();
            if name.is_empty()
                || initializers.contains(name)
                || outputs.contains(name)
                || non_float_inputs.contains(name)
            {
                continue;
            }
            let fused = producer.get(name).is_some_and(|&p| {
                matches!(graph.node[p].op_type.as_str(), "Conv" | "Gemm")
                    && consumers[name].len() == 1
                    && FUSED_ACTIVATIONS.contains(&node.op_type.as_str())
            });
            if fused {
                continue;
            }
            let readers = targets.entry(name.to_string()).or_default();
            if !readers.contains(&k) {
                readers.push(k);
            }
        }
    }
    targets
}

/// Nodes from which every path to the graph output goes only through [`OUTPUT_TAIL_OPS`].
fn output_tail(graph: &pb::GraphProto, producer: &HashMap<&str, usize>) -> HashSet<usize> {
    let mut tail = HashSet::new();
    let mut stack: Vec<&str> = graph.output.iter().map(|o| o.name.as_str()).collect();
    while let Some(tensor) = stack.pop() {
        let Some(&k) = producer.get(tensor) else {
            continue;
        };
        let node = &graph.node[k];
        if OUTPUT_TAIL_OPS.contains(&node.op_type.as_str()) && tail.insert(k) {
            stack.extend(node.input.iter().map(String::as_str));
        }
    }
    tail
}

fn elem_type(info: &pb::ValueInfoProto) -> Option<i32> {
    match &info.r#type {
        Some(pb::TypeProto {
            value: Some(pb::type_proto::Value::TensorType(t)),
            ..
        }) => Some(t.elem_type),
        _ => None,
    }
}

/// The min / max of every tensor [`activation_targets`] names, over `batches` run through
/// `model` in tract (the tensors become extra outputs of a copy of the model).
pub fn calibrate<'a>(
    model: &pb::ModelProto,
    batches: impl IntoIterator<Item = Input<'a>>,
) -> Result<Ranges, ExportError> {
    let mut probe = model.clone();
    let graph = probe.graph.as_mut().ok_or_else(|| ExportError::Onnx {
        path: "<calibration>".into(),
        message: "the model has no graph".into(),
    })?;
    let mut names: Vec<String> = activation_targets(graph).into_keys().collect();
    names.sort();
    for name in &names {
        graph
            .output
            .push(proto::value_info(name, DataType::Float, &[]));
    }
    let first = graph.output.len() - names.len();
    let runner = OnnxRunner::from_model(&probe, Path::new("<calibration model>"))?;
    let mut ranges = Ranges::default();
    for batch in batches {
        let outputs = runner.run_all(batch)?;
        for (name, values) in names.iter().zip(&outputs[first..]) {
            ranges.observe(name, values);
        }
    }
    Ok(ranges)
}

/// Scale and zero point of an asymmetric int8 tensor covering `(lo, hi)` and 0.
fn activation_params((lo, hi): (f32, f32)) -> (f32, i8) {
    let (lo, hi) = (lo.min(0.0), hi.max(0.0));
    let scale = (hi - lo) / 255.0;
    if scale <= 0.0 || !scale.is_finite() {
        return (1.0, 0);
    }
    let zero_point = (-128.0 - lo / scale).round().clamp(-128.0, 127.0);
    (scale, zero_point as i8)
}

/// The QDQ int8 model of float `model`, with activation ranges from [`calibrate`].
pub fn quantize(model: &pb::ModelProto, ranges: &Ranges) -> Result<pb::ModelProto, ExportError> {
    let mut quantized = model.clone();
    let graph = quantized.graph.as_mut().ok_or_else(|| ExportError::Onnx {
        path: "<quantization>".into(),
        message: "the model has no graph".into(),
    })?;
    let targets: HashMap<String, Vec<usize>> = activation_targets(graph)
        .into_iter()
        .filter(|(name, _)| ranges.get(name).is_some())
        .collect();
    // weights read by one node only are quantized; shared ones stay float
    let mut uses: HashMap<&str, usize> = HashMap::new();
    for input in graph.node.iter().flat_map(|n| &n.input) {
        *uses.entry(input).or_default() += 1;
    }
    let (single, shared): (Vec<_>, Vec<_>) = std::mem::take(&mut graph.initializer)
        .into_iter()
        .partition(|t| uses.get(t.name.as_str()) == Some(&1));
    let mut rewriter = Rewriter {
        weights: single.into_iter().map(|t| (t.name.clone(), t)).collect(),
        initializers: Vec::new(),
        nodes: Vec::new(),
        scales: HashMap::new(),
    };
    for input in &graph.input {
        if let (true, Some(range)) = (targets.contains_key(&input.name), ranges.get(&input.name))
        {
            rewriter.qdq(&input.name, range);
        }
    }
    let nodes = std::mem::take(&mut graph.node);
    for (k, mut node) in nodes.into_iter().enumerate() {
        for input in node.input.iter_mut() {
            if targets.get(input.as_str()).is_some_and(|r| r.contains(&k)) {
                *input = dequantized(input);
            }
        }
        if matches!(node.op_type.as_str(), "Conv" | "Gemm") {
            rewriter.quantize_weights(&mut node)?;
        }
        let outputs = node.output.clone();
        rewriter.nodes.push(node);
        for output in outputs {
            if let (true, Some(range)) = (targets.contains_key(&output), ranges.get(&output)) {
                rewriter.qdq(&output, range);
            }
        }
    }
    let mut initializers: Vec<pb::TensorProto> = rewriter.weights.into_values().collect();
    initializers.extend(shared);
    initializers.sort_by(|a, b| a.name.cmp(&b.name));
    initializers.extend(rewriter.initializers);
    graph.initializer = initializers;
    graph.node = rewriter.nodes;
    Ok(quantized)
}

/// Name of the dequantized copy of `tensor`.
fn dequantized(tensor: &str) -> String {
    format!("{tensor}_dequantized")
}

/// The state of one quantization pass.
struct Rewriter {
    /// The float initializers not yet replaced by quantized ones.
    weights: HashMap<String, pb::TensorProto>,
    /// New initializers (quantized weights, scales, zero points).
    initializers: Vec<pb::TensorProto>,
    /// The rewritten node list.
    nodes: Vec<pb::NodeProto>,
    /// The scale of each quantized activation.
    scales: HashMap<String, f32>,
}

impl Rewriter {
    /// Appends `QuantizeLinear` and `DequantizeLinear` of activation `tensor`.
    fn qdq(&mut self, tensor: &str, range: (f32, f32)) {
        let (scale, zero_point) = activation_params(range);
        let scale_name = format!("{tensor}_scale");
        let zp_name = format!("{tensor}_zero_point");
        self.initializers
            .push(proto::f32_tensor(&scale_name, &[], &[scale]));
        self.initializers
            .push(proto::i8_tensor(&zp_name, &[], &[zero_point]));
        let quantized = format!("{tensor}_quantized");
        self.nodes.push(pb::NodeProto {
            input: vec![tensor.to_string(), scale_name.clone(), zp_name.clone()],
            output: vec![quantized.clone()],
            name: format!("{tensor}_QuantizeLinear"),
            op_type: "QuantizeLinear".into(),
            ..Default::default()
        });
        self.nodes.push(pb::NodeProto {
            input: vec![quantized, scale_name, zp_name],
            output: vec![dequantized(tensor)],
            name: format!("{tensor}_DequantizeLinear"),
            op_type: "DequantizeLinear".into(),
            ..Default::default()
        });
        self.scales.insert(dequantized(tensor), scale);
    }

    /// Replaces the weight (and, when its input is quantized, the bias) of a `Conv` or `Gemm`
    /// (`transB = 1`) by int8 / int32 initializers and `DequantizeLinear` nodes.
    fn quantize_weights(&mut self, node: &mut pb::NodeProto) -> Result<(), ExportError> {
        let transposed = node.op_type == "Conv"
            || node
                .attribute
                .iter()
                .any(|a| a.name == "transB" && a.i == 1);
        if !transposed || node.input.len() < 2 {
            return Ok(());
        }
        let Some(weight) = self.weights.remove(&node.input[1]) else {
            return Ok(());
        };
        let dims = proto::dims(&weight);
        let values = proto::f32_values(&weight).ok_or_else(|| ExportError::Weights {
            path: weight.name.clone(),
            reason: "expected a float32 weight".into(),
        })?;
        let channels = dims.first().copied().unwrap_or(0);
        if channels == 0 || values.len() % channels != 0 {
            return Err(ExportError::Weights {
                path: weight.name.clone(),
                reason: format!("cannot quantize a weight of shape {dims:?} per channel"),
            });
        }
        let per_channel = values.len() / channels;
        let scales: Vec<f32> = values
            .chunks_exact(per_channel)
            .map(|w| {
                let max = w.iter().fold(0.0f32, |m, v| m.max(v.abs()));
                if max > 0.0 { max / 127.0 } else { 1.0 }
            })
            .collect();
        let q: Vec<i8> = values
            .iter()
            .enumerate()
            .map(|(i, &v)| (v / scales[i / per_channel]).round().clamp(-127.0, 127.0) as i8)
            .collect();
        let name = weight.name.clone();
        node.input[1] = self.dequantize_initializer(
            &name,
            proto::i8_tensor(&format!("{name}_quantized"), &dims, &q),
            &scales,
            proto::i8_tensor(
                &format!("{name}_zero_point"),
                &[channels],
                &vec![0; channels],
            ),
        );
        let input_scale = self.scales.get(&node.input[0]).copied();
        if let (Some(input_scale), Some(bias_name)) = (input_scale, node.input.get(2).cloned()) {
            let Some(bias) = self.weights.remove(&bias_name) else {
                return Ok(());
            };
            let values = proto::f32_values(&bias).unwrap_or_default();
            if values.len() != channels {
                self.weights.insert(bias_name, bias);
                return Ok(());
            }
            let bias_scales: Vec<f32> = scales.iter().map(|s| s * input_scale).collect();
            let q: Vec<i32> = values
                .iter()
                .zip(&bias_scales)
                .map(|(&b, &s)| (f64::from(b) / f64::from(s)).round() as i32)
                .collect();
            node.input[2] = self.dequantize_initializer(
                &bias_name,
                proto::i32_tensor(&format!("{bias_name}_quantized"), &[channels], &q),
                &bias_scales,
                proto::i32_tensor(
                    &format!("{bias_name}_zero_point"),
                    &[channels],
                    &vec![0; channels],
                ),
            );
        }
        Ok(())
    }

    /// Adds quantized initializer `q` with per-channel `scales` and `zero_point`, and the
    /// `DequantizeLinear` (axis 0) that restores float `name`; returns the float tensor name.
    fn dequantize_initializer(
        &mut self,
        name: &str,
        q: pb::TensorProto,
        scales: &[f32],
        zero_point: pb::TensorProto,
    ) -> String {
        let scale_name = format!("{name}_scale");
        let output = dequantized(name);
        self.nodes.push(pb::NodeProto {
            input: vec![q.name.clone(), scale_name.clone(), zero_point.name.clone()],
            output: vec![output.clone()],
            name: format!("{name}_DequantizeLinear"),
            op_type: "DequantizeLinear".into(),
            attribute: vec![proto::attr_int("axis", 0)],
            ..Default::default()
        });
        self.initializers
            .push(proto::f32_tensor(&scale_name, &[scales.len()], scales));
        self.initializers.push(q);
        self.initializers.push(zero_point);
        output
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn activation_params_cover_the_range_and_zero() {
        let (scale, zp) = activation_params((0.0, 6.0));
        assert!((scale - 6.0 / 255.0).abs() < 1e-9);
        assert_eq!(zp, -128);
        let (scale, zp) = activation_params((-1.0, 1.0));
        assert!((scale - 2.0 / 255.0).abs() < 1e-9);
        // -1 maps to -128, 1 to 127
        assert_eq!(zp, 0);
        let (scale, zp) = activation_params((2.0, 3.0));
        assert!((scale - 3.0 / 255.0).abs() < 1e-9, "the range includes 0");
        assert_eq!(zp, -128);
        assert_eq!(activation_params((0.0, 0.0)), (1.0, 0));
    }

    #[test]
    fn ranges_ignore_non_finite_values() {
        let mut ranges = Ranges::default();
        ranges.observe("x", &[1.0, f32::NAN, -2.0]);
        ranges.observe("x", &[3.0, f32::INFINITY]);
        ranges.observe("y", &[f32::NAN]);
        assert_eq!(ranges.get("x"), Some((-2.0, 3.0)));
        assert_eq!(ranges.get("y"), None);
        assert_eq!(ranges.len(), 1);
    }
}
