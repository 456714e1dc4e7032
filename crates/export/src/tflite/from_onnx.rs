//! [`from_onnx`]: the float ONNX graph the ONNX exporter writes and verifies (BatchNorm
//! folded, NCHW) translated node by node into a float32 TFLite graph (NHWC).
//!
//! Feature maps become NHWC (channel axis 1 becomes 3), `Conv` weights OHWI (or
//! `[1, kh, kw, C * M]` for depth-wise), `Clip(0, 6)` and `Relu` fold into the convolution
//! or linear layer before them, global pools become `MEAN` / `REDUCE_MAX` over axes 1 and 2
//! (giving `[N, C]`, so `Flatten` disappears), `Gemm` becomes `FULLY_CONNECTED`, the channel
//! `Slice` a `STRIDED_SLICE`. Where TensorFlow's SAME padding would not be PyTorch's
//! symmetric padding (a stride-2 convolution on an even input puts SAME's extra row at the
//! bottom), an explicit `PAD` and VALID are written instead.

use super::ir::{ElemType, Fused, Graph, OpKind, Padding};
use crate::error::ExportError;
use crate::lower::{INPUT, OUTPUT};
use crate::proto;
use std::collections::HashMap;
use tract_onnx::pb;

/// An ONNX value in the TFLite graph.
#[derive(Debug, Clone, Copy)]
struct Mapped {
    /// The TFLite tensor.
    tensor: usize,
    /// Whether it is a feature map `[N, H, W, C]` (else a vector `[N, C]`).
    map: bool,
}

/// The float32 TFLite graph of `model` (a float ONNX model as [`crate::to_onnx`] writes it,
/// BatchNorm folded). An operator without a TFLite equivalent is an error naming it.
pub fn from_onnx(model: &pb::ModelProto) -> Result<Graph, ExportError> {
    let graph = model
        .graph
        .as_ref()
        .ok_or_else(|| unsupported("the ONNX model has no graph".into()))?;
    let mut t = Translation {
        g: Graph::default(),
        values: HashMap::new(),
        weights: graph
            .initializer
            .iter()
            .map(|i| (i.name.as_str(), i))
            .collect(),
        uses: HashMap::new(),
    };
    for node in &graph.node {
        for input in &node.input {
            *t.uses.entry(input.clone()).or_default() += 1;
        }
    }
    t.input(graph)?;
    for node in &graph.node {
        t.node(node)
            .map_err(|e| unsupported(format!("node `{}` ({}): {e}", node.name, node.op_type)))?;
    }
    let output = t.value(OUTPUT)?;
    t.g.tensors[output.tensor].name = OUTPUT.into();
    t.g.outputs = vec![output.tensor];
    Ok(t.g)
}

fn unsupported(message: String) -> ExportError {
    ExportError::TfliteUnsupported(message)
}

/// The state of one translation.
struct Translation<'a> {
    g: Graph,
    /// ONNX tensor name -> TFLite tensor.
    values: HashMap<String, Mapped>,
    weights: HashMap<&'a str, &'a pb::TensorProto>,
    /// How many nodes read each ONNX tensor.
    uses: HashMap<String, usize>,
}

