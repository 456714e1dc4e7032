//! [`quantize`]: a float32 TFLite graph as a full-integer (int8) or int16x8 graph, with the
//! rules LiteRT's integer kernels enforce or silently rely on:
//!
//! - weights int8, symmetric (zero point 0), per output channel for `CONV_2D` (dimension 0)
//!   and `DEPTHWISE_CONV_2D` (dimension 3), per tensor for `FULLY_CONNECTED`;
//! - biases int32 (int64 for int16x8) with scale exactly `input scale * weight scale`;
//! - activations int8 asymmetric from their calibrated range (widened to hold 0), or int16
//!   symmetric for int16x8;
//! - one scale and zero point through `CONCATENATION`, `REDUCE_MAX`, `MAX_POOL_2D`,
//!   `STRIDED_SLICE` and `PAD` chains (the range of the whole chain);
//! - `LOGISTIC` output `(1/256, -128)` and `TANH` output `(1/128, 0)` in int8 (`1/32768` in
//!   int16); where such a fixed-scale tensor joins a shared-scale chain, a `QUANTIZE`
//!   requantizes it first.
//!
//! Operators that have no integer kernel in LiteRT for the precision (or that read float
//! constants: the uint8 input's normalisation) stay float, with `QUANTIZE` / `DEQUANTIZE`
//! at the boundaries; so, with [`QuantOptions::float_fallback`], do the vector tail (the
//! linear layers and their activations after the global pools: a landmark through an int8
//! `TANH` moves by up to 1/256 of the crop) and the operators around tensors whose channels
//! span very different ranges.

use super::ir::{ElemType, Graph, Op, OpKind, Quant, Tensor};
use crate::error::ExportError;
use crate::quantize::MAX_CHANNEL_SPREAD;
use std::collections::HashMap;

/// Activation precision of a quantized graph.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Precision {
    /// int8 activations, int8 weights, int32 biases.
    Int8,
    /// int16 activations (symmetric), int8 weights, int64 biases.
    Int16x8,
}

/// What calibration saw of one tensor.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct TensorRange {
    /// Lowest value.
    pub lo: f32,
    /// Highest value.
    pub hi: f32,
    /// Largest per-channel maximum |value| over the median one (see
    /// [`crate::quantize::MAX_CHANNEL_SPREAD`]).
    pub spread: Option<f32>,
}

/// What kind of quantized graph to make.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct QuantOptions {
    /// Activation precision.
    pub precision: Precision,
    /// Integer input and output (`model_full_integer_quant`): the input int8 (or uint8
    /// pixels), the output int8; otherwise float in and out.
    pub integer_io: bool,
    /// Keep float what integer arithmetic would spoil (float in and out only): the vector
    /// tail (operators on `[N, C]` after the global pools), and the operators reading or
    /// writing a tensor whose channels span more than
    /// [`MAX_CHANNEL_SPREAD`](crate::quantize::MAX_CHANNEL_SPREAD) times apart (one
    /// per-tensor scale would leave most channels a few levels).
    pub float_fallback: bool,
}

/// The quantized graph of `float`, with the calibrated `(min, max)` of each of its tensors
/// (`ranges[k]` for tensor `k`; constants need none).
pub fn quantize(
    float: &Graph,
    ranges: &[Option<TensorRange>],
    options: QuantOptions,
) -> Result<Graph, ExportError> {
    let mut q = Quantizer {
        src: float,
        options,
        g: Graph {
            metadata: float.metadata.clone(),
            ..Graph::default()
        },
        map: HashMap::new(),
        converted: HashMap::new(),
        ranges: Vec::new(),
        fixed: Vec::new(),
    };
    q.run(ranges)?;
    Ok(q.g)
}

/// The activation types of a precision.
fn act_type(p: Precision) -> ElemType {
    match p {
        Precision::Int8 => ElemType::I8,
        Precision::Int16x8 => ElemType::I16,
    }
}

