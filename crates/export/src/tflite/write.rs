//! [`to_flatbuffer`]: a [`Graph`] as TFLite flatbuffer bytes (schema version 3), with the
//! builders tract-tflite generates from TFLite's schema: one subgraph, a `serving_default`
//! signature, a free batch axis through `shape_signature`, metadata entries, and operator
//! versions as TensorFlow's converter writes them for the tensor types.

use super::ir::{ElemType, Fused, Graph, Op, OpKind, Padding, Quant};
use flatbuffers::{FlatBufferBuilder, UnionWIPOffset, WIPOffset};
use tract_tflite::tflite as fb;

/// The file identifier of TFLite flatbuffers.
pub const IDENTIFIER: &str = "TFL3";
/// The signature key LiteRT's signature runner looks up by default.
pub const SIGNATURE: &str = "serving_default";

/// The TFLite tensor type of an element type.
pub fn tensor_type(dtype: ElemType) -> fb::TensorType {
    match dtype {
        ElemType::F32 => fb::TensorType::FLOAT32,
        ElemType::F16 => fb::TensorType::FLOAT16,
        ElemType::I8 => fb::TensorType::INT8,
        ElemType::U8 => fb::TensorType::UINT8,
        ElemType::I16 => fb::TensorType::INT16,
        ElemType::I32 => fb::TensorType::INT32,
        ElemType::I64 => fb::TensorType::INT64,
    }
}

/// The builtin operator code of `kind`.
pub fn builtin(kind: &OpKind) -> fb::BuiltinOperator {
    use fb::BuiltinOperator as B;
    match kind {
        OpKind::Conv2d { .. } => B::CONV_2D,
        OpKind::DepthwiseConv2d { .. } => B::DEPTHWISE_CONV_2D,
        OpKind::FullyConnected { .. } => B::FULLY_CONNECTED,
        OpKind::MaxPool2d { .. } => B::MAX_POOL_2D,
        OpKind::Pad => B::PAD,
        OpKind::Mean { .. } => B::MEAN,
        OpKind::ReduceMax { .. } => B::REDUCE_MAX,
        OpKind::Concatenation { .. } => B::CONCATENATION,
        OpKind::StridedSlice { .. } => B::STRIDED_SLICE,
        OpKind::Add => B::ADD,
        OpKind::Sub => B::SUB,
        OpKind::Mul => B::MUL,
        OpKind::Div => B::DIV,
        OpKind::Logistic => B::LOGISTIC,
        OpKind::Tanh => B::TANH,
        OpKind::Prelu => B::PRELU,
        OpKind::Relu => B::RELU,
        OpKind::Relu6 => B::RELU6,
        OpKind::HardSwish => B::HARD_SWISH,
        OpKind::LeakyRelu { .. } => B::LEAKY_RELU,
        OpKind::Quantize => B::QUANTIZE,
        OpKind::Dequantize => B::DEQUANTIZE,
        OpKind::Cast => B::CAST,
    }
}

/// The version TensorFlow's converter gives `op` for its tensor types (TFLite's
/// `op_version.cc`): 1 for float, higher for int8 and int16 kernels and float16 weights.
pub fn op_version(graph: &Graph, op: &Op) -> i32 {
    let dtype = |k: usize| op.inputs.get(k).map(|&t| graph.tensors[t].dtype);
    let input = dtype(0).unwrap_or(ElemType::F32);
    let out = op.outputs.first().map(|&t| graph.tensors[t].dtype);
    match (&op.kind, input) {
        (OpKind::Dequantize, ElemType::F16) => 3,
        (OpKind::Dequantize, ElemType::I16) => 4,
        (OpKind::Dequantize, ElemType::I8) => 2,
        (OpKind::Quantize, _) if out == Some(ElemType::I16) => 3,
        (OpKind::Quantize, _) => 2,
        (OpKind::Cast, _) => 1,
        (OpKind::Conv2d { .. }, ElemType::I8) => 3,
        (OpKind::Conv2d { .. }, ElemType::I16) => 4,
        (OpKind::DepthwiseConv2d { .. }, ElemType::I8) => 3,
        (OpKind::DepthwiseConv2d { .. }, ElemType::I16) => 5,
        (OpKind::FullyConnected { .. }, ElemType::I8) => 4,
        (OpKind::FullyConnected { .. }, ElemType::I16) => 7,
        (OpKind::Mul, ElemType::I16) => 4,
        (OpKind::Pad, ElemType::I16) => 4,
        (OpKind::StridedSlice { .. }, ElemType::I16) => 4,
        (OpKind::Prelu | OpKind::HardSwish, _) => 1,
        (_, ElemType::I8) => 2,
        (_, ElemType::I16) => 3,
        _ => 1,
    }
}