impl Translation<'_> {
    /// The graph input: float32 `[N, H, W, 3]`, or uint8 for a uint8 NHWC model.
    fn input(&mut self, graph: &pb::GraphProto) -> Result<(), ExportError> {
        let info = graph
            .input
            .iter()
            .find(|i| i.name == INPUT)
            .ok_or_else(|| unsupported(format!("the graph has no input `{INPUT}`")))?;
        let (elem, dims) = value_shape(info);
        let (dtype, [h, w]) = match (elem, dims.as_slice()) {
            (1, [_, Some(3), Some(h), Some(w)]) => (ElemType::F32, [*h, *w]),
            (2, [_, Some(h), Some(w), Some(3)]) => (ElemType::U8, [*h, *w]),
            _ => {
                return Err(unsupported(format!(
                    "input `{INPUT}` must be float [N, 3, H, W] or uint8 [N, H, W, 3], found \
                     element type {elem} and shape {dims:?}"
                )));
            }
        };
        let tensor = self.g.activation(INPUT, vec![1, h, w, 3], dtype);
        self.g.inputs = vec![tensor];
        self.values
            .insert(INPUT.into(), Mapped { tensor, map: true });
        Ok(())
    }

    fn value(&self, name: &str) -> Result<Mapped, ExportError> {
        self.values
            .get(name)
            .copied()
            .ok_or_else(|| unsupported(format!("tensor `{name}` is not computed before use")))
    }

    fn weight(&self, name: &str) -> Result<(Vec<usize>, Vec<f32>), String> {
        let tensor = self
            .weights
            .get(name)
            .ok_or_else(|| format!("`{name}` is not a float initializer"))?;
        let values = proto::f32_values(tensor).ok_or_else(|| format!("`{name}` is not float32"))?;
        Ok((proto::dims(tensor), values))
    }

    fn ints(&self, name: &str) -> Result<Vec<i64>, String> {
        self.weights
            .get(name)
            .and_then(|t| proto::i64_values(t))
            .ok_or_else(|| format!("`{name}` is not an int64 initializer"))
    }

    fn shape(&self, m: Mapped) -> Vec<usize> {
        self.g.tensors[m.tensor].shape.clone()
    }

    /// Appends `kind` on `inputs` with a new float32 output `name` of `shape`.
    fn emit(
        &mut self,
        kind: OpKind,
        inputs: Vec<usize>,
        name: &str,
        shape: Vec<usize>,
        map: bool,
    ) -> Mapped {
        let tensor = self.g.activation(name, shape, ElemType::F32);
        self.g.op(kind, inputs, vec![tensor]);
        self.values.insert(name.into(), Mapped { tensor, map });
        Mapped { tensor, map }
    }

    fn node(&mut self, node: &pb::NodeProto) -> Result<(), String> {
        let out = node
            .output
            .first()
            .ok_or_else(|| "it has no output".to_string())?
            .clone();
        let input = |k: usize| -> Result<&str, String> {
            node.input
                .get(k)
                .map(String::as_str)
                .ok_or_else(|| format!("it has no input {k}"))
        };
        let arg = |k: usize| -> Result<Mapped, String> {
            let name = input(k)?;
            self.values
                .get(name)
                .copied()
                .ok_or_else(|| format!("input `{name}` is not computed before it"))
        };
        match node.op_type.as_str() {
            "Transpose" => {
                // only the uint8 NHWC preprocessing's NHWC -> NCHW, which TFLite's layout undoes
                let x = arg(0)?;
                if attr_ints(node, "perm") != Some(vec![0, 3, 1, 2]) || !x.map {
                    return Err("only the input's NHWC -> NCHW transpose is supported".into());
                }
                self.values.insert(out, x);
            }
            "Cast" => {
                let x = arg(0)?;
                let shape = self.shape(x);
                self.emit(OpKind::Cast, vec![x.tensor], &out, shape, x.map);
            }
            "Conv" => self.conv(node, arg(0)?, &out)?,
            "Gemm" => self.gemm(node, arg(0)?, &out)?,
            "Clip" => {
                let lo = self.weight(input(1)?)?.1;
                let hi = self.weight(input(2)?)?.1;
                if lo != [0.0] || hi != [6.0] {
                    return Err(format!("Clip({lo:?}, {hi:?}) is not ReLU6"));
                }
                self.activation(arg(0)?, &out, Fused::Relu6, OpKind::Relu6);
            }
            "Relu" => self.activation(arg(0)?, &out, Fused::Relu, OpKind::Relu),
            "Sigmoid" => self.unary(arg(0)?, &out, OpKind::Logistic),
            "Tanh" => self.unary(arg(0)?, &out, OpKind::Tanh),
            "HardSwish" => self.unary(arg(0)?, &out, OpKind::HardSwish),
            "LeakyRelu" => {
                let alpha = attr_float(node, "alpha").unwrap_or(0.01);
                self.unary(arg(0)?, &out, OpKind::LeakyRelu { alpha });
            }
            "PRelu" => {
                let x = arg(0)?;
                let channels = *self.shape(x).last().unwrap_or(&1);
                let (_, slope) = self.weight(input(1)?)?;
                let slope = match slope.len() {
                    1 => vec![slope[0]; channels],
                    n if n == channels => slope,
                    n => return Err(format!("{n} slopes for {channels} channels")),
                };
                let alpha = self.g.const_f32(input(1)?, vec![1, 1, channels], &slope);
                let shape = self.shape(x);
                self.emit(OpKind::Prelu, vec![x.tensor, alpha], &out, shape, x.map);
            }
            op @ ("Add" | "Sub" | "Mul" | "Div") => {
                let kind = match op {
                    "Add" => OpKind::Add,
                    "Sub" => OpKind::Sub,
                    "Mul" => OpKind::Mul,
                    _ => OpKind::Div,
                };
                let a = arg(0)?;
                let b = match arg(1) {
                    Ok(b) => b.tensor,
                    Err(_) => {
                        let (_, v) = self.weight(input(1)?)?;
                        if v.len() != 1 {
                            return Err("only scalar constant operands are supported".into());
                        }
                        self.g.const_f32(input(1)?, vec![1], &v)
                    }
                };
                let shape = self.shape(a);
                self.emit(kind, vec![a.tensor, b], &out, shape, a.map);
            }
            "MaxPool" => {
                let x = arg(0)?;
                let kernel = attr_ints(node, "kernel_shape").unwrap_or_default();
                let strides = attr_ints(node, "strides").unwrap_or_default();
                let pads = attr_ints(node, "pads").unwrap_or_default();
                let (size, stride) = match (kernel.as_slice(), strides.as_slice()) {
                    ([k, k2], [s, s2]) if k == k2 && s == s2 => (*k as usize, *s as usize),
                    _ => return Err("only square pools with equal strides are supported".into()),
                };
                if pads.iter().any(|&p| p != 0) {
                    return Err("padded max pools are not supported".into());
                }
                let [n, h, w, c] = dims4(&self.shape(x))?;
                let shape = vec![n, (h - size) / stride + 1, (w - size) / stride + 1, c];
                self.emit(
                    OpKind::MaxPool2d { size, stride },
                    vec![x.tensor],
                    &out,
                    shape,
                    true,
                );
            }
            pool @ ("GlobalAveragePool" | "GlobalMaxPool") => {
                let x = arg(0)?;
                let [n, _, _, c] = dims4(&self.shape(x))?;
                let axes = self.g.const_i32(&format!("{out}/axes"), &[1, 2]);
                let kind = if pool == "GlobalAveragePool" {
                    OpKind::Mean { keep_dims: false }
                } else {
                    OpKind::ReduceMax { keep_dims: false }
                };
                self.emit(kind, vec![x.tensor, axes], &out, vec![n, c], false);
            }
            "Flatten" => {
                let x = arg(0)?;
                if x.map {
                    return Err(
                        "only the flattening of pooled [N, C, 1, 1] values is supported".into(),
                    );
                }
                self.values.insert(out, x);
            }
            "Concat" => {
                if attr_int(node, "axis") != Some(1) {
                    return Err("only channel concatenation (axis 1) is supported".into());
                }
                let parts = (0..node.input.len())
                    .map(arg)
                    .collect::<Result<Vec<_>, _>>()?;
                let map = parts[0].map;
                if parts.iter().any(|p| p.map != map) {
                    return Err("it mixes feature maps and vectors".into());
                }
                let mut shape = self.shape(parts[0]);
                let axis = shape.len() - 1;
                shape[axis] = parts.iter().map(|&p| self.shape(p)[axis]).sum();
                let inputs = parts.iter().map(|p| p.tensor).collect();
                self.emit(OpKind::Concatenation { axis }, inputs, &out, shape, map);
            }
            "Slice" => self.slice(node, arg(0)?, &out)?,
            other => return Err(format!("TFLite export has no translation for `{other}`")),
        }
        Ok(())
    }

    /// An element-wise operator without options.
    fn unary(&mut self, x: Mapped, out: &str, kind: OpKind) {
        let shape = self.shape(x);
        self.emit(kind, vec![x.tensor], out, shape, x.map);
    }

    /// ReLU / ReLU6: fused into the convolution or linear layer writing `x` when that layer
    /// has no other reader, a separate operator otherwise.
    fn activation(&mut self, x: Mapped, out: &str, fused: Fused, alone: OpKind) {
        let producer = self.g.producer(x.tensor);
        let name = self.g.tensors[x.tensor].name.clone();
        let single_use = self.uses.get(&name) == Some(&1);
        if let (Some(k), true) = (producer, single_use)
            && let Some(slot) = fused_slot(&mut self.g.ops[k].kind)
            && *slot == Fused::None
        {
            *slot = fused;
            self.g.tensors[x.tensor].name = out.into();
            self.values.insert(out.into(), x);
            return;
        }
        self.unary(x, out, alone);
    }

    fn conv(&mut self, node: &pb::NodeProto, x: Mapped, out: &str) -> Result<(), String> {
        let (wdims, w) = self.weight(&node.input[1])?;
        let [c_out, c_in_group, kh, kw] = dims4(&wdims)?;
        let [n, h, width, c_in] = dims4(&self.shape(x))?;
        let groups = attr_int(node, "group").unwrap_or(1) as usize;
        let strides = attr_ints(node, "strides").unwrap_or_else(|| vec![1, 1]);
        let pads = attr_ints(node, "pads").unwrap_or_else(|| vec![0; 4]);
        if strides.len() != 2 || strides[0] != strides[1] || pads.len() != 4 {
            return Err("only equal strides on both axes are supported".into());
        }
        if attr_ints(node, "dilations").is_some_and(|d| d.iter().any(|&v| v != 1)) {
            return Err("dilated convolutions are not supported".into());
        }
        let stride = strides[0] as usize;
        let bias = match node.input.get(2) {
            Some(b) => self.weight(b)?.1,
            None => vec![0.0; c_out],
        };
        let depthwise = groups == c_in && c_in_group == 1 && groups > 1;
        if groups != 1 && !depthwise {
            return Err(format!(
                "grouped convolutions ({groups} groups) are not supported"
            ));
        }
        let pads: Vec<usize> = pads.iter().map(|&p| p.max(0) as usize).collect();
        let (x, padding) = self.padded(x, [h, width], [kh, kw], stride, &pads, out);
        let [_, hp, wp, _] = dims4(&self.shape(x))?;
        let (oh, ow) = match padding {
            Padding::Same => (h.div_ceil(stride), width.div_ceil(stride)),
            Padding::Valid => ((hp - kh) / stride + 1, (wp - kw) / stride + 1),
        };
        let name = &node.input[1];
        let (filter, kind) = if depthwise {
            // [C * M, 1, kh, kw] -> [1, kh, kw, C * M]
            let mut f = vec![0.0; w.len()];
            for o in 0..c_out {
                for k in 0..kh * kw {
                    f[k * c_out + o] = w[o * kh * kw + k];
                }
            }
            let filter = self.g.const_f32(name, vec![1, kh, kw, c_out], &f);
            let multiplier = c_out / c_in;
            let kind = OpKind::DepthwiseConv2d {
                stride,
                padding,
                multiplier,
                fused: Fused::None,
            };
            (filter, kind)
        } else {
            // [O, I, kh, kw] -> [O, kh, kw, I]
            let mut f = vec![0.0; w.len()];
            for o in 0..c_out {
                for i in 0..c_in_group {
                    for k in 0..kh * kw {
                        f[(o * kh * kw + k) * c_in_group + i] =
                            w[(o * c_in_group + i) * kh * kw + k];
                    }
                }
            }
            let filter = self.g.const_f32(name, vec![c_out, kh, kw, c_in_group], &f);
            let kind = OpKind::Conv2d {
                stride,
                padding,
                fused: Fused::None,
            };
            (filter, kind)
        };
        let bias_name = node.input.get(2).cloned().unwrap_or(format!("{out}/bias"));
        let bias = self.g.const_f32(&bias_name, vec![c_out], &bias);
        self.emit(
            kind,
            vec![x.tensor, filter, bias],
            out,
            vec![n, oh, ow, c_out],
            true,
        );
        Ok(())
    }

    /// SAME when TensorFlow's SAME padding equals the ONNX `pads` (`[top, left, bottom,
    /// right]`), VALID when they are zero, else an explicit `PAD` before a VALID layer.
    fn padded(
        &mut self,
        x: Mapped,
        size: [usize; 2],
        kernel: [usize; 2],
        stride: usize,
        pads: &[usize],
        out: &str,
    ) -> (Mapped, Padding) {
        let same = |axis: usize| {
            let total = ((size[axis].div_ceil(stride) - 1) * stride + kernel[axis])
                .saturating_sub(size[axis]);
            (total / 2, total - total / 2)
        };
        if (same(0), same(1)) == ((pads[0], pads[2]), (pads[1], pads[3])) {
            return (x, Padding::Same);
        }
        if pads.iter().all(|&p| p == 0) {
            return (x, Padding::Valid);
        }
        let paddings: Vec<i32> = [0, 0, pads[0], pads[2], pads[1], pads[3], 0, 0]
            .iter()
            .map(|&p| p as i32)
            .collect();
        let paddings = self.g.const_i32(&format!("{out}/paddings"), &paddings);
        self.g.tensors[paddings].shape = vec![4, 2];
        let [n, h, w, c] = dims4(&self.shape(x)).unwrap_or([1, 1, 1, 1]);
        let shape = vec![n, h + pads[0] + pads[2], w + pads[1] + pads[3], c];
        let padded = self.emit(
            OpKind::Pad,
            vec![x.tensor, paddings],
            &format!("{out}/pad"),
            shape,
            true,
        );
        (padded, Padding::Valid)
    }

    fn gemm(&mut self, node: &pb::NodeProto, x: Mapped, out: &str) -> Result<(), String> {
        let (wdims, w) = self.weight(&node.input[1])?;
        let trans_b = attr_int(node, "transB").unwrap_or(0) == 1;
        if attr_int(node, "transA").unwrap_or(0) != 0
            || attr_float(node, "alpha").unwrap_or(1.0) != 1.0
            || attr_float(node, "beta").unwrap_or(1.0) != 1.0
            || wdims.len() != 2
            || x.map
        {
            return Err("only x * W^T + b on [N, in] vectors is supported".into());
        }
        let (d_out, d_in) = if trans_b {
            (wdims[0], wdims[1])
        } else {
            (wdims[1], wdims[0])
        };
        let weights = if trans_b {
            w
        } else {
            let mut t = vec![0.0; w.len()];
            for i in 0..d_in {
                for o in 0..d_out {
                    t[o * d_in + i] = w[i * d_out + o];
                }
            }
            t
        };
        let bias = match node.input.get(2) {
            Some(b) => self.weight(b)?.1,
            None => vec![0.0; d_out],
        };
        let wt = self
            .g
            .const_f32(&node.input[1], vec![d_out, d_in], &weights);
        let bias_name = node.input.get(2).cloned().unwrap_or(format!("{out}/bias"));
        let b = self.g.const_f32(&bias_name, vec![d_out], &bias);
        let n = self.shape(x)[0];
        self.emit(
            OpKind::FullyConnected { fused: Fused::None },
            vec![x.tensor, wt, b],
            out,
            vec![n, d_out],
            false,
        );
        Ok(())
    }

    /// `Slice` of channels (axis 1) of a feature map, as `STRIDED_SLICE` on axis 3.
    fn slice(&mut self, node: &pb::NodeProto, x: Mapped, out: &str) -> Result<(), String> {
        let starts = self.ints(&node.input[1])?;
        let ends = self.ints(&node.input[2])?;
        let axes = match node.input.get(3) {
            Some(a) => self.ints(a)?,
            None => vec![0],
        };
        if axes != [1] || node.input.len() > 4 || !x.map {
            return Err("only a slice of the channels of a feature map is supported".into());
        }
        let mut shape = self.shape(x);
        let c = shape[3] as i64;
        let start = starts[0].clamp(0, c) as i32;
        let end = ends[0].clamp(0, c) as i32;
        shape[3] = (end - start).max(0) as usize;
        let begin = self.g.const_i32(&format!("{out}/begin"), &[0, 0, 0, start]);
        let end = self.g.const_i32(&format!("{out}/end"), &[0, 0, 0, end]);
        let strides = self.g.const_i32(&format!("{out}/strides"), &[1, 1, 1, 1]);
        let kind = OpKind::StridedSlice {
            begin_mask: 0b0111,
            end_mask: 0b0111,
        };
        self.emit(kind, vec![x.tensor, begin, end, strides], out, shape, true);
        Ok(())
    }
}