/// The fixed output quantization LiteRT requires of `kind`, if any.
fn fixed_output(kind: &OpKind, p: Precision) -> Option<Quant> {
    match (kind, p) {
        (OpKind::Logistic, Precision::Int8) => Some(Quant::tensor(1.0 / 256.0, -128)),
        (OpKind::Tanh, Precision::Int8) => Some(Quant::tensor(1.0 / 128.0, 0)),
        (OpKind::Logistic | OpKind::Tanh, Precision::Int16x8) => {
            Some(Quant::tensor(1.0 / 32768.0, 0))
        }
        _ => None,
    }
}

/// Whether LiteRT has an integer kernel for `kind` at precision `p`.
fn has_integer_kernel(kind: &OpKind, p: Precision) -> bool {
    match kind {
        OpKind::Cast | OpKind::Div | OpKind::Quantize | OpKind::Dequantize => false,
        OpKind::Prelu | OpKind::HardSwish => p == Precision::Int8,
        _ => true,
    }
}

struct Quantizer<'a> {
    src: &'a Graph,
    options: QuantOptions,
    g: Graph,
    /// Source tensor -> its tensor in the new graph (its float or quantized form).
    map: HashMap<usize, usize>,
    /// (new tensor, to quantized?) -> its converted copy.
    converted: HashMap<(usize, bool), usize>,
    /// Calibrated range of each new tensor.
    ranges: Vec<Option<(f32, f32)>>,
    /// Fixed quantization of each new tensor (LOGISTIC / TANH outputs).
    fixed: Vec<Option<Quant>>,
}

