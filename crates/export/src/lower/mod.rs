//! Lowering of a [`LandmarkModel`] to an ONNX inference graph, block by block from the
//! model's structure and its tensors by path: BatchNorm folded into the convolutions (unless
//! asked otherwise), ReLU6 as `Clip`, PReLU as `PRelu`, SiLU as `Sigmoid` * `Mul`, global pools
//! as `GlobalAveragePool` / `GlobalMaxPool`, linear layers as `Gemm` (`transB = 1`).
//!
//! The architectures' wiring (which blocks, their strides, which pools) lives in [`arch`];
//! the blocks they share in [`blocks`]. Widths, kernel sizes and groups come from the weights.

mod arch;
mod blocks;

use crate::error::ExportError;
use crate::graph::GraphBuilder;
use crate::proto::{self, Dim};
use crate::weights::{BN_EPSILON, Weights};
use fdfat_config::{Activation, ModelKind};
use fdfat_models::LandmarkModel;
use tract_onnx::pb;
use tract_onnx::pb::tensor_proto::DataType;

/// Name of the graph input.
pub const INPUT: &str = "input";
/// Name of the graph output.
pub const OUTPUT: &str = "output";
/// Name of the free batch dimension.
pub const BATCH: &str = "N";

/// What the graph's input is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum InputLayout {
    /// `[N, 3, H, W]` float32, already normalised (`pixel / 127.5 - 1`), as the model takes.
    NchwF32,
    /// `[N, H, W, 3]` uint8 RGB pixels; the graph transposes, casts and normalises.
    NhwcU8,
}

/// How to lower the model.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct GraphOptions {
    /// Fold each BatchNorm into its convolution (`export_simplify`); otherwise keep
    /// `BatchNormalization` nodes.
    pub fold_batchnorm: bool,
    /// The input layout (`export_nhwc_uint8`).
    pub input: InputLayout,
}

impl Default for GraphOptions {
    fn default() -> Self {
        Self {
            fold_batchnorm: true,
            input: InputLayout::NchwF32,
        }
    }
}

/// A feature map or vector in the graph: its tensor name and channel count.
#[derive(Debug, Clone)]
struct Value {
    name: String,
    channels: usize,
}

/// The ONNX graph of `model` for an input of `imgsz` x `imgsz` pixels.
pub fn lower(model: &LandmarkModel, options: GraphOptions) -> Result<pb::GraphProto, ExportError> {
    let spec = model.spec();
    let weights = Weights::of(model)?;
    let mut lowering = Lowering {
        g: GraphBuilder::new(),
        w: &weights,
        activation: spec.activation,
        shared_slope: None,
        fold: options.fold_batchnorm,
    };
    if spec.activation == Activation::Prelu {
        lowering.shared_slope = Some(lowering.slope("act.alpha")?);
    }
    let input = lowering.input(options.input);
    let outputs = match spec.kind {
        ModelKind::LwModel => lowering.lw(input)?,
        ModelKind::LwCspModel => lowering.csp(input)?,
    };
    let output_len: usize = outputs.iter().map(|v| v.channels).sum();
    if output_len != model.output_len() {
        return Err(ExportError::Weights {
            path: "logit".into(),
            reason: format!(
                "the lowered heads give {output_len} outputs, the model {}",
                model.output_len()
            ),
        });
    }
    let last = if outputs.len() == 1 {
        outputs[0].name.clone()
    } else {
        let names: Vec<&str> = outputs.iter().map(|v| v.name.as_str()).collect();
        lowering
            .g
            .op("", "Concat", &names, vec![proto::attr_int("axis", 1)])
    };
    let mut g = lowering.g;
    g.rename(&last, OUTPUT);
    let size = spec.imgsz;
    let input_info = match options.input {
        InputLayout::NchwF32 => proto::value_info(
            INPUT,
            DataType::Float,
            &[
                Dim::Named(BATCH),
                Dim::Fixed(3),
                Dim::Fixed(size),
                Dim::Fixed(size),
            ],
        ),
        InputLayout::NhwcU8 => proto::value_info(
            INPUT,
            DataType::Uint8,
            &[
                Dim::Named(BATCH),
                Dim::Fixed(size),
                Dim::Fixed(size),
                Dim::Fixed(3),
            ],
        ),
    };
    let output_info = proto::value_info(
        OUTPUT,
        DataType::Float,
        &[Dim::Named(BATCH), Dim::Fixed(output_len)],
    );
    Ok(g.finish(&spec.kind.to_string(), input_info, output_info))
}

/// The state of one lowering.
struct Lowering<'a> {
    g: GraphBuilder,
    w: &'a Weights,
    activation: Activation,
    /// The model-wide PReLU slope initializer, when the activation is PReLU.
    shared_slope: Option<String>,
    fold: bool,
}

