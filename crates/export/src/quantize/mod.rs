//! Static int8 quantization of a float ONNX model in the QDQ format (`QuantizeLinear` /
//! `DequantizeLinear` pairs around float operators, which runtimes fuse into integer kernels):
//!
//! - **Weights** of `Conv` and `Gemm`: int8, symmetric, per output channel (axis 0), scale
//!   `max |w| / 127`; their biases int32 with scale `input scale * weight scale`, zero point 0.
//! - **Activations**: int8, asymmetric, per tensor, from the min / max each tensor reaches on
//!   calibration inputs ([`calibrate`]), the range widened to include 0. A tensor is quantized
//!   where an operator of [`QUANTIZED_OPS`] reads it, except inside the activation after a
//!   `Conv` / `Gemm` (the layer's output and, for SiLU, `sigmoid(x)`: runtimes fuse `Clip` /
//!   `Relu` into the layer, and quantizing both factors of `x * sigmoid(x)` compounds their
//!   errors, which made the LWCSP int8 model useless) and in the output tail: the last
//!   `Tanh` / `Sigmoid` layers and the final `Concat` read float values, so the output keeps
//!   float precision (a quantized landmark would move by up to half a step, about 0.2 pixel
//!   at 96 px). `Concat` runs on float values: its output is quantized where a layer reads it,
//!   its parts only where other layers read them, so no part is forced onto another's range.
//!   A tensor whose channels
//!   span very different ranges (largest channel maximum over the median one above
//!   [`MAX_CHANNEL_SPREAD`]) also stays float: one per-tensor scale would leave most channels
//!   a few levels (LWCSP's `mainstream.conv22` concatenates parts 30x apart).
//!
//! This is the "S8S8" QDQ layout onnxruntime recommends and microcontroller NPU toolchains
//! (int8 activations, per-channel int8 weights) expect.

mod calibrate;
mod rewrite;
mod targets;

pub use calibrate::{MAX_CHANNEL_SPREAD, Ranges, calibrate, calibrate_tensors};
pub use rewrite::quantize;
pub use targets::{QUANTIZED_OPS, activation_targets};

#[cfg(test)]
mod tests {
    use super::*;
    use crate::graph::GraphBuilder;
    use crate::proto::{self, Dim};
    use crate::runtime::{Input, OnnxRunner};
    use crate::verify::max_abs_diff;
    use std::path::Path;
    use tract_onnx::pb;
    use tract_onnx::pb::tensor_proto::DataType;

    /// input [N, 2, 2, 2] -> Conv -> Clip -> Conv -> SiLU -> Split -> [Conv, Concat] ->
    /// Concat -> GlobalAveragePool -> Flatten -> Gemm -> Tanh (output [N, 1])
    fn model() -> pb::ModelProto {
        let mut g = GraphBuilder::new();
        let w1 = g.weight("w1", &[2, 2, 1, 1], &[0.5, -1.0, 2.0, 0.25]);
        let b1 = g.weight("b1", &[2], &[0.1, -0.3]);
        let (lo, hi) = (g.scalar(0.0), g.scalar(6.0));
        let c1 = g.op("/a", "Conv", &["input", &w1, &b1], vec![]);
        let r1 = g.op("/a", "Clip", &[&c1, &lo, &hi], vec![]);
        let w2 = g.weight("w2", &[2, 2, 1, 1], &[1.5, -0.5, -2.0, 0.75]);
        let c2 = g.op("/b", "Conv", &[&r1, &w2], vec![]);
        let s = g.op("/b", "Sigmoid", &[&c2], vec![]);
        let m = g.op("/b", "Mul", &[&c2, &s], vec![]);
        let sizes = g.ints("sizes", &[1, 1]);
        let halves = g.op_n(
            "/c",
            "Split",
            &[&m, &sizes],
            vec![proto::attr_int("axis", 1)],
            2,
        );
        let w3 = g.weight("w3", &[1, 1, 1, 1], &[-0.8]);
        let c3 = g.op("/c", "Conv", &[&halves[1], &w3], vec![]);
        let axis = vec![proto::attr_int("axis", 1)];
        let joined = g.op("/c", "Concat", &[&halves[0], &halves[1], &c3], axis.clone());
        let pooled = g.op("/d", "GlobalAveragePool", &[&joined], vec![]);
        let flat = g.op("/d", "Flatten", &[&pooled], axis);
        let fc = g.weight("fc", &[1, 3], &[0.3, -0.6, 0.9]);
        let fc_bias = g.weight("fc_bias", &[1], &[0.05]);
        let y = g.op(
            "/d",
            "Gemm",
            &[&flat, &fc, &fc_bias],
            vec![proto::attr_int("transB", 1)],
        );
        let out = g.op("/d", "Tanh", &[&y], vec![]);
        g.rename(&out, "output");
        let size = [Dim::Named("N"), Dim::Fixed(2), Dim::Fixed(2), Dim::Fixed(2)];
        let graph = g.finish(
            "t",
            proto::value_info("input", DataType::Float, &size),
            proto::value_info("output", DataType::Float, &[Dim::Named("N"), Dim::Fixed(1)]),
        );
        pb::ModelProto {
            ir_version: proto::IR_VERSION,
            opset_import: vec![pb::OperatorSetIdProto {
                domain: String::new(),
                version: 17,
            }],
            graph: Some(graph),
            ..Default::default()
        }
    }