impl Quantizer<'_> {
    fn push(&mut self, tensor: Tensor, range: Option<(f32, f32)>, fixed: Option<Quant>) -> usize {
        self.ranges.push(range);
        self.fixed.push(fixed);
        self.g.push(tensor)
    }

    /// Whether activation `t` holds quantized values (uint8 only as the full-integer file's
    /// quantized pixels: raw pixels into a `CAST` are not).
    fn is_quantized(&self, t: usize) -> bool {
        let t = &self.g.tensors[t];
        t.data.is_none()
            && match t.dtype {
                ElemType::I8 | ElemType::I16 => true,
                ElemType::U8 => t.quant.is_some(),
                _ => false,
            }
    }

    fn run(&mut self, calibrated: &[Option<TensorRange>]) -> Result<(), ExportError> {
        let src = self.src;
        let p = self.options.precision;
        let ranges: Vec<Option<(f32, f32)>> =
            calibrated.iter().map(|r| r.map(|r| (r.lo, r.hi))).collect();
        let float_ops = if self.options.float_fallback {
            let spread = |t: &usize| {
                calibrated[*t].is_some_and(|r| r.spread.is_some_and(|s| s > MAX_CHANNEL_SPREAD))
            };
            let tail = vector_tail(src);
            let silu = silu_ops(src);
            src.ops
                .iter()
                .zip(tail)
                .zip(silu)
                .map(|((op, tail), silu)| {
                    tail || silu || op.inputs.iter().chain(&op.outputs).any(spread)
                })
                .collect()
        } else {
            vec![false; src.ops.len()]
        };
        let preprocessing = preprocessing(src);
        // the input
        let [input] = src.inputs[..] else {
            return Err(ExportError::TfliteUnsupported(
                "one graph input expected".into(),
            ));
        };
        let mut skip = vec![false; src.ops.len()];
        let t_in = src.tensors[input].clone();
        let new_input = if self.options.integer_io && t_in.dtype == ElemType::U8 {
            // uint8 pixels as quantized values: p / 127.5 - 1 = (p - 128) * (2 / 255) + 1 / 255,
            // within half a step of the float normalisation; requantized to the activation type
            let Some(&(_, normalised)) = preprocessing.last() else {
                return Err(ExportError::TfliteUnsupported(
                    "a uint8 input without its normalisation".into(),
                ));
            };
            for &(k, _) in &preprocessing {
                skip[k] = true;
            }
            let mut pixels = t_in.clone();
            pixels.quant = Some(Quant::tensor(2.0 / 255.0, 128));
            let pixels = self.push(pixels, None, None);
            let mut norm = src.tensors[normalised].clone();
            norm.dtype = act_type(p);
            norm.quant = Some(match p {
                Precision::Int8 => Quant::tensor(2.0 / 255.0, 0),
                Precision::Int16x8 => Quant::tensor(1.0 / 32767.0, 0),
            });
            let norm_t = self.push(norm, Some((-1.0, 1.0)), None);
            self.g.op(OpKind::Quantize, vec![pixels], vec![norm_t]);
            self.map.insert(normalised, norm_t);
            pixels
        } else {
            let mut t = t_in.clone();
            if self.options.integer_io && t.dtype == ElemType::F32 {
                t.dtype = act_type(p);
            }
            self.push(t, ranges[input], None)
        };
        self.map.insert(input, new_input);
        self.g.inputs = vec![new_input];

        for (k, op) in src.ops.iter().enumerate() {
            if skip[k] {
                continue;
            }
            let in_preprocessing = preprocessing.iter().any(|&(j, _)| j == k);
            let quantized = !float_ops[k] && !in_preprocessing && has_integer_kernel(&op.kind, p);
            let mut inputs = Vec::with_capacity(op.inputs.len());
            for &t in &op.inputs {
                let tensor = &src.tensors[t];
                let new = if tensor.data.is_some() {
                    // constants are placed after the inputs are known (weights need scales)
                    usize::MAX
                } else {
                    let mapped = *self.map.get(&t).ok_or_else(|| {
                        ExportError::TfliteUnsupported(format!(
                            "tensor `{}` is read before it is computed",
                            tensor.name
                        ))
                    })?;
                    self.convert(mapped, quantized)
                };
                inputs.push(new);
            }
            // a fixed-scale tensor entering a shared-scale chain is requantized first
            if quantized && op.kind.keeps_scale() {
                for slot in inputs.iter_mut().filter(|t| **t != usize::MAX) {
                    if self.fixed[*slot].is_some() {
                        let mut copy = self.g.tensors[*slot].clone();
                        copy.name = format!("{}_requantized", copy.name);
                        copy.quant = None;
                        let range = self.ranges[*slot];
                        let copy = self.push(copy, range, None);
                        self.g.op(OpKind::Quantize, vec![*slot], vec![copy]);
                        *slot = copy;
                    }
                }
            }
            let mut outputs = Vec::new();
            for &t in &op.outputs {
                let mut tensor = src.tensors[t].clone();
                tensor.dtype = if quantized {
                    act_type(p)
                } else {
                    ElemType::F32
                };
                let fixed = quantized.then(|| fixed_output(&op.kind, p)).flatten();
                let out = self.push(tensor, ranges[t], fixed);
                self.map.insert(t, out);
                outputs.push(out);
            }
            self.g.op(op.kind, inputs, outputs);
            let index = self.g.ops.len() - 1;
            self.place_constants(op, index);
        }
        // the output
        let [output] = src.outputs[..] else {
            return Err(ExportError::TfliteUnsupported(
                "one graph output expected".into(),
            ));
        };
        let mapped = self.map[&output];
        let out = self.convert(mapped, self.options.integer_io);
        if out != mapped {
            let name = std::mem::take(&mut self.g.tensors[mapped].name);
            self.g.tensors[mapped].name = format!("{name}_before_io");
            self.g.tensors[out].name = name;
        }
        self.g.outputs = vec![out];
        self.assign_activation_params();
        self.quantize_constants()
    }

    /// Tensor `t` as quantized (`true`) or float, through a cached QUANTIZE / DEQUANTIZE.
    fn convert(&mut self, t: usize, quantized: bool) -> usize {
        if self.is_quantized(t) == quantized {
            return t;
        }
        if let Some(&c) = self.converted.get(&(t, quantized)) {
            return c;
        }
        let mut copy = self.g.tensors[t].clone();
        copy.quant = None;
        let (dtype, suffix, kind) = if quantized {
            (
                act_type(self.options.precision),
                "quantized",
                OpKind::Quantize,
            )
        } else {
            (ElemType::F32, "dequantized", OpKind::Dequantize)
        };
        copy.dtype = dtype;
        copy.name = format!("{}_{suffix}", copy.name);
        let range = self.ranges[t];
        let c = self.push(copy, range, None);
        self.g.op(kind, vec![t], vec![c]);
        self.converted.insert((t, quantized), c);
        c
    }

    /// Puts the constant inputs of source operator `op` into new operator `index` (as float
    /// for now; [`Self::quantize_constants`] quantizes those of integer operators).
    fn place_constants(&mut self, op: &Op, index: usize) {
        for (slot, &t) in op.inputs.iter().enumerate() {
            if self.g.ops[index].inputs[slot] == usize::MAX {
                let tensor = self.src.tensors[t].clone();
                let c = self.push(tensor, None, None);
                self.g.ops[index].inputs[slot] = c;
            }
        }
    }

    /// Quantization parameters of every quantized activation: shared through the chains of
    /// scale-keeping operators, fixed for LOGISTIC / TANH, else from the calibrated range.
    fn assign_activation_params(&mut self) {
        let n = self.g.tensors.len();
        let mut parent: Vec<usize> = (0..n).collect();
        fn find(parent: &mut [usize], mut x: usize) -> usize {
            while parent[x] != x {
                parent[x] = parent[parent[x]];
                x = parent[x];
            }
            x
        }
        for op in &self.g.ops {
            if !op.kind.keeps_scale() {
                continue;
            }
            let out = op.outputs[0];
            if !self.is_quantized(out) {
                continue;
            }
            for &i in op
                .inputs
                .iter()
                .filter(|&&i| self.g.tensors[i].data.is_none())
            {
                let (a, b) = (find(&mut parent, i), find(&mut parent, out));
                parent[a] = b;
            }
        }
        let mut group_range: HashMap<usize, (f32, f32)> = HashMap::new();
        let mut group_fixed: HashMap<usize, Quant> = HashMap::new();
        for t in 0..n {
            if !self.is_quantized(t) {
                continue;
            }
            let root = find(&mut parent, t);
            // parameters set already (the uint8 input path) or required (LOGISTIC / TANH)
            if let Some(q) = self.g.tensors[t].quant.as_ref().or(self.fixed[t].as_ref()) {
                group_fixed.insert(root, q.clone());
            }
            if let Some((lo, hi)) = self.ranges[t] {
                let r = group_range.entry(root).or_insert((lo, hi));
                *r = (r.0.min(lo), r.1.max(hi));
            }
        }
        let p = self.options.precision;
        for t in 0..n {
            if !self.is_quantized(t) || self.g.tensors[t].quant.is_some() {
                continue;
            }
            let root = find(&mut parent, t);
            let q = group_fixed.get(&root).cloned().unwrap_or_else(|| {
                activation_quant(group_range.get(&root).copied().unwrap_or((-1.0, 1.0)), p)
            });
            self.g.tensors[t].quant = Some(q);
        }
    }

    /// Weights, biases and slopes of integer operators as int8 / int32 (int64) constants.
    fn quantize_constants(&mut self) -> Result<(), ExportError> {
        let bias_type = match self.options.precision {
            Precision::Int8 => ElemType::I32,
            Precision::Int16x8 => ElemType::I64,
        };
        for k in 0..self.g.ops.len() {
            let op = self.g.ops[k].clone();
            let Some(&x) = op.inputs.first() else {
                continue;
            };
            if !self.is_quantized(x) {
                continue;
            }
            let input_scale = self.g.tensors[x].quant.as_ref().map_or(1.0, |q| q.scale[0]);
            let weight_dim = match op.kind {
                OpKind::Conv2d { .. } => Some(Some(0)),
                OpKind::DepthwiseConv2d { .. } => Some(Some(3)),
                OpKind::FullyConnected { .. } => Some(None),
                _ => None,
            };
            if let Some(dim) = weight_dim {
                let w = op.inputs[1];
                let scales = quantize_weights(&mut self.g.tensors[w], dim)?;
                if let Some(&b) = op.inputs.get(2) {
                    let bias_scales: Vec<f32> = scales.iter().map(|s| input_scale * s).collect();
                    quantize_bias(&mut self.g.tensors[b], &bias_scales, bias_type)?;
                }
            } else if matches!(op.kind, OpKind::Prelu) {
                quantize_weights(&mut self.g.tensors[op.inputs[1]], None)?;
            }
        }
        Ok(())
    }
}