fn activation(fused: Fused) -> fb::ActivationFunctionType {
    match fused {
        Fused::None => fb::ActivationFunctionType::NONE,
        Fused::Relu => fb::ActivationFunctionType::RELU,
        Fused::Relu6 => fb::ActivationFunctionType::RELU6,
    }
}

fn padding(p: Padding) -> fb::Padding {
    match p {
        Padding::Same => fb::Padding::SAME,
        Padding::Valid => fb::Padding::VALID,
    }
}

/// The flatbuffer bytes of `graph`.
pub fn to_flatbuffer(graph: &Graph) -> Vec<u8> {
    let mut b = FlatBufferBuilder::with_capacity(1 << 20);
    let empty = fb::Buffer::create(&mut b, &fb::BufferArgs { data: None });
    let mut buffers = vec![empty];
    let mut tensors = Vec::with_capacity(graph.tensors.len());
    for t in &graph.tensors {
        let buffer = match &t.data {
            Some(bytes) => {
                let data = b.create_vector(bytes);
                buffers.push(fb::Buffer::create(
                    &mut b,
                    &fb::BufferArgs { data: Some(data) },
                ));
                (buffers.len() - 1) as u32
            }
            None => 0,
        };
        let shape: Vec<i32> = t.shape.iter().map(|&d| d as i32).collect();
        let signature = t.batch_free.then(|| {
            let mut s = shape.clone();
            s[0] = -1;
            b.create_vector(&s)
        });
        let shape = b.create_vector(&shape);
        let name = b.create_string(&t.name);
        let quantization = t.quant.as_ref().map(|q| quantization(&mut b, q));
        tensors.push(fb::Tensor::create(
            &mut b,
            &fb::TensorArgs {
                shape: Some(shape),
                type_: tensor_type(t.dtype),
                buffer,
                name: Some(name),
                quantization,
                shape_signature: signature,
                ..Default::default()
            },
        ));
    }
    let mut codes: Vec<(fb::BuiltinOperator, i32)> = Vec::new();
    let mut operators = Vec::with_capacity(graph.ops.len());
    for op in &graph.ops {
        let code = (builtin(&op.kind), op_version(graph, op));
        let index = codes.iter().position(|c| *c == code).unwrap_or_else(|| {
            codes.push(code);
            codes.len() - 1
        });
        let (options_type, options) = options(&mut b, graph, op);
        let inputs: Vec<i32> = op.inputs.iter().map(|&t| t as i32).collect();
        let outputs: Vec<i32> = op.outputs.iter().map(|&t| t as i32).collect();
        let inputs = b.create_vector(&inputs);
        let outputs = b.create_vector(&outputs);
        operators.push(fb::Operator::create(
            &mut b,
            &fb::OperatorArgs {
                opcode_index: index as u32,
                inputs: Some(inputs),
                outputs: Some(outputs),
                builtin_options_type: options_type,
                builtin_options: options,
                ..Default::default()
            },
        ));
    }
    let io = |list: &[usize]| -> Vec<i32> { list.iter().map(|&t| t as i32).collect() };
    let (inputs, outputs) = (io(&graph.inputs), io(&graph.outputs));
    let tensors = b.create_vector(&tensors);
    let operators = b.create_vector(&operators);
    let sg_inputs = b.create_vector(&inputs);
    let sg_outputs = b.create_vector(&outputs);
    let main = b.create_string("main");
    let subgraph = fb::SubGraph::create(
        &mut b,
        &fb::SubGraphArgs {
            tensors: Some(tensors),
            inputs: Some(sg_inputs),
            outputs: Some(sg_outputs),
            operators: Some(operators),
            name: Some(main),
        },
    );
    let signature = signature(&mut b, graph);
    let mut metadata = Vec::new();
    for (name, text) in &graph.metadata {
        let data = b.create_vector(text.as_bytes());
        buffers.push(fb::Buffer::create(
            &mut b,
            &fb::BufferArgs { data: Some(data) },
        ));
        let name = b.create_string(name);
        metadata.push(fb::Metadata::create(
            &mut b,
            &fb::MetadataArgs {
                name: Some(name),
                buffer: (buffers.len() - 1) as u32,
            },
        ));
    }
    let codes: Vec<_> = codes
        .iter()
        .map(|&(code, version)| {
            fb::OperatorCode::create(
                &mut b,
                &fb::OperatorCodeArgs {
                    deprecated_builtin_code: code.0.min(127) as i8,
                    custom_code: None,
                    version,
                    builtin_code: code,
                },
            )
        })
        .collect();
    let codes = b.create_vector(&codes);
    let subgraphs = b.create_vector(&[subgraph]);
    let buffers = b.create_vector(&buffers);
    let metadata = b.create_vector(&metadata);
    let signatures = b.create_vector(&[signature]);
    let description = b.create_string(crate::PRODUCER);
    let model = fb::Model::create(
        &mut b,
        &fb::ModelArgs {
            version: 3,
            operator_codes: Some(codes),
            subgraphs: Some(subgraphs),
            description: Some(description),
            buffers: Some(buffers),
            metadata_buffer: None,
            metadata: Some(metadata),
            signature_defs: Some(signatures),
        },
    );
    b.finish(model, Some(IDENTIFIER));
    b.finished_data().to_vec()
}