impl Lowering<'_> {
    /// The graph input, turned into normalised NCHW float32 when it is NHWC uint8.
    fn input(&mut self, layout: InputLayout) -> Value {
        let name = match layout {
            InputLayout::NchwF32 => INPUT.to_string(),
            InputLayout::NhwcU8 => {
                let scope = "/preprocess";
                let nchw = self.g.op(
                    scope,
                    "Transpose",
                    &[INPUT],
                    vec![proto::attr_ints("perm", &[0, 3, 1, 2])],
                );
                let float = self.g.op(
                    scope,
                    "Cast",
                    &[&nchw],
                    vec![proto::attr_int("to", DataType::Float as i64)],
                );
                let half_range = self.g.scalar(127.5);
                let one = self.g.scalar(1.0);
                let scaled = self.g.op(scope, "Div", &[&float, &half_range], vec![]);
                self.g.op(scope, "Sub", &[&scaled, &one], vec![])
            }
        };
        Value { name, channels: 3 }
    }

    /// The PReLU slope at `path` as an initializer that broadcasts over `[N, C, H, W]`.
    fn slope(&mut self, path: &str) -> Result<String, ExportError> {
        let slope = self.w.get(path, 1)?;
        let dims = match slope.dims[0] {
            1 => vec![1],
            channels => vec![channels, 1, 1],
        };
        Ok(self.g.weight(path, &dims, &slope.values))
    }

    /// The model's activation on `x`.
    fn activate(&mut self, x: &str, scope: &str) -> Result<String, ExportError> {
        let scope = &format!("{scope}/act");
        let g = &mut self.g;
        Ok(match self.activation {
            Activation::Relu6 => {
                let (lo, hi) = (g.scalar(0.0), g.scalar(6.0));
                g.op(scope, "Clip", &[x, &lo, &hi], vec![])
            }
            Activation::Silu => {
                let s = g.op(scope, "Sigmoid", &[x], vec![]);
                g.op(scope, "Mul", &[x, &s], vec![])
            }
            Activation::Relu => g.op(scope, "Relu", &[x], vec![]),
            Activation::Hardswish => g.op(scope, "HardSwish", &[x], vec![]),
            Activation::LeakyRelu => g.op(
                scope,
                "LeakyRelu",
                &[x],
                vec![proto::attr_float("alpha", 0.01)],
            ),
            Activation::Gelu => {
                // x * 0.5 * (1 + erf(x / sqrt(2))): opset 17 has no Gelu
                let sqrt2 = g.scalar(std::f32::consts::SQRT_2);
                let (one, half) = (g.scalar(1.0), g.scalar(0.5));
                let scaled = g.op(scope, "Div", &[x, &sqrt2], vec![]);
                let erf = g.op(scope, "Erf", &[&scaled], vec![]);
                let shifted = g.op(scope, "Add", &[&erf, &one], vec![]);
                let product = g.op(scope, "Mul", &[x, &shifted], vec![]);
                g.op(scope, "Mul", &[&product, &half], vec![])
            }
            Activation::Tanh => g.op(scope, "Tanh", &[x], vec![]),
            Activation::Sigmoid => g.op(scope, "Sigmoid", &[x], vec![]),
            Activation::Mish => {
                let soft = g.op(scope, "Softplus", &[x], vec![]);
                let tanh = g.op(scope, "Tanh", &[&soft], vec![]);
                g.op(scope, "Mul", &[x, &tanh], vec![])
            }
            Activation::Prelu => {
                let slope = self
                    .shared_slope
                    .clone()
                    .ok_or_else(|| ExportError::Weights {
                        path: "act.alpha".into(),
                        reason: "the PReLU activation has no slope".into(),
                    })?;
                g.op(scope, "PRelu", &[x, &slope], vec![])
            }
        })
    }

    /// A convolution (`<path>.conv`) with its BatchNorm (`<path>.bn`), folded or not, with
    /// `stride` and "same" padding; the groups follow from the input width.
    fn conv_bn(&mut self, x: &Value, path: &str, stride: usize) -> Result<Value, ExportError> {
        let conv_path = format!("{path}.conv");
        let params = self.w.conv_bn(&conv_path, &format!("{path}.bn"))?;
        let [c_out, c_in_per_group, kh, kw] = params.dims;
        if c_in_per_group == 0 || !x.channels.is_multiple_of(c_in_per_group) {
            return Err(ExportError::Weights {
                path: format!("{conv_path}.weight"),
                reason: format!(
                    "shape {:?} does not fit an input of {} channels",
                    params.dims, x.channels
                ),
            });
        }
        let groups = x.channels / c_in_per_group;
        let scope = scope_of(path);
        let attributes = vec![
            proto::attr_int("group", groups as i64),
            proto::attr_ints("kernel_shape", &[kh as i64, kw as i64]),
            proto::attr_ints(
                "pads",
                &[
                    (kh / 2) as i64,
                    (kw / 2) as i64,
                    (kh / 2) as i64,
                    (kw / 2) as i64,
                ],
            ),
            proto::attr_ints("strides", &[stride as i64, stride as i64]),
        ];
        let name = if self.fold {
            let (weight, bias) = params.folded();
            let w = self
                .g
                .weight(&format!("{conv_path}.weight"), &params.dims, &weight);
            let b = self.g.weight(&format!("{conv_path}.bias"), &[c_out], &bias);
            self.g.op(&scope, "Conv", &[&x.name, &w, &b], attributes)
        } else {
            let w = self
                .g
                .weight(&format!("{conv_path}.weight"), &params.dims, &params.weight);
            let mut inputs = vec![x.name.clone(), w];
            if let Some(bias) = &params.bias {
                inputs.push(self.g.weight(&format!("{conv_path}.bias"), &[c_out], bias));
            }
            let inputs: Vec<&str> = inputs.iter().map(String::as_str).collect();
            let y = self.g.op(&scope, "Conv", &inputs, attributes);
            let bn: Vec<String> = [
                ("gamma", &params.gamma),
                ("beta", &params.beta),
                ("running_mean", &params.mean),
                ("running_var", &params.var),
            ]
            .into_iter()
            .map(|(name, v)| self.g.weight(&format!("{path}.bn.{name}"), &[c_out], v))
            .collect();
            self.g.op(
                &scope,
                "BatchNormalization",
                &[&y, &bn[0], &bn[1], &bn[2], &bn[3]],
                vec![proto::attr_float("epsilon", BN_EPSILON as f32)],
            )
        };
        Ok(Value {
            name,
            channels: c_out,
        })
    }

    /// [`Self::conv_bn`] followed by the model's activation.
    fn conv_bn_act(&mut self, x: &Value, path: &str, stride: usize) -> Result<Value, ExportError> {
        let y = self.conv_bn(x, path, stride)?;
        Ok(Value {
            name: self.activate(&y.name, &scope_of(path))?,
            channels: y.channels,
        })
    }

    /// A linear layer at `path` (`weight` stored `[in, out]`) as `Gemm` with `transB = 1`.
    fn linear(&mut self, x: &Value, path: &str) -> Result<Value, ExportError> {
        let weight = self.w.get(&format!("{path}.weight"), 2)?;
        let (d_in, d_out) = (weight.dims[0], weight.dims[1]);
        if d_in != x.channels {
            return Err(ExportError::Weights {
                path: format!("{path}.weight"),
                reason: format!(
                    "expected {} inputs, found shape {:?}",
                    x.channels, weight.dims
                ),
            });
        }
        let mut transposed = vec![0.0; weight.values.len()];
        for i in 0..d_in {
            for o in 0..d_out {
                transposed[o * d_in + i] = weight.values[i * d_out + o];
            }
        }
        let bias = self.w.vector(&format!("{path}.bias"), d_out)?.to_vec();
        let w = self
            .g
            .weight(&format!("{path}.weight"), &[d_out, d_in], &transposed);
        let b = self.g.weight(&format!("{path}.bias"), &[d_out], &bias);
        let name = self.g.op(
            &scope_of(path),
            "Gemm",
            &[&x.name, &w, &b],
            vec![
                proto::attr_float("alpha", 1.0),
                proto::attr_float("beta", 1.0),
                proto::attr_int("transB", 1),
            ],
        );
        Ok(Value {
            name,
            channels: d_out,
        })
    }

    /// An element-wise unary `op` on `x`.
    fn unary(&mut self, x: &Value, scope: &str, op: &str) -> Value {
        Value {
            name: self.g.op(scope, op, &[&x.name], vec![]),
            channels: x.channels,
        }
    }

    /// Global pools (`GlobalAveragePool` or `GlobalMaxPool`) of `maps`, concatenated along the
    /// channels and flattened to `[N, sum of channels]`.
    fn pooled(&mut self, maps: &[Value], scope: &str, pool: &str) -> Value {
        let pools: Vec<String> = maps
            .iter()
            .map(|m| self.g.op(scope, pool, &[&m.name], vec![]))
            .collect();
        let channels = maps.iter().map(|m| m.channels).sum();
        let joined = if pools.len() == 1 {
            pools[0].clone()
        } else {
            let names: Vec<&str> = pools.iter().map(String::as_str).collect();
            self.g
                .op(scope, "Concat", &names, vec![proto::attr_int("axis", 1)])
        };
        Value {
            name: self.g.op(
                scope,
                "Flatten",
                &[&joined],
                vec![proto::attr_int("axis", 1)],
            ),
            channels,
        }
    }
}

/// The node scope of a tensor path: `backbone.conv21.conv1` -> `/backbone/conv21/conv1`.
fn scope_of(path: &str) -> String {
    format!("/{}", path.replace('.', "/"))
}