/// Asymmetric int8 parameters covering `(lo, hi)` and 0, or symmetric int16 ones.
fn activation_quant((lo, hi): (f32, f32), p: Precision) -> Quant {
    let (lo, hi) = (lo.min(0.0), hi.max(0.0));
    match p {
        Precision::Int8 => {
            let scale = (hi - lo) / 255.0;
            if !(scale > 0.0 && scale.is_finite()) {
                return Quant::tensor(1.0, 0);
            }
            let zero_point = (-128.0 - lo / scale).round().clamp(-128.0, 127.0);
            Quant::tensor(scale, zero_point as i64)
        }
        Precision::Int16x8 => {
            let scale = lo.abs().max(hi) / 32767.0;
            if !(scale > 0.0 && scale.is_finite()) {
                return Quant::tensor(1.0, 0);
            }
            Quant::tensor(scale, 0)
        }
    }
}

/// Symmetric int8 weights, per channel along `dim` or per tensor; returns the scales.
fn quantize_weights(t: &mut Tensor, dim: Option<usize>) -> Result<Vec<f32>, ExportError> {
    let values = t.f32_values().ok_or_else(|| {
        ExportError::TfliteUnsupported(format!("weight `{}` is not a float32 constant", t.name))
    })?;
    let (channels, inner) = match dim {
        Some(d) => (t.shape[d], t.shape.iter().skip(d + 1).product::<usize>()),
        None => (1, values.len()),
    };
    let channel = |i: usize| (i / inner.max(1)) % channels;
    let mut max = vec![0.0f32; channels];
    for (i, v) in values.iter().enumerate() {
        let c = channel(i);
        max[c] = max[c].max(v.abs());
    }
    let scales: Vec<f32> = max
        .iter()
        .map(|&m| if m > 0.0 { m / 127.0 } else { 1.0 })
        .collect();
    t.data = Some(
        values
            .iter()
            .enumerate()
            .map(|(i, v)| (v / scales[channel(i)]).round().clamp(-127.0, 127.0) as i8 as u8)
            .collect(),
    );
    t.dtype = ElemType::I8;
    t.quant = Some(Quant {
        zero_point: vec![0; channels],
        scale: scales.clone(),
        dim: dim.unwrap_or(0),
    });
    Ok(scales)
}