    #[test]
    fn activations_are_quantized_between_layers_only() {
        let model = model();
        let mut targets: Vec<String> = activation_targets(model.graph.as_ref().unwrap())
            .into_keys()
            .collect();
        targets.sort();
        // not: the convolutions' outputs read by their activations, sigmoid(x), the SiLU
        // result read only by Split, the parts read only by Concat, and the Gemm output read
        // by the output Tanh
        assert_eq!(
            targets,
            [
                "/a/Clip_output_0",
                "/c/Concat_output_0",
                "/c/Split_output_1",
                "/d/Flatten_output_0",
                "/d/GlobalAveragePool_output_0",
                "input",
            ]
        );
    }

    #[test]
    fn the_qdq_model_runs_close_to_the_float_one() {
        let float = model();
        let inputs: Vec<f32> = (0..4 * 8)
            .map(|i| ((i * 7) % 13) as f32 / 6.0 - 1.0)
            .collect();
        let batch = Input::F32(&inputs, [4, 2, 2, 2]);
        let ranges = calibrate(&float, [batch]).unwrap();
        assert_eq!(ranges.len(), 6);
        let int8 = quantize(&float, &ranges).unwrap();
        let graph = int8.graph.as_ref().unwrap();
        let count = |op: &str| graph.node.iter().filter(|n| n.op_type == op).count();
        assert_eq!(count("QuantizeLinear"), 6);
        // 6 activations, 4 weights, 2 biases (of the Conv / Gemm whose inputs are quantized)
        assert_eq!(count("DequantizeLinear"), 6 + 4 + 2);
        let weight = graph
            .initializer
            .iter()
            .find(|t| t.name == "w1_quantized")
            .unwrap();
        assert_eq!(weight.data_type, DataType::Int8 as i32);
        // channel 0 [0.5, -1] and channel 1 [2, 0.25], each scaled so its max |w| is 127
        assert_eq!(weight.raw_data, vec![64, 0x81, 127, 16]);
        assert!(
            graph
                .initializer
                .iter()
                .any(|t| t.name == "b1_quantized" && t.data_type == DataType::Int32 as i32)
        );

        let run = |m: &pb::ModelProto| {
            OnnxRunner::from_model(m, Path::new("<test>"))
                .unwrap()
                .run(batch)
                .unwrap()
        };
        let (diff, _) = max_abs_diff(&run(&float), &run(&int8));
        assert!(diff > 0.0 && diff < 0.02, "{diff}");
    }
}
