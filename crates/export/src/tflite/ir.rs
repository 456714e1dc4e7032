//! The TFLite graph as fdfat-rs builds, writes, reads and runs it: tensors (shape, element
//! type, constant bytes, quantization) and the builtin operators the landmark models need,
//! in TFLite's NHWC layout.

/// Element type of a tensor.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ElemType {
    /// 32-bit float.
    F32,
    /// 16-bit float (constant weights of the float16 file).
    F16,
    /// Signed 8-bit integer (quantized).
    I8,
    /// Unsigned 8-bit integer (raw pixels, or quantized).
    U8,
    /// Signed 16-bit integer (int16x8 activations).
    I16,
    /// Signed 32-bit integer (biases, shapes, axes).
    I32,
    /// Signed 64-bit integer (int16x8 biases).
    I64,
}

impl ElemType {
    /// Bytes per element.
    pub fn size(self) -> usize {
        match self {
            Self::I8 | Self::U8 => 1,
            Self::F16 | Self::I16 => 2,
            Self::F32 | Self::I32 => 4,
            Self::I64 => 8,
        }
    }

    /// The (lowest, highest) value of an integer type, as `i64`.
    pub fn int_range(self) -> Option<(i64, i64)> {
        match self {
            Self::I8 => Some((-128, 127)),
            Self::U8 => Some((0, 255)),
            Self::I16 => Some((-32768, 32767)),
            Self::I32 => Some((i32::MIN.into(), i32::MAX.into())),
            Self::I64 => Some((i64::MIN, i64::MAX)),
            Self::F32 | Self::F16 => None,
        }
    }
}

/// Affine quantization of a tensor: `real = scale * (q - zero_point)`, per tensor (one
/// scale) or per channel along `dim`.
#[derive(Debug, Clone, PartialEq)]
pub struct Quant {
    /// One scale per tensor, or one per channel.
    pub scale: Vec<f32>,
    /// As many zero points as scales.
    pub zero_point: Vec<i64>,
    /// The channel dimension of per-channel parameters.
    pub dim: usize,
}

impl Quant {
    /// Per-tensor parameters.
    pub fn tensor(scale: f32, zero_point: i64) -> Self {
        Self {
            scale: vec![scale],
            zero_point: vec![zero_point],
            dim: 0,
        }
    }
}

/// A tensor of the graph: an activation (no data) or a constant.
#[derive(Debug, Clone, PartialEq)]
pub struct Tensor {
    /// Its name (the ONNX tensor it stands for, where there is one).
    pub name: String,
    /// Its shape; the batch axis of activations holds 1 and is free (`shape_signature` -1).
    pub shape: Vec<usize>,
    /// Whether axis 0 is the free batch axis.
    pub batch_free: bool,
    /// Element type.
    pub dtype: ElemType,
    /// Little-endian contents of a constant.
    pub data: Option<Vec<u8>>,
    /// Quantization parameters of a quantized tensor.
    pub quant: Option<Quant>,
}

impl Tensor {
    /// Number of elements.
    pub fn len(&self) -> usize {
        self.shape.iter().product()
    }

    /// Whether it has no elements.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The values of a float32 constant.
    pub fn f32_values(&self) -> Option<Vec<f32>> {
        match (&self.data, self.dtype) {
            (Some(bytes), ElemType::F32) => Some(
                bytes
                    .chunks_exact(4)
                    .map(|b| f32::from_le_bytes([b[0], b[1], b[2], b[3]]))
                    .collect(),
            ),
            _ => None,
        }
    }

    /// The values of an integer constant, widened to `i64`.
    pub fn int_values(&self) -> Option<Vec<i64>> {
        let bytes = self.data.as_ref()?;
        let size = self.dtype.size();
        let read = |b: &[u8]| -> i64 {
            match self.dtype {
                ElemType::I8 => i64::from(b[0] as i8),
                ElemType::U8 => i64::from(b[0]),
                ElemType::I16 => i64::from(i16::from_le_bytes([b[0], b[1]])),
                ElemType::I32 => i64::from(i32::from_le_bytes([b[0], b[1], b[2], b[3]])),
                _ => i64::from_le_bytes(b.try_into().unwrap_or([0; 8])),
            }
        };
        self.dtype
            .int_range()
            .map(|_| bytes.chunks_exact(size).map(read).collect())
    }