/// A bias with scale `scales[c]` per output channel (exactly input scale * weight scale).
fn quantize_bias(t: &mut Tensor, scales: &[f32], dtype: ElemType) -> Result<(), ExportError> {
    let values = t.f32_values().ok_or_else(|| {
        ExportError::TfliteUnsupported(format!("bias `{}` is not a float32 constant", t.name))
    })?;
    let scales = if scales.len() == 1 {
        vec![scales[0]; values.len()]
    } else {
        scales.to_vec()
    };
    let (lo, hi) = dtype.int_range().unwrap_or((i64::MIN, i64::MAX));
    let ints: Vec<i64> = values
        .iter()
        .zip(&scales)
        .map(|(&v, &s)| ((f64::from(v) / f64::from(s)).round() as i64).clamp(lo, hi))
        .collect();
    t.data = Some(match dtype {
        ElemType::I64 => ints.iter().flat_map(|v| v.to_le_bytes()).collect(),
        _ => ints
            .iter()
            .flat_map(|&v| (v as i32).to_le_bytes())
            .collect(),
    });
    t.dtype = dtype;
    t.quant = Some(Quant {
        zero_point: vec![0; scales.len()],
        scale: scales,
        dim: 0,
    });
    Ok(())
}

/// The uint8 input's normalisation (`CAST`, then operators with constant operands), as
/// (operator, its output) in order.
fn preprocessing(graph: &Graph) -> Vec<(usize, usize)> {
    let mut chain = Vec::new();
    let Some(&input) = graph.inputs.first() else {
        return chain;
    };
    if graph.tensors[input].dtype != ElemType::U8 {
        return chain;
    }
    let mut t = input;
    loop {
        let consumers = graph.consumers(t);
        let [k] = consumers[..] else { break };
        let op = &graph.ops[k];
        let constant_operand = op.inputs[1..]
            .iter()
            .all(|&i| graph.tensors[i].data.is_some());
        let elementwise = matches!(
            op.kind,
            OpKind::Cast | OpKind::Add | OpKind::Sub | OpKind::Mul | OpKind::Div
        );
        if !(elementwise && constant_operand) {
            break;
        }
        t = op.outputs[0];
        chain.push((k, t));
    }
    chain
}