fn quantization<'a>(
    b: &mut FlatBufferBuilder<'a>,
    q: &Quant,
) -> WIPOffset<fb::QuantizationParameters<'a>> {
    let scale = b.create_vector(&q.scale);
    let zero_point = b.create_vector(&q.zero_point);
    fb::QuantizationParameters::create(
        b,
        &fb::QuantizationParametersArgs {
            scale: Some(scale),
            zero_point: Some(zero_point),
            quantized_dimension: q.dim as i32,
            ..Default::default()
        },
    )
}

/// The `serving_default` signature: the graph's inputs and outputs by tensor name.
fn signature<'a>(b: &mut FlatBufferBuilder<'a>, graph: &Graph) -> WIPOffset<fb::SignatureDef<'a>> {
    let maps = |b: &mut FlatBufferBuilder<'a>, list: &[usize]| {
        let maps: Vec<_> = list
            .iter()
            .map(|&t| {
                let name = b.create_string(&graph.tensors[t].name);
                fb::TensorMap::create(
                    b,
                    &fb::TensorMapArgs {
                        name: Some(name),
                        tensor_index: t as u32,
                    },
                )
            })
            .collect();
        b.create_vector(&maps)
    };
    let inputs = maps(b, &graph.inputs);
    let outputs = maps(b, &graph.outputs);
    let key = b.create_string(SIGNATURE);
    fb::SignatureDef::create(
        b,
        &fb::SignatureDefArgs {
            inputs: Some(inputs),
            outputs: Some(outputs),
            signature_key: Some(key),
            subgraph_index: 0,
        },
    )
}