/// The fused-activation slot of an operator that has one.
fn fused_slot(kind: &mut OpKind) -> Option<&mut Fused> {
    match kind {
        OpKind::Conv2d { fused, .. }
        | OpKind::DepthwiseConv2d { fused, .. }
        | OpKind::FullyConnected { fused } => Some(fused),
        _ => None,
    }
}

fn dims4(shape: &[usize]) -> Result<[usize; 4], String> {
    shape
        .try_into()
        .map_err(|_| format!("expected a rank-4 tensor, found shape {shape:?}"))
}

fn attribute<'n>(node: &'n pb::NodeProto, name: &str) -> Option<&'n pb::AttributeProto> {
    node.attribute.iter().find(|a| a.name == name)
}

fn attr_int(node: &pb::NodeProto, name: &str) -> Option<i64> {
    attribute(node, name).map(|a| a.i)
}

fn attr_float(node: &pb::NodeProto, name: &str) -> Option<f32> {
    attribute(node, name).map(|a| a.f)
}

fn attr_ints(node: &pb::NodeProto, name: &str) -> Option<Vec<i64>> {
    attribute(node, name).map(|a| a.ints.clone())
}

/// Element type and dimensions (fixed or free) of a graph input.
fn value_shape(info: &pb::ValueInfoProto) -> (i32, Vec<Option<usize>>) {
    use pb::tensor_shape_proto::dimension::Value as D;
    use pb::type_proto::Value;
    match info.r#type.as_ref().and_then(|t| t.value.as_ref()) {
        Some(Value::TensorType(t)) => {
            let dims = t
                .shape
                .as_ref()
                .map(|s| {
                    s.dim
                        .iter()
                        .map(|d| match d.value {
                            Some(D::DimValue(v)) if v > 0 => Some(v as usize),
                            _ => None,
                        })
                        .collect()
                })
                .unwrap_or_default();
            (t.elem_type, dims)
        }
        _ => (0, Vec::new()),
    }
}