/// Which operators compute a SiLU, `x * LOGISTIC(x)` (the `LOGISTIC` and the `MUL`).
fn silu_ops(graph: &Graph) -> Vec<bool> {
    let mut silu = vec![false; graph.ops.len()];
    for (k, op) in graph.ops.iter().enumerate() {
        if op.kind != OpKind::Mul || op.inputs.len() != 2 {
            continue;
        }
        for (a, b) in [(0, 1), (1, 0)] {
            let Some(j) = graph.producer(op.inputs[b]) else {
                continue;
            };
            if graph.ops[j].kind == OpKind::Logistic && graph.ops[j].inputs[0] == op.inputs[a] {
                silu[k] = true;
                silu[j] = true;
            }
        }
    }
    silu
}

/// Which operators belong to the vector tail: those whose inputs and outputs are all
/// rank-2 activations (after the global pools).
fn vector_tail(graph: &Graph) -> Vec<bool> {
    graph
        .ops
        .iter()
        .map(|op| {
            op.inputs
                .iter()
                .chain(&op.outputs)
                .map(|&t| &graph.tensors[t])
                .filter(|t| t.data.is_none())
                .all(|t| t.shape.len() == 2)
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn int8_parameters_hold_the_range_and_zero() {
        let q = activation_quant((-1.0, 3.0), Precision::Int8);
        assert!((q.scale[0] - 4.0 / 255.0).abs() < 1e-7);
        let zp = q.zero_point[0];
        // -1 and 3 land on the ends of the int8 range, 0 exactly on the zero point
        assert_eq!((-1.0f32 / q.scale[0]).round() as i64 + zp, -128);
        assert_eq!((3.0f32 / q.scale[0]).round() as i64 + zp, 127);
        let q = activation_quant((0.5, 6.0), Precision::Int8);
        assert_eq!(q.zero_point[0], -128, "a positive range still starts at 0");
        let q = activation_quant((-2.0, 1.0), Precision::Int16x8);
        assert_eq!(q.zero_point[0], 0);
        assert!((q.scale[0] - 2.0 / 32767.0).abs() < 1e-9);
    }

    #[test]
    fn weights_are_symmetric_per_channel_and_biases_follow_their_scale() {
        let mut g = Graph::default();
        // two output channels of 1x1x2
        let w = g.const_f32("w", vec![2, 1, 1, 2], &[0.5, -1.0, 2.0, 0.25]);
        let b = g.const_f32("b", vec![2], &[0.1, -0.3]);
        let scales = quantize_weights(&mut g.tensors[w], Some(0)).unwrap();
        assert_eq!(scales, vec![1.0 / 127.0, 2.0 / 127.0]);
        let q = g.tensors[w].int_values().unwrap();
        assert_eq!(q, vec![64, -127, 127, 16]);
        assert_eq!(g.tensors[w].quant.as_ref().unwrap().zero_point, vec![0, 0]);
        let input_scale = 0.02;
        let bias_scales: Vec<f32> = scales.iter().map(|s| s * input_scale).collect();
        quantize_bias(&mut g.tensors[b], &bias_scales, ElemType::I32).unwrap();
        let t = &g.tensors[b];
        assert_eq!(t.quant.as_ref().unwrap().scale, bias_scales);
        let real = t.real_values().unwrap();
        assert!((real[0] - 0.1).abs() < bias_scales[0] && (real[1] + 0.3).abs() < bias_scales[1]);
    }
}