/// The builtin options table of `op`.
fn options(
    b: &mut FlatBufferBuilder<'_>,
    graph: &Graph,
    op: &Op,
) -> (fb::BuiltinOptions, Option<WIPOffset<UnionWIPOffset>>) {
    use fb::BuiltinOptions as O;
    match op.kind {
        OpKind::Conv2d {
            stride,
            padding: p,
            fused,
        } => (
            O::Conv2DOptions,
            Some(
                fb::Conv2DOptions::create(
                    b,
                    &fb::Conv2DOptionsArgs {
                        padding: padding(p),
                        stride_w: stride as i32,
                        stride_h: stride as i32,
                        fused_activation_function: activation(fused),
                        dilation_w_factor: 1,
                        dilation_h_factor: 1,
                    },
                )
                .as_union_value(),
            ),
        ),
        OpKind::DepthwiseConv2d {
            stride,
            padding: p,
            multiplier,
            fused,
        } => (
            O::DepthwiseConv2DOptions,
            Some(
                fb::DepthwiseConv2DOptions::create(
                    b,
                    &fb::DepthwiseConv2DOptionsArgs {
                        padding: padding(p),
                        stride_w: stride as i32,
                        stride_h: stride as i32,
                        depth_multiplier: multiplier as i32,
                        fused_activation_function: activation(fused),
                        dilation_w_factor: 1,
                        dilation_h_factor: 1,
                    },
                )
                .as_union_value(),
            ),
        ),
        OpKind::FullyConnected { fused } => (
            O::FullyConnectedOptions,
            Some(
                fb::FullyConnectedOptions::create(
                    b,
                    &fb::FullyConnectedOptionsArgs {
                        fused_activation_function: activation(fused),
                        ..Default::default()
                    },
                )
                .as_union_value(),
            ),
        ),
        OpKind::MaxPool2d { size, stride } => (
            O::Pool2DOptions,
            Some(
                fb::Pool2DOptions::create(
                    b,
                    &fb::Pool2DOptionsArgs {
                        padding: fb::Padding::VALID,
                        stride_w: stride as i32,
                        stride_h: stride as i32,
                        filter_width: size as i32,
                        filter_height: size as i32,
                        fused_activation_function: fb::ActivationFunctionType::NONE,
                    },
                )
                .as_union_value(),
            ),
        ),
        OpKind::Mean { keep_dims } | OpKind::ReduceMax { keep_dims } => (
            O::ReducerOptions,
            Some(
                fb::ReducerOptions::create(b, &fb::ReducerOptionsArgs { keep_dims })
                    .as_union_value(),
            ),
        ),
        OpKind::Concatenation { axis } => (
            O::ConcatenationOptions,
            Some(
                fb::ConcatenationOptions::create(
                    b,
                    &fb::ConcatenationOptionsArgs {
                        axis: axis as i32,
                        fused_activation_function: fb::ActivationFunctionType::NONE,
                    },
                )
                .as_union_value(),
            ),
        ),
        OpKind::StridedSlice {
            begin_mask,
            end_mask,
        } => (
            O::StridedSliceOptions,
            Some(
                fb::StridedSliceOptions::create(
                    b,
                    &fb::StridedSliceOptionsArgs {
                        begin_mask,
                        end_mask,
                        ..Default::default()
                    },
                )
                .as_union_value(),
            ),
        ),
        OpKind::Add => (
            O::AddOptions,
            Some(fb::AddOptions::create(b, &fb::AddOptionsArgs::default()).as_union_value()),
        ),
        OpKind::Sub => (
            O::SubOptions,
            Some(fb::SubOptions::create(b, &fb::SubOptionsArgs::default()).as_union_value()),
        ),
        OpKind::Mul => (
            O::MulOptions,
            Some(fb::MulOptions::create(b, &fb::MulOptionsArgs::default()).as_union_value()),
        ),
        OpKind::Div => (
            O::DivOptions,
            Some(fb::DivOptions::create(b, &fb::DivOptionsArgs::default()).as_union_value()),
        ),
        OpKind::LeakyRelu { alpha } => (
            O::LeakyReluOptions,
            Some(
                fb::LeakyReluOptions::create(b, &fb::LeakyReluOptionsArgs { alpha })
                    .as_union_value(),
            ),
        ),
        OpKind::Cast => {
            let dtype = |t: Option<&usize>| {
                t.map_or(fb::TensorType::FLOAT32, |&t| {
                    tensor_type(graph.tensors[t].dtype)
                })
            };
            (
                O::CastOptions,
                Some(
                    fb::CastOptions::create(
                        b,
                        &fb::CastOptionsArgs {
                            in_data_type: dtype(op.inputs.first()),
                            out_data_type: dtype(op.outputs.first()),
                        },
                    )
                    .as_union_value(),
                ),
            )
        }
        OpKind::Pad
        | OpKind::Logistic
        | OpKind::Tanh
        | OpKind::Prelu
        | OpKind::Relu
        | OpKind::Relu6
        | OpKind::HardSwish
        | OpKind::Quantize
        | OpKind::Dequantize => (O::NONE, None),
    }
}
