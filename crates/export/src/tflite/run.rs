//! [`runnable_onnx`]: a TFLite [`Graph`] as an equivalent float ONNX graph that tract runs,
//! so `val`, `predict`, `track` and the export's own checks run `.tflite` files in-process.
//!
//! Every tensor is carried as its real value (NHWC feature maps as NCHW). Quantized weights
//! and float16 weights are expanded to float32 initializers; a quantized activation is
//! rounded to its grid after the operator that writes it (`(clip(round(x / s) + z) - z) * s`),
//! which is what TFLite's integer kernels compute up to their fixed-point rescaling (a
//! difference of at most one step on a few values). The input is what the ONNX export takes
//! (`[N, 3, H, W]` float, or `[N, H, W, 3]` uint8 pixels), the output float.

use super::ir::{ElemType, Fused, Graph, Op, OpKind, Padding, Quant};
use crate::error::ExportError;
use crate::graph::GraphBuilder;
use crate::lower::{BATCH, INPUT, InputLayout, OUTPUT};
use crate::proto::{self, Dim};
use tract_onnx::pb;
use tract_onnx::pb::tensor_proto::DataType;

/// NHWC axis -> NCHW axis.
const TO_NCHW: [usize; 4] = [0, 2, 3, 1];

/// The ONNX model computing `graph`, and the input layout it takes. Tensor `k` of the graph
/// is the ONNX tensor `t{k}` (for calibration), its input `input` and its output `output`.
pub fn runnable_onnx(graph: &Graph) -> Result<(pb::ModelProto, InputLayout), ExportError> {
    let bad = |message: String| ExportError::Tflite {
        path: "<graph>".into(),
        message,
    };
    let [input] = graph.inputs[..] else {
        return Err(bad(format!("{} inputs, expected 1", graph.inputs.len())));
    };
    let [output] = graph.outputs[..] else {
        return Err(bad(format!("{} outputs, expected 1", graph.outputs.len())));
    };
    let t_in = &graph.tensors[input];
    let [_, h, w, c] = t_in.shape[..] else {
        return Err(bad(format!("input shape {:?} is not NHWC", t_in.shape)));
    };
    if c != 3 {
        return Err(bad(format!("input has {c} channels, expected 3")));
    }
    let mut r = Runner {
        g: GraphBuilder::new(),
        graph,
        names: vec![None; graph.tensors.len()],
    };
    let layout = r.input(input).map_err(bad)?;
    for (k, op) in graph.ops.iter().enumerate() {
        r.op(op)
            .map_err(|e| bad(format!("operator {k} ({}): {e}", op.kind.name())))?;
    }
    let last = r.name(output).map_err(bad)?;
    let mut g = r.g;
    let out_name = g.op("/output", "Identity", &[&last], vec![]);
    g.rename(&out_name, OUTPUT);
    let input_info = match layout {
        InputLayout::NchwF32 => proto::value_info(
            INPUT,
            DataType::Float,
            &[
                Dim::Named(BATCH),
                Dim::Fixed(3),
                Dim::Fixed(h),
                Dim::Fixed(w),
            ],
        ),
        InputLayout::NhwcU8 => proto::value_info(
            INPUT,
            DataType::Uint8,
            &[
                Dim::Named(BATCH),
                Dim::Fixed(h),
                Dim::Fixed(w),
                Dim::Fixed(3),
            ],
        ),
    };
    let width = graph.tensors[output].shape.iter().skip(1).product();
    let output_info = proto::value_info(
        OUTPUT,
        DataType::Float,
        &[Dim::Named(BATCH), Dim::Fixed(width)],
    );
    let model = pb::ModelProto {
        ir_version: proto::IR_VERSION,
        opset_import: vec![pb::OperatorSetIdProto {
            domain: String::new(),
            version: crate::MIN_OPSET,
        }],
        producer_name: crate::PRODUCER.into(),
        graph: Some(g.finish("tflite", input_info, output_info)),
        ..Default::default()
    };
    Ok((model, layout))
}