    /// The real values of a constant: float32 and float16 as they are, integers through
    /// their quantization (or as they are without one).
    pub fn real_values(&self) -> Option<Vec<f32>> {
        match self.dtype {
            ElemType::F32 => self.f32_values(),
            ElemType::F16 => self.data.as_ref().map(|bytes| {
                bytes
                    .chunks_exact(2)
                    .map(|b| half::f16::from_le_bytes([b[0], b[1]]).to_f32())
                    .collect()
            }),
            _ => {
                let ints = self.int_values()?;
                let Some(q) = &self.quant else {
                    return Some(ints.iter().map(|&v| v as f32).collect());
                };
                let inner: usize = self.shape.iter().skip(q.dim + 1).product();
                let channels = q.scale.len();
                Some(
                    ints.iter()
                        .enumerate()
                        .map(|(i, &v)| {
                            let c = if channels == 1 {
                                0
                            } else {
                                (i / inner.max(1)) % channels
                            };
                            ((v - q.zero_point[c]) as f64 * f64::from(q.scale[c])) as f32
                        })
                        .collect(),
                )
            }
        }
    }
}

/// How a convolution or pool pads.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Padding {
    /// TensorFlow's SAME: output `ceil(in / stride)`, the odd extra row and column at the
    /// bottom and right.
    Same,
    /// No padding.
    Valid,
}

/// An activation fused into the operator before it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Fused {
    /// None.
    None,
    /// `max(x, 0)`.
    Relu,
    /// `min(max(x, 0), 6)`.
    Relu6,
}

/// A builtin operator with its options.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum OpKind {
    /// CONV_2D: input NHWC, filter OHWI, bias.
    Conv2d {
        /// Stride along both axes.
        stride: usize,
        /// Padding.
        padding: Padding,
        /// Fused activation.
        fused: Fused,
    },
    /// DEPTHWISE_CONV_2D: input NHWC, filter `[1, kh, kw, C * multiplier]`, bias.
    DepthwiseConv2d {
        /// Stride along both axes.
        stride: usize,
        /// Padding.
        padding: Padding,
        /// Output channels per input channel.
        multiplier: usize,
        /// Fused activation.
        fused: Fused,
    },
    /// FULLY_CONNECTED: input `[N, in]`, weights `[out, in]`, bias.
    FullyConnected {
        /// Fused activation.
        fused: Fused,
    },
    /// MAX_POOL_2D, VALID padding.
    MaxPool2d {
        /// Window size along both axes.
        size: usize,
        /// Stride along both axes.
        stride: usize,
    },
    /// PAD with zeros (with the zero point when quantized); paddings `[rank, 2]` int32.
    Pad,
    /// MEAN over the axes of the second (int32) input.
    Mean {
        /// Keep the reduced axes as size 1.
        keep_dims: bool,
    },
    /// REDUCE_MAX over the axes of the second (int32) input.
    ReduceMax {
        /// Keep the reduced axes as size 1.
        keep_dims: bool,
    },
    /// CONCATENATION along `axis`.
    Concatenation {
        /// The axis.
        axis: usize,
    },
    /// STRIDED_SLICE with int32 begin, end and strides inputs.
    StridedSlice {
        /// Axes whose begin is ignored (start at 0).
        begin_mask: i32,
        /// Axes whose end is ignored (run to the end).
        end_mask: i32,
    },
    /// ADD (broadcasting).
    Add,
    /// SUB (broadcasting).
    Sub,
    /// MUL (broadcasting).
    Mul,
    /// DIV (broadcasting).
    Div,
    /// LOGISTIC (sigmoid).
    Logistic,
    /// TANH.
    Tanh,
    /// PRELU with a slope broadcast over the input.
    Prelu,
    /// RELU.
    Relu,
    /// RELU6.
    Relu6,
    /// HARD_SWISH.
    HardSwish,
    /// LEAKY_RELU.
    LeakyRelu {
        /// The slope below 0.
        alpha: f32,
    },
    /// QUANTIZE (float to integer, or requantization between integer parameters).
    Quantize,
    /// DEQUANTIZE (integer or float16 to float32).
    Dequantize,
    /// CAST (uint8 pixels to float32).
    Cast,
}

