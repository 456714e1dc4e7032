//! The rewriting of a float model into its QDQ form: `QuantizeLinear` / `DequantizeLinear`
//! after each quantized activation, int8 weights and int32 biases behind `DequantizeLinear`.

use super::calibrate::{MAX_CHANNEL_SPREAD, Ranges};
use super::targets::activation_targets;
use crate::error::ExportError;
use crate::proto;
use std::collections::HashMap;
use tract_onnx::pb;

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
        .filter(|(name, _)| {
            ranges.get(name).is_some()
                && ranges
                    .channel_spread(name)
                    .is_none_or(|spread| spread <= MAX_CHANNEL_SPREAD)
        })
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
        if let (true, Some(range)) = (targets.contains_key(&input.name), ranges.get(&input.name)) {
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
        if channels == 0 || !values.len().is_multiple_of(channels) {
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
        // -128 - (-1 / scale) = -0.5 rounds away from zero: -1 maps to -128.5 (saturating
        // to -128) and 1 to 126.5
        assert_eq!(zp, -1);
        let (scale, zp) = activation_params((2.0, 3.0));
        assert!((scale - 3.0 / 255.0).abs() < 1e-9, "the range includes 0");
        assert_eq!(zp, -128);
        assert_eq!(activation_params((0.0, 0.0)), (1.0, 0));
    }
}
