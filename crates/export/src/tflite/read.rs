//! [`read_tflite`]: a TFLite file back into a [`Graph`], through the flatbuffer verifier and
//! reader tract-tflite generates. Operators outside the set the landmark models use are an
//! error naming them (and the file).

use super::ir::{ElemType, Fused, Graph, Op, OpKind, Padding, Quant, Tensor};
use crate::error::ExportError;
use std::path::Path;
use tract_tflite::tflite as fb;

/// Reads and checks the TFLite file at `path`.
pub fn read_tflite(path: &Path) -> Result<Graph, ExportError> {
    let bytes = std::fs::read(path).map_err(|source| ExportError::Io {
        action: "read",
        path: path.to_path_buf(),
        source,
    })?;
    from_flatbuffer(&bytes).map_err(|message| ExportError::Tflite {
        path: path.to_path_buf(),
        message,
    })
}

/// The graph of TFLite flatbuffer `bytes` (its first subgraph).
pub fn from_flatbuffer(bytes: &[u8]) -> Result<Graph, String> {
    if bytes.len() < 8 || &bytes[4..8] != super::IDENTIFIER.as_bytes() {
        return Err("no TFL3 file identifier (not a TFLite flatbuffer)".into());
    }
    let model = fb::root_as_model(bytes).map_err(|e| format!("corrupt flatbuffer: {e}"))?;
    let buffers = model.buffers().ok_or("no buffers")?;
    let subgraph = model
        .subgraphs()
        .and_then(|s| (!s.is_empty()).then(|| s.get(0)))
        .ok_or("no subgraph")?;
    let mut graph = Graph::default();
    for t in subgraph.tensors().ok_or("no tensors")? {
        graph.tensors.push(tensor(&t, &buffers)?);
    }
    let count = graph.tensors.len();
    let index = |i: i32| -> Result<usize, String> {
        usize::try_from(i)
            .ok()
            .filter(|&i| i < count)
            .ok_or_else(|| format!("tensor index {i} out of range (0..{count})"))
    };
    let indices = |list: Option<flatbuffers::Vector<'_, i32>>| -> Result<Vec<usize>, String> {
        list.map_or(Ok(Vec::new()), |l| l.iter().map(index).collect())
    };
    let codes = model.operator_codes().ok_or("no operator codes")?;
    for (k, op) in subgraph
        .operators()
        .ok_or("no operators")?
        .iter()
        .enumerate()
    {
        let code = codes
            .iter()
            .nth(op.opcode_index() as usize)
            .ok_or_else(|| {
                format!(
                    "operator {k}: opcode index {} out of range",
                    op.opcode_index()
                )
            })?;
        let builtin = if code.deprecated_builtin_code() as i32
            == fb::BuiltinOperator::PLACEHOLDER_FOR_GREATER_OP_CODES.0
        {
            code.builtin_code()
        } else {
            fb::BuiltinOperator(code.deprecated_builtin_code() as i32)
        };
        let kind = kind(builtin, &op).map_err(|e| format!("operator {k}: {e}"))?;
        graph.ops.push(Op {
            kind,
            inputs: indices(op.inputs())?,
            outputs: indices(op.outputs())?,
        });
    }
    graph.inputs = indices(subgraph.inputs())?;
    graph.outputs = indices(subgraph.outputs())?;
    for entry in model.metadata().iter().flatten() {
        let text = buffers
            .iter()
            .nth(entry.buffer() as usize)
            .and_then(|b| b.data())
            .map(|d| String::from_utf8_lossy(d.bytes()).into_owned())
            .unwrap_or_default();
        graph
            .metadata
            .push((entry.name().unwrap_or_default().to_string(), text));
    }
    Ok(graph)
}

fn tensor(
    t: &fb::Tensor<'_>,
    buffers: &flatbuffers::Vector<'_, flatbuffers::ForwardsUOffset<fb::Buffer<'_>>>,
) -> Result<Tensor, String> {
    let name = t.name().unwrap_or_default().to_string();
    let dtype = match t.type_() {
        fb::TensorType::FLOAT32 => ElemType::F32,
        fb::TensorType::FLOAT16 => ElemType::F16,
        fb::TensorType::INT8 => ElemType::I8,
        fb::TensorType::UINT8 => ElemType::U8,
        fb::TensorType::INT16 => ElemType::I16,
        fb::TensorType::INT32 => ElemType::I32,
        fb::TensorType::INT64 => ElemType::I64,
        other => return Err(format!("tensor `{name}` has unsupported type {other:?}")),
    };
    let shape: Vec<usize> = t
        .shape()
        .map(|s| s.iter().map(|d| d.max(0) as usize).collect())
        .unwrap_or_default();
    let batch_free = t
        .shape_signature()
        .is_some_and(|s| !s.is_empty() && s.get(0) < 0);
    let data = match buffers.iter().nth(t.buffer() as usize) {
        Some(b) => b
            .data()
            .map(|d| d.bytes().to_vec())
            .filter(|d| !d.is_empty()),
        None => {
            return Err(format!(
                "tensor `{name}`: buffer {} out of range",
                t.buffer()
            ));
        }
    };
    if let Some(bytes) = &data {
        let expected = shape.iter().product::<usize>() * dtype.size();
        if bytes.len() != expected {
            return Err(format!(
                "tensor `{name}` of shape {shape:?} holds {} bytes, expected {expected}",
                bytes.len()
            ));
        }
    }
    let quant = t.quantization().and_then(|q| {
        let scale: Vec<f32> = q.scale()?.iter().collect();
        let zero_point: Vec<i64> = q
            .zero_point()
            .map(|z| z.iter().collect())
            .unwrap_or_else(|| vec![0; scale.len()]);
        (!scale.is_empty()).then_some(Quant {
            scale,
            zero_point,
            dim: q.quantized_dimension().max(0) as usize,
        })
    });
    Ok(Tensor {
        name,
        shape,
        batch_free,
        dtype,
        data,
        quant,
    })
}