/// The ONNX name of graph tensor `k`.
pub fn tensor_name(k: usize) -> String {
    format!("t{k}")
}

struct Runner<'a> {
    g: GraphBuilder,
    graph: &'a Graph,
    /// The ONNX tensor holding each graph tensor's real values, once computed.
    names: Vec<Option<String>>,
}

impl Runner<'_> {
    /// The ONNX tensor of graph tensor `t`: computed, or a constant's real values.
    fn name(&mut self, t: usize) -> Result<String, String> {
        if let Some(name) = &self.names[t] {
            return Ok(name.clone());
        }
        let tensor = &self.graph.tensors[t];
        let values = tensor
            .real_values()
            .ok_or_else(|| format!("tensor `{}` is read before it is computed", tensor.name))?;
        let name = self.g.weight(&tensor_name(t), &tensor.shape, &values);
        self.names[t] = Some(name.clone());
        Ok(name)
    }

    fn rank(&self, t: usize) -> usize {
        self.graph.tensors[t].shape.len()
    }

    fn values(&self, t: usize) -> Result<Vec<f32>, String> {
        self.graph
            .constant_values(t)
            .ok_or_else(|| format!("`{}` is not a constant", self.graph.tensors[t].name))
    }

    /// Stores `value` as graph tensor `t`, rounded to its quantization grid if it has one.
    fn store(&mut self, t: usize, value: String) {
        let tensor = &self.graph.tensors[t];
        let value = match (&tensor.quant, tensor.dtype.int_range()) {
            (Some(q), Some(range)) => self.fake_quant(&value, q, range),
            _ => value,
        };
        let name = tensor_name(t);
        self.g.rename(&value, &name);
        self.names[t] = Some(name);
    }

    /// `(clip(round(x / s) + z, lo, hi) - z) * s`, per tensor.
    fn fake_quant(&mut self, x: &str, q: &Quant, (lo, hi): (i64, i64)) -> String {
        let scope = "/quant";
        let s = self.g.scalar(q.scale[0]);
        let z = self.g.scalar(q.zero_point[0] as f32);
        let (lo, hi) = (self.g.scalar(lo as f32), self.g.scalar(hi as f32));
        let scaled = self.g.op(scope, "Div", &[x, &s], vec![]);
        let rounded = self.g.op(scope, "Round", &[&scaled], vec![]);
        let shifted = self.g.op(scope, "Add", &[&rounded, &z], vec![]);
        let clipped = self.g.op(scope, "Clip", &[&shifted, &lo, &hi], vec![]);
        let centred = self.g.op(scope, "Sub", &[&clipped, &z], vec![]);
        self.g.op(scope, "Mul", &[&centred, &s], vec![])
    }

    /// The graph input as real values: float NCHW as it is (rounded to its grid when the
    /// file takes int8), uint8 pixels transposed to NCHW, cast and dequantized if quantized.
    fn input(&mut self, t: usize) -> Result<InputLayout, String> {
        let tensor = &self.graph.tensors[t];
        match tensor.dtype {
            ElemType::F32 | ElemType::I8 => {
                let x = self.g.op("/input", "Identity", &[INPUT], vec![]);
                self.store(t, x);
                Ok(InputLayout::NchwF32)
            }
            ElemType::U8 => {
                let nchw = self.g.op(
                    "/input",
                    "Transpose",
                    &[INPUT],
                    vec![proto::attr_ints("perm", &[0, 3, 1, 2])],
                );
                let mut x = self.g.op(
                    "/input",
                    "Cast",
                    &[&nchw],
                    vec![proto::attr_int("to", DataType::Float as i64)],
                );
                if let Some(q) = tensor.quant.clone() {
                    let z = self.g.scalar(q.zero_point[0] as f32);
                    let s = self.g.scalar(q.scale[0]);
                    let centred = self.g.op("/input", "Sub", &[&x, &z], vec![]);
                    x = self.g.op("/input", "Mul", &[&centred, &s], vec![]);
                }
                let name = tensor_name(t);
                self.g.rename(&x, &name);
                self.names[t] = Some(name);
                Ok(InputLayout::NhwcU8)
            }
            other => Err(format!(
                "input type {other:?} is not float32, int8 or uint8"
            )),
        }
    }

    /// A fused activation after `x`.
    fn fused(&mut self, x: String, fused: Fused) -> String {
        match fused {
            Fused::None => x,
            Fused::Relu => self.g.op("/act", "Relu", &[&x], vec![]),
            Fused::Relu6 => {
                let (lo, hi) = (self.g.scalar(0.0), self.g.scalar(6.0));
                self.g.op("/act", "Clip", &[&x, &lo, &hi], vec![])
            }
        }
    }

    fn op(&mut self, op: &Op) -> Result<(), String> {
        let out = *op.outputs.first().ok_or("no output")?;
        let arg = |r: &mut Self, k: usize| -> Result<String, String> {
            let t = *op.inputs.get(k).ok_or_else(|| format!("no input {k}"))?;
            r.name(t)
        };
        let value = match op.kind {
            OpKind::Conv2d {
                stride,
                padding,
                fused,
            } => self.conv(op, stride, padding, fused, false)?,
            OpKind::DepthwiseConv2d {
                stride,
                padding,
                fused,
                ..
            } => self.conv(op, stride, padding, fused, true)?,
            OpKind::FullyConnected { fused } => {
                let x = arg(self, 0)?;
                let w = arg(self, 1)?;
                let mut inputs = vec![x, w];
                if let Some(&b) = op.inputs.get(2) {
                    inputs.push(self.name(b)?);
                }
                let inputs: Vec<&str> = inputs.iter().map(String::as_str).collect();
                let y = self
                    .g
                    .op("/fc", "Gemm", &inputs, vec![proto::attr_int("transB", 1)]);
                self.fused(y, fused)
            }
            OpKind::MaxPool2d { size, stride } => {
                let x = arg(self, 0)?;
                self.g.op(
                    "/pool",
                    "MaxPool",
                    &[&x],
                    vec![
                        proto::attr_ints("kernel_shape", &[size as i64; 2]),
                        proto::attr_ints("strides", &[stride as i64; 2]),
                    ],
                )
            }
            OpKind::Pad => {
                let x = arg(self, 0)?;
                let p = self.values(op.inputs[1])?;
                let p: Vec<i64> = p.iter().map(|&v| v as i64).collect();
                let rank = self.rank(op.inputs[0]);
                let (mut begins, mut ends) = (vec![0; rank], vec![0; rank]);
                for a in 0..rank {
                    let axis = if rank == 4 { TO_NCHW[a] } else { a };
                    begins[axis] = p[2 * a];
                    ends[axis] = p[2 * a + 1];
                }
                begins.extend(ends);
                let pads = self.g.ints("/pad/pads", &begins);
                self.g.op("/pad", "Pad", &[&x, &pads], vec![])
            }
            OpKind::Mean { keep_dims } | OpKind::ReduceMax { keep_dims } => {
                let x = arg(self, 0)?;
                let rank = self.rank(op.inputs[0]);
                let axes: Vec<i64> = self
                    .values(op.inputs[1])?
                    .iter()
                    .map(|&a| map_axis(a as usize, rank) as i64)
                    .collect();
                let onnx_op = if matches!(op.kind, OpKind::Mean { .. }) {
                    "ReduceMean"
                } else {
                    "ReduceMax"
                };
                self.g.op(
                    "/reduce",
                    onnx_op,
                    &[&x],
                    vec![
                        proto::attr_ints("axes", &axes),
                        proto::attr_int("keepdims", i64::from(keep_dims)),
                    ],
                )
            }
            OpKind::Concatenation { axis } => {
                let rank = self.rank(out);
                let parts = (0..op.inputs.len())
                    .map(|k| arg(self, k))
                    .collect::<Result<Vec<_>, _>>()?;
                let parts: Vec<&str> = parts.iter().map(String::as_str).collect();
                self.g.op(
                    "/concat",
                    "Concat",
                    &parts,
                    vec![proto::attr_int("axis", map_axis(axis, rank) as i64)],
                )
            }
            OpKind::StridedSlice {
                begin_mask,
                end_mask,
            } => {
                let x = arg(self, 0)?;
                let rank = self.rank(op.inputs[0]);
                let begin = self.values(op.inputs[1])?;
                let end = self.values(op.inputs[2])?;
                let strides = self.values(op.inputs[3])?;
                let (mut starts, mut ends, mut axes, mut steps) = (vec![], vec![], vec![], vec![]);
                for a in 0..rank {
                    let masked_begin = begin_mask & (1 << a) != 0;
                    let masked_end = end_mask & (1 << a) != 0;
                    if masked_begin && masked_end && strides[a] == 1.0 {
                        continue;
                    }
                    starts.push(if masked_begin { 0 } else { begin[a] as i64 });
                    ends.push(if masked_end { i64::MAX } else { end[a] as i64 });
                    axes.push(map_axis(a, rank) as i64);
                    steps.push(strides[a] as i64);
                }
                let starts = self.g.ints("/slice/starts", &starts);
                let ends = self.g.ints("/slice/ends", &ends);
                let axes = self.g.ints("/slice/axes", &axes);
                let steps = self.g.ints("/slice/steps", &steps);
                self.g.op(
                    "/slice",
                    "Slice",
                    &[&x, &starts, &ends, &axes, &steps],
                    vec![],
                )
            }
            OpKind::Add | OpKind::Sub | OpKind::Mul | OpKind::Div => {
                let onnx_op = match op.kind {
                    OpKind::Add => "Add",
                    OpKind::Sub => "Sub",
                    OpKind::Mul => "Mul",
                    _ => "Div",
                };
                let a = arg(self, 0)?;
                let b = self.broadcastable(op.inputs[1], self.rank(op.inputs[0]))?;
                self.g.op("/binary", onnx_op, &[&a, &b], vec![])
            }
            OpKind::Prelu => {
                let x = arg(self, 0)?;
                let slope = self.broadcastable(op.inputs[1], self.rank(op.inputs[0]))?;
                self.g.op("/act", "PRelu", &[&x, &slope], vec![])
            }
            OpKind::Logistic => self.unary(op, "Sigmoid", vec![])?,
            OpKind::Tanh => self.unary(op, "Tanh", vec![])?,
            OpKind::Relu => self.unary(op, "Relu", vec![])?,
            OpKind::HardSwish => self.unary(op, "HardSwish", vec![])?,
            OpKind::LeakyRelu { alpha } => {
                self.unary(op, "LeakyRelu", vec![proto::attr_float("alpha", alpha)])?
            }
            OpKind::Relu6 => {
                let x = arg(self, 0)?;
                self.fused(x, Fused::Relu6)
            }
            OpKind::Quantize | OpKind::Dequantize => self.unary(op, "Identity", vec![])?,
            OpKind::Cast => {
                if self.graph.tensors[out].dtype != ElemType::F32 {
                    return Err("only casts to float32 are supported".into());
                }
                self.unary(op, "Identity", vec![])?
            }
        };
        self.store(out, value);
        Ok(())
    }

    fn unary(
        &mut self,
        op: &Op,
        onnx_op: &str,
        attributes: Vec<pb::AttributeProto>,
    ) -> Result<String, String> {
        let x = self.name(op.inputs[0])?;
        Ok(self.g.op("/unary", onnx_op, &[&x], attributes))
    }

    /// A constant operand laid out to broadcast against an NCHW tensor of rank `rank`
    /// (a TFLite `[1, 1, C]` or `[C]` becomes `[C, 1, 1]`).
    fn broadcastable(&mut self, t: usize, rank: usize) -> Result<String, String> {
        let tensor = &self.graph.tensors[t];
        if rank != 4 || tensor.len() == 1 || self.graph.constant_values(t).is_none() {
            return self.name(t);
        }
        let values = self.values(t)?;
        let channels = *tensor.shape.last().unwrap_or(&1);
        if channels != values.len() {
            return Err(format!(
                "constant `{}` of shape {:?} does not broadcast over channels",
                tensor.name, tensor.shape
            ));
        }
        Ok(self.g.weight(
            &format!("{}_nchw", tensor_name(t)),
            &[channels, 1, 1],
            &values,
        ))
    }

    /// CONV_2D (filter OHWI) or DEPTHWISE_CONV_2D (filter `[1, kh, kw, C * M]`) as `Conv`.
    fn conv(
        &mut self,
        op: &Op,
        stride: usize,
        padding: Padding,
        fused: Fused,
        depthwise: bool,
    ) -> Result<String, String> {
        let x = self.name(op.inputs[0])?;
        let input = &self.graph.tensors[op.inputs[0]];
        let filter = &self.graph.tensors[op.inputs[1]];
        let [_, h, w, c_in] = input.shape[..] else {
            return Err(format!("input shape {:?} is not NHWC", input.shape));
        };
        let [d0, kh, kw, d3] = filter.shape[..] else {
            return Err(format!("filter shape {:?} is not 4-D", filter.shape));
        };
        let f = self.values(op.inputs[1])?;
        let (weights, dims, groups) = if depthwise {
            let c_out = d3;
            let mut o = vec![0.0; f.len()];
            for oc in 0..c_out {
                for k in 0..kh * kw {
                    o[oc * kh * kw + k] = f[k * c_out + oc];
                }
            }
            (o, [c_out, 1, kh, kw], c_in)
        } else {
            let (c_out, c_in_group) = (d0, d3);
            let mut o = vec![0.0; f.len()];
            for oc in 0..c_out {
                for i in 0..c_in_group {
                    for k in 0..kh * kw {
                        o[(oc * c_in_group + i) * kh * kw + k] =
                            f[(oc * kh * kw + k) * c_in_group + i];
                    }
                }
            }
            (o, [c_out, c_in_group, kh, kw], c_in / c_in_group.max(1))
        };
        let wname = self.g.weight(
            &format!("{}_oihw", tensor_name(op.inputs[1])),
            &dims,
            &weights,
        );
        let mut inputs = vec![x, wname];
        if let Some(&b) = op.inputs.get(2) {
            inputs.push(self.name(b)?);
        }
        let same = |size: usize, k: usize| {
            let total = ((size.div_ceil(stride) - 1) * stride + k).saturating_sub(size);
            (total / 2, total - total / 2)
        };
        let pads = match padding {
            Padding::Valid => [0; 4],
            Padding::Same => {
                let ((t, b), (l, r)) = (same(h, kh), same(w, kw));
                [t, l, b, r]
            }
        };
        let pads: Vec<i64> = pads.iter().map(|&p| p as i64).collect();
        let inputs: Vec<&str> = inputs.iter().map(String::as_str).collect();
        let y = self.g.op(
            "/conv",
            "Conv",
            &inputs,
            vec![
                proto::attr_int("group", groups as i64),
                proto::attr_ints("kernel_shape", &[kh as i64, kw as i64]),
                proto::attr_ints("pads", &pads),
                proto::attr_ints("strides", &[stride as i64; 2]),
            ],
        );
        Ok(self.fused(y, fused))
    }
}

/// A TFLite axis of a rank-`rank` tensor as the ONNX axis (NHWC -> NCHW for rank 4).
fn map_axis(axis: usize, rank: usize) -> usize {
    if rank == 4 {
        TO_NCHW[axis.min(3)]
    } else {
        axis
    }
}