impl OpKind {
    /// The operator's TFLite name.
    pub fn name(&self) -> &'static str {
        match self {
            Self::Conv2d { .. } => "CONV_2D",
            Self::DepthwiseConv2d { .. } => "DEPTHWISE_CONV_2D",
            Self::FullyConnected { .. } => "FULLY_CONNECTED",
            Self::MaxPool2d { .. } => "MAX_POOL_2D",
            Self::Pad => "PAD",
            Self::Mean { .. } => "MEAN",
            Self::ReduceMax { .. } => "REDUCE_MAX",
            Self::Concatenation { .. } => "CONCATENATION",
            Self::StridedSlice { .. } => "STRIDED_SLICE",
            Self::Add => "ADD",
            Self::Sub => "SUB",
            Self::Mul => "MUL",
            Self::Div => "DIV",
            Self::Logistic => "LOGISTIC",
            Self::Tanh => "TANH",
            Self::Prelu => "PRELU",
            Self::Relu => "RELU",
            Self::Relu6 => "RELU6",
            Self::HardSwish => "HARD_SWISH",
            Self::LeakyRelu { .. } => "LEAKY_RELU",
            Self::Quantize => "QUANTIZE",
            Self::Dequantize => "DEQUANTIZE",
            Self::Cast => "CAST",
        }
    }

    /// Whether the output keeps the input's quantization (TFLite requires one scale and zero
    /// point through these operators).
    pub fn keeps_scale(&self) -> bool {
        matches!(
            self,
            Self::MaxPool2d { .. }
                | Self::Pad
                | Self::ReduceMax { .. }
                | Self::Concatenation { .. }
                | Self::StridedSlice { .. }
        )
    }
}

/// An operator: its kind and the indices of its input and output tensors.
#[derive(Debug, Clone, PartialEq)]
pub struct Op {
    /// What it computes.
    pub kind: OpKind,
    /// Input tensors.
    pub inputs: Vec<usize>,
    /// Output tensors.
    pub outputs: Vec<usize>,
}

/// A single-subgraph TFLite model.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Graph {
    /// Every tensor, constants included.
    pub tensors: Vec<Tensor>,
    /// Operators in execution order.
    pub ops: Vec<Op>,
    /// Graph inputs.
    pub inputs: Vec<usize>,
    /// Graph outputs.
    pub outputs: Vec<usize>,
    /// Metadata entries (name, UTF-8 text).
    pub metadata: Vec<(String, String)>,
}

impl Graph {
    /// Appends a tensor; returns its index.
    pub fn push(&mut self, tensor: Tensor) -> usize {
        self.tensors.push(tensor);
        self.tensors.len() - 1
    }

    /// Appends an activation tensor of `dtype` (batch axis free); returns its index.
    pub fn activation(&mut self, name: &str, shape: Vec<usize>, dtype: ElemType) -> usize {
        self.push(Tensor {
            name: name.to_string(),
            shape,
            batch_free: true,
            dtype,
            data: None,
            quant: None,
        })
    }

    /// Appends a float32 constant; returns its index.
    pub fn const_f32(&mut self, name: &str, shape: Vec<usize>, values: &[f32]) -> usize {
        let data = values.iter().flat_map(|v| v.to_le_bytes()).collect();
        self.constant(name, shape, ElemType::F32, data)
    }

    /// Appends an int32 constant; returns its index.
    pub fn const_i32(&mut self, name: &str, values: &[i32]) -> usize {
        let data = values.iter().flat_map(|v| v.to_le_bytes()).collect();
        self.constant(name, vec![values.len()], ElemType::I32, data)
    }

    /// Appends a constant of raw little-endian bytes; returns its index.
    pub fn constant(
        &mut self,
        name: &str,
        shape: Vec<usize>,
        dtype: ElemType,
        data: Vec<u8>,
    ) -> usize {
        self.push(Tensor {
            name: name.to_string(),
            shape,
            batch_free: false,
            dtype,
            data: Some(data),
            quant: None,
        })
    }

    /// Appends an operator.
    pub fn op(&mut self, kind: OpKind, inputs: Vec<usize>, outputs: Vec<usize>) {
        self.ops.push(Op {
            kind,
            inputs,
            outputs,
        });
    }

    /// The operator that writes tensor `t`, if any.
    pub fn producer(&self, t: usize) -> Option<usize> {
        self.ops.iter().position(|op| op.outputs.contains(&t))
    }

    /// The operators that read tensor `t`.
    pub fn consumers(&self, t: usize) -> Vec<usize> {
        (0..self.ops.len())
            .filter(|&k| self.ops[k].inputs.contains(&t))
            .collect()
    }

    /// The real values of tensor `t` when it is a constant, or the `DEQUANTIZE` of one (the
    /// float16 file's weights).
    pub fn constant_values(&self, t: usize) -> Option<Vec<f32>> {
        let tensor = &self.tensors[t];
        if tensor.data.is_some() {
            return tensor.real_values();
        }
        let op = &self.ops[self.producer(t)?];
        match op.kind {
            OpKind::Dequantize => self.tensors[*op.inputs.first()?].real_values(),
            _ => None,
        }
    }

    /// How many operators of each name the graph has, sorted by name.
    pub fn op_counts(&self) -> Vec<(&'static str, usize)> {
        let mut counts = std::collections::BTreeMap::new();
        for op in &self.ops {
            *counts.entry(op.kind.name()).or_insert(0) += 1;
        }
        counts.into_iter().collect()
    }
}