fn fused(f: fb::ActivationFunctionType) -> Result<Fused, String> {
    match f {
        fb::ActivationFunctionType::NONE => Ok(Fused::None),
        fb::ActivationFunctionType::RELU => Ok(Fused::Relu),
        fb::ActivationFunctionType::RELU6 => Ok(Fused::Relu6),
        other => Err(format!("unsupported fused activation {other:?}")),
    }
}

fn padding(p: fb::Padding) -> Padding {
    if p == fb::Padding::SAME {
        Padding::Same
    } else {
        Padding::Valid
    }
}

fn square(what: &str, h: i32, w: i32) -> Result<usize, String> {
    if h != w || h < 1 {
        return Err(format!("{what} {h}x{w} is not square"));
    }
    Ok(h as usize)
}

/// The [`OpKind`] of a builtin operator and its options.
fn kind(code: fb::BuiltinOperator, op: &fb::Operator<'_>) -> Result<OpKind, String> {
    use fb::BuiltinOperator as B;
    let missing = || format!("{code:?} has no options");
    Ok(match code {
        B::CONV_2D => {
            let o = op
                .builtin_options_as_conv_2_doptions()
                .ok_or_else(missing)?;
            if o.dilation_h_factor() > 1 || o.dilation_w_factor() > 1 {
                return Err("dilated CONV_2D is not supported".into());
            }
            OpKind::Conv2d {
                stride: square("CONV_2D stride", o.stride_h(), o.stride_w())?,
                padding: padding(o.padding()),
                fused: fused(o.fused_activation_function())?,
            }
        }
        B::DEPTHWISE_CONV_2D => {
            let o = op
                .builtin_options_as_depthwise_conv_2_doptions()
                .ok_or_else(missing)?;
            if o.dilation_h_factor() > 1 || o.dilation_w_factor() > 1 {
                return Err("dilated DEPTHWISE_CONV_2D is not supported".into());
            }
            OpKind::DepthwiseConv2d {
                stride: square("DEPTHWISE_CONV_2D stride", o.stride_h(), o.stride_w())?,
                padding: padding(o.padding()),
                multiplier: o.depth_multiplier().max(1) as usize,
                fused: fused(o.fused_activation_function())?,
            }
        }
        B::FULLY_CONNECTED => OpKind::FullyConnected {
            fused: fused(
                op.builtin_options_as_fully_connected_options()
                    .map_or(fb::ActivationFunctionType::NONE, |o| {
                        o.fused_activation_function()
                    }),
            )?,
        },
        B::MAX_POOL_2D => {
            let o = op
                .builtin_options_as_pool_2_doptions()
                .ok_or_else(missing)?;
            if o.padding() != fb::Padding::VALID {
                return Err("only VALID MAX_POOL_2D is supported".into());
            }
            OpKind::MaxPool2d {
                size: square("MAX_POOL_2D filter", o.filter_height(), o.filter_width())?,
                stride: square("MAX_POOL_2D stride", o.stride_h(), o.stride_w())?,
            }
        }
        B::PAD => OpKind::Pad,
        B::MEAN | B::REDUCE_MAX => {
            let keep_dims = op
                .builtin_options_as_reducer_options()
                .is_some_and(|o| o.keep_dims());
            if code == B::MEAN {
                OpKind::Mean { keep_dims }
            } else {
                OpKind::ReduceMax { keep_dims }
            }
        }
        B::CONCATENATION => {
            let o = op
                .builtin_options_as_concatenation_options()
                .ok_or_else(missing)?;
            OpKind::Concatenation {
                axis: usize::try_from(o.axis()).map_err(|_| "negative concat axis".to_string())?,
            }
        }
        B::STRIDED_SLICE => {
            let o = op
                .builtin_options_as_strided_slice_options()
                .ok_or_else(missing)?;
            OpKind::StridedSlice {
                begin_mask: o.begin_mask(),
                end_mask: o.end_mask(),
            }
        }
        B::ADD => OpKind::Add,
        B::SUB => OpKind::Sub,
        B::MUL => OpKind::Mul,
        B::DIV => OpKind::Div,
        B::LOGISTIC => OpKind::Logistic,
        B::TANH => OpKind::Tanh,
        B::PRELU => OpKind::Prelu,
        B::RELU => OpKind::Relu,
        B::RELU6 => OpKind::Relu6,
        B::HARD_SWISH => OpKind::HardSwish,
        B::LEAKY_RELU => OpKind::LeakyRelu {
            alpha: op
                .builtin_options_as_leaky_relu_options()
                .map_or(0.2, |o| o.alpha()),
        },
        B::QUANTIZE => OpKind::Quantize,
        B::DEQUANTIZE => OpKind::Dequantize,
        B::CAST => OpKind::Cast,
        other => {
            return Err(format!(
                "operator {} is not among those fdfat-rs runs (the landmark models' set)",
                other.variant_name().unwrap_or("(unknown)")
            ));
        }
    })
}
