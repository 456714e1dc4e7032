//! The model walked into a [`Plan`]: every convolution with its BatchNorm folded into the
//! weights and bias (`w * g / sqrt(v + eps)`, `(b - m) * g / sqrt(v + eps) + beta`, in f64),
//! its activation attached, and its weights laid out for its kernel; C2f halves and pyramid
//! levels as channel ranges of shared values.
//!
//! This walks the burn modules directly rather than sharing `fdfat-export`'s lowering: that
//! one builds ONNX nodes from tensors looked up by name, this one builds kernels from the
//! typed modules (through `fdfat-models`' read accessors), and the two share nothing but the
//! block order, which both take from `fdfat-models`' `lw.rs` / `lwcsp.rs`.

use super::activation::Act;
use super::kernels::{
    DIRECT_MAX_CHANNELS, Dense, Depthwise, Direct, GlobalPool, Pointwise, PoolKind, Residual,
    STEM_TAPS, Stem, Window,
};
use super::plan::{Kernel, Plan, Shape, Step, View};
use burn::nn::conv::Conv2d;
use burn::nn::{BatchNorm, Linear, PRelu, PaddingConfig2d};
use burn::tensor::Tensor;
use fdfat_config::Activation as Kind;
use fdfat_models::blocks::{
    Activation, C2f, ConvBn, FaceClsHead, IdentifyBlock, LEAKY_SLOPE, PoseHead, RegressHead,
};
use fdfat_models::lw::{LwBackbone, LwMainstream};
use fdfat_models::lwcsp::{CspBackbone, CspMainstream, CspStage};
use fdfat_models::{Backbone, LandmarkModel, Mainstream, ModelError};

/// The plan computing `model` in eval mode.
pub fn lower(model: &LandmarkModel) -> Result<Plan, ModelError> {
    let spec = model.spec();
    let mut b = Builder {
        values: Vec::new(),
        steps: Vec::new(),
        act: model_act(spec.activation, model.activation())?,
    };
    let input = Shape {
        h: spec.imgsz,
        w: spec.imgsz,
        c: 3,
    };
    let output = b.value(Shape {
        h: 1,
        w: 1,
        c: model.output_len(),
    });
    let landmarks = output.part(0, model.landmark_outputs());
    let features = match model.backbone() {
        Backbone::Lw(backbone) => b.lw_backbone(backbone, input)?,
        Backbone::Csp(backbone) => b.csp_backbone(backbone, input)?,
    };
    let mut next = landmarks.channels;
    if let Some(head) = model.classifier() {
        b.face_cls(head, features, output.part(next, 1))?;
        next += 1;
    }
    if let Some(head) = model.aux() {
        b.pose(head, features, output.part(next, 3))?;
    }
    let pooled = match model.mainstream() {
        Mainstream::Lw(m) => b.lw_mainstream(m, features)?,
        Mainstream::Csp(m) => b.csp_mainstream(m, features)?,
    };
    b.regress("logit", model.logit(), pooled, landmarks)?;
    Ok(Plan::new(b.steps, b.values, input, output))
}

/// The fused form of the model's shared activation.
fn model_act(kind: Kind, act: &Activation) -> Result<Act, ModelError> {
    Ok(match (kind, act) {
        (Kind::Prelu, Activation::Prelu(prelu)) => Act::Prelu(slope("act", prelu)?),
        (Kind::Prelu, _) | (_, Activation::Prelu(_)) => {
            return Err(layer_error(
                "act",
                format!("the model's activation module is not the configured {kind}"),
            ));
        }
        (Kind::Relu6, _) => Act::Relu6,
        (Kind::Silu, _) => Act::Silu,
        (Kind::Relu, _) => Act::Relu,
        (Kind::Hardswish, _) => Act::Hardswish,
        (Kind::LeakyRelu, _) => Act::LeakyRelu(LEAKY_SLOPE as f32),
        (Kind::Gelu, _) => Act::Gelu,
        (Kind::Tanh, _) => Act::Tanh,
        (Kind::Sigmoid, _) => Act::Sigmoid,
        (Kind::Mish, _) => Act::Mish,
    })
}

/// The single slope of a PReLU.
fn slope(name: &str, prelu: &PRelu) -> Result<f32, ModelError> {
    match read(name, "alpha", prelu.alpha.val())?.as_slice() {
        [alpha] => Ok(*alpha),
        other => Err(layer_error(
            name,
            format!("expected one PReLU slope, found {}", other.len()),
        )),
    }
}

fn layer_error(layer: &str, reason: String) -> ModelError {
    ModelError::Fused {
        layer: layer.to_string(),
        reason,
    }
}

/// A tensor's values as f32.
fn read<const D: usize>(layer: &str, what: &str, t: Tensor<D>) -> Result<Vec<f32>, ModelError> {
    t.into_data()
        .try_into_vec_as::<f32>()
        .map_err(|e| layer_error(layer, format!("cannot read its {what}: {e:?}")))
}

/// A convolution with its BatchNorm folded in, weights as burn stores them:
/// `[c_out][c_in / groups][k][k]`.
struct Folded {
    weight: Vec<f32>,
    bias: Vec<f32>,
    c_out: usize,
    in_per_group: usize,
    groups: usize,
    window: Window,
}

impl Folded {
    fn new(name: &str, conv: &Conv2d, bn: Option<&BatchNorm>) -> Result<Self, ModelError> {
        let [c_out, in_per_group, kh, kw] = conv.weight.shape().dims();
        let [sh, sw] = conv.stride;
        let pad = match conv.padding {
            PaddingConfig2d::Valid => 0,
            PaddingConfig2d::Explicit(t, l, b, r) if t == l && t == b && t == r => t,
            PaddingConfig2d::Same if kh % 2 == 1 => kh / 2,
            ref other => {
                return Err(layer_error(name, format!("unsupported padding {other:?}")));
            }
        };
        if kh != kw || sh != sw || conv.dilation != [1, 1] {
            return Err(layer_error(
                name,
                format!(
                    "only square kernels with equal strides and no dilation are fused, found \
                     kernel {kh}x{kw}, stride {sh}x{sw}, dilation {:?}",
                    conv.dilation
                ),
            ));
        }
        let mut weight = read(name, "weight", conv.weight.val())?;
        let mut bias = match &conv.bias {
            Some(b) => read(name, "bias", b.val())?,
            None => vec![0.0; c_out],
        };
        if let Some(bn) = bn {
            let gamma = read(name, "BatchNorm gamma", bn.gamma.val())?;
            let beta = read(name, "BatchNorm beta", bn.beta.val())?;
            let mean = read(name, "BatchNorm running mean", bn.running_mean.value())?;
            let var = read(name, "BatchNorm running variance", bn.running_var.value())?;
            if [&gamma, &beta, &mean, &var]
                .iter()
                .any(|v| v.len() != c_out)
            {
                return Err(layer_error(
                    name,
                    format!("its BatchNorm does not have {c_out} channels"),
                ));
            }
            let per_channel = weight.len() / c_out;
            for c in 0..c_out {
                let scale = f64::from(gamma[c]) / (f64::from(var[c]) + bn.epsilon).sqrt();
                for w in &mut weight[c * per_channel..(c + 1) * per_channel] {
                    *w = (f64::from(*w) * scale) as f32;
                }
                bias[c] =
                    ((f64::from(bias[c]) - f64::from(mean[c])) * scale + f64::from(beta[c])) as f32;
            }
        }
        Ok(Self {
            weight,
            bias,
            c_out,
            in_per_group,
            groups: conv.groups,
            window: Window {
                kernel: kh,
                stride: sh,
                pad,
            },
        })
    }

    fn k(&self) -> usize {
        self.window.kernel
    }

    /// The weight of burn's `[c_out][c_in][ky][kx]` element.
    fn at(&self, co: usize, ci: usize, ky: usize, kx: usize) -> f32 {
        let k = self.k();
        self.weight[((co * self.in_per_group + ci) * k + ky) * k + kx]
    }

    /// `[ky][kx][c_in][c_out]`: the rows of the im2col matrix.
    fn im2col_rows(&self) -> Vec<f32> {
        let k = self.k();
        let mut w = Vec::with_capacity(k * k * self.in_per_group * self.c_out);
        for ky in 0..k {
            for kx in 0..k {
                for ci in 0..self.in_per_group {
                    w.extend((0..self.c_out).map(|co| self.at(co, ci, ky, kx)));
                }
            }
        }
        w
    }
}

/// Where a convolution reads.
#[derive(Debug, Clone, Copy)]
enum Source {
    /// The NCHW model input.
    Input(Shape),
    /// A feature map.
    Map(View),
}

/// The plan under construction.
struct Builder {
    values: Vec<Shape>,
    steps: Vec<Step>,
    act: Act,
}

impl Builder {
    /// A new value of `shape`, viewed whole.
    fn value(&mut self, shape: Shape) -> View {
        self.values.push(shape);
        View {
            value: self.values.len() - 1,
            shape,
            offset: 0,
            channels: shape.c,
        }
    }

    fn push(&mut self, name: &str, kernel: Kernel) {
        self.steps.push(Step {
            name: name.to_string(),
            kernel,
        });
    }

    /// A `ConvBn` block at `name`, with the model's activation when it has one.
    fn conv_bn(
        &mut self,
        name: &str,
        block: &ConvBn,
        src: View,
        dst: Option<View>,
    ) -> Result<View, ModelError> {
        let act = if block.has_activation() {
            self.act
        } else {
            Act::Identity
        };
        let folded = Folded::new(name, block.conv(), Some(block.bn()))?;
        self.conv(name, folded, act, Source::Map(src), dst, None)
    }

    /// A convolution reading `src`, writing `dst` (a new value when `None`).
    fn conv(
        &mut self,
        name: &str,
        f: Folded,
        act: Act,
        src: Source,
        dst: Option<View>,
        residual: Option<Residual>,
    ) -> Result<View, ModelError> {
        let in_shape = match src {
            Source::Input(shape) => shape,
            Source::Map(view) => Shape {
                c: view.channels,
                ..view.shape
            },
        };
        if in_shape.c != f.in_per_group * f.groups {
            return Err(layer_error(
                name,
                format!(
                    "expects {} input channels, gets {}",
                    f.in_per_group * f.groups,
                    in_shape.c
                ),
            ));
        }
        let too_small = || {
            layer_error(
                name,
                format!(
                    "its {0}x{0} kernel does not fit a {1}x{2} input",
                    f.k(),
                    in_shape.h,
                    in_shape.w
                ),
            )
        };
        let (h, w) = (
            f.window.out(in_shape.h).ok_or_else(too_small)?,
            f.window.out(in_shape.w).ok_or_else(too_small)?,
        );
        let dst = match dst {
            Some(view) => view,
            None => self.value(Shape { h, w, c: f.c_out }),
        };
        if (dst.shape.h, dst.shape.w, dst.channels) != (h, w, f.c_out) {
            return Err(layer_error(
                name,
                format!(
                    "gives {h}x{w}x{} where the plan expects {}x{}x{}",
                    f.c_out, dst.shape.h, dst.shape.w, dst.channels
                ),
            ));
        }
        let pointwise = f.groups == 1 && f.k() == 1 && f.window.stride == 1 && f.window.pad == 0;
        // narrow kxk layers skip the im2col copy
        let direct = f.groups == 1 && !pointwise && f.c_out <= DIRECT_MAX_CHANNELS;
        let kernel = match src {
            Source::Input(input) if f.groups == 1 && input.c * f.k() * f.k() == STEM_TAPS => {
                let padded = Stem::padded(f.c_out);
                let mut weight = Vec::with_capacity(input.c * f.k() * f.k() * padded);
                for ci in 0..input.c {
                    for ky in 0..f.k() {
                        for kx in 0..f.k() {
                            weight.extend((0..f.c_out).map(|co| f.at(co, ci, ky, kx)));
                            weight.resize(weight.len() + padded - f.c_out, 0.0);
                        }
                    }
                }
                let mut bias = f.bias;
                bias.resize(padded, 0.0);
                Kernel::Stem(Stem {
                    window: f.window,
                    input,
                    weight,
                    bias,
                    act,
                    dst,
                })
            }
            Source::Input(_) => {
                return Err(layer_error(
                    name,
                    format!(
                        "only a dense first convolution of {STEM_TAPS} taps (3 channels, 3x3) \
                         is fused, found {} groups of {} channels, {}x{}",
                        f.groups,
                        f.in_per_group,
                        f.k(),
                        f.k()
                    ),
                ));
            }
            Source::Map(src) if pointwise => Kernel::Pointwise(Pointwise {
                weight: f.im2col_rows(),
                bias: f.bias,
                act,
                src,
                dst,
                residual,
            }),
            Source::Map(src) if direct => Kernel::Direct(Direct::new(
                f.window,
                &f.im2col_rows(),
                &f.bias,
                act,
                src,
                dst,
            )),
            Source::Map(src) if f.groups == 1 => Kernel::Dense(Dense {
                window: f.window,
                weight: f.im2col_rows(),
                bias: f.bias,
                act,
                src,
                dst,
            }),
            Source::Map(src) if f.in_per_group == 1 => {
                let k = f.k();
                let mut weight = Vec::with_capacity(k * k * f.c_out);
                for ky in 0..k {
                    for kx in 0..k {
                        weight.extend((0..f.c_out).map(|co| f.at(co, 0, ky, kx)));
                    }
                }
                Kernel::Depthwise(Depthwise {
                    window: f.window,
                    multiplier: f.c_out / f.groups,
                    weight,
                    bias: f.bias,
                    act,
                    src,
                    dst,
                })
            }
            Source::Map(_) => {
                return Err(layer_error(
                    name,
                    format!(
                        "a grouped convolution with {} input channels per group is not fused",
                        f.in_per_group
                    ),
                ));
            }
        };
        if residual.is_some() && (act != Act::Identity || !matches!(kernel, Kernel::Pointwise(_))) {
            return Err(layer_error(
                name,
                "a residual is only fused onto a linear 1x1 convolution".into(),
            ));
        }
        self.push(name, kernel);
        Ok(dst)
    }

    /// A linear layer at `name` with `act`, from the `1 x 1` view `src`.
    fn linear(
        &mut self,
        name: &str,
        layer: &Linear,
        act: Act,
        src: View,
        dst: Option<View>,
    ) -> Result<View, ModelError> {
        let [d_in, d_out] = layer.weight.shape().dims();
        if d_in != src.channels {
            return Err(layer_error(
                name,
                format!("expects {d_in} features, gets {}", src.channels),
            ));
        }
        let dst = match dst {
            Some(view) if view.channels == d_out => view,
            Some(view) => {
                return Err(layer_error(
                    name,
                    format!(
                        "gives {d_out} values where the plan expects {}",
                        view.channels
                    ),
                ));
            }
            None => self.value(Shape {
                h: 1,
                w: 1,
                c: d_out,
            }),
        };
        let bias = match &layer.bias {
            Some(b) => read(name, "bias", b.val())?,
            None => vec![0.0; d_out],
        };
        let kernel = Kernel::Pointwise(Pointwise {
            weight: read(name, "weight", layer.weight.val())?,
            bias,
            act,
            src,
            dst,
            residual: None,
        });
        self.push(name, kernel);
        Ok(dst)
    }

    /// A global pool of `src` into `dst`.
    fn pool(&mut self, name: &str, kind: PoolKind, src: View, dst: View) {
        self.push(name, Kernel::Pool(GlobalPool { kind, src, dst }));
    }

    /// Global pools of `levels` concatenated into a new feature vector.
    fn pooled(&mut self, name: &str, kind: PoolKind, levels: &[View]) -> View {
        let total = levels.iter().map(|l| l.channels).sum();
        let features = self.value(Shape {
            h: 1,
            w: 1,
            c: total,
        });
        let mut offset = 0;
        for (i, level) in levels.iter().enumerate() {
            let dst = features.part(offset, level.channels);
            self.pool(&format!("{name}.pool{i}"), kind, *level, dst);
            offset += level.channels;
        }
        features
    }

    /// An inverted residual block.
    fn identify(&mut self, name: &str, block: &IdentifyBlock, x: View) -> Result<View, ModelError> {
        let y = self.conv_bn(&format!("{name}.conv1"), block.conv1(), x, None)?;
        let y = self.conv_bn(&format!("{name}.conv2"), block.conv2(), y, None)?;
        let conv3 = format!("{name}.conv3");
        if !block.has_residual() {
            return self.conv_bn(&conv3, block.conv3(), y, None);
        }
        let residual = Residual {
            src: x,
            pool: block.residual_pool().is_some(),
        };
        let expected = if residual.pool {
            (x.shape.h / 2, x.shape.w / 2)
        } else {
            (x.shape.h, x.shape.w)
        };
        if (y.shape.h, y.shape.w) != expected || x.channels != block_out(block.conv3()) {
            return Err(layer_error(
                name,
                format!(
                    "its residual ({}x{}x{}) does not match its output",
                    expected.0, expected.1, x.channels
                ),
            ));
        }
        let folded = Folded::new(&conv3, block.conv3().conv(), Some(block.conv3().bn()))?;
        let act = if block.conv3().has_activation() {
            self.act
        } else {
            Act::Identity
        };
        self.conv(&conv3, folded, act, Source::Map(y), None, Some(residual))
    }

    /// A CSP `C2f`: the first 1x1 writes both halves of one value, each bottleneck appends
    /// its output to it, and the last 1x1 reads it whole.
    fn c2f(&mut self, name: &str, block: &C2f, x: View) -> Result<View, ModelError> {
        let split = block_out(block.cv1());
        if !split.is_multiple_of(2) {
            return Err(layer_error(
                &format!("{name}.cv1"),
                format!("its {split} output channels do not halve"),
            ));
        }
        let half = split / 2;
        // cv1 is 1x1 at stride 1 (`conv_bn` checks that its output fits)
        let joined = self.value(Shape {
            c: (2 + block.bottlenecks().len()) * half,
            ..x.shape
        });
        self.conv_bn(
            &format!("{name}.cv1"),
            block.cv1(),
            x,
            Some(joined.part(0, split)),
        )?;
        let mut last = joined.part(half, half);
        for (i, bottleneck) in block.bottlenecks().iter().enumerate() {
            let path = format!("{name}.m.{i}");
            let inner = self.conv_bn(&format!("{path}.cv1"), bottleneck.cv1(), last, None)?;
            let dst = joined.part((2 + i) * half, half);
            last = self.conv_bn(&format!("{path}.cv2"), bottleneck.cv2(), inner, Some(dst))?;
        }
        self.conv_bn(&format!("{name}.cv2"), block.cv2(), joined, None)
    }

    /// Linear-Tanh layers from `src`, the last one writing `dst`.
    fn regress(
        &mut self,
        name: &str,
        head: &RegressHead,
        src: View,
        dst: View,
    ) -> Result<(), ModelError> {
        let mut x = src;
        for (i, layer) in head.layers().iter().enumerate() {
            let last = i + 1 == head.layers().len();
            let path = format!("{name}.layers.{i}");
            x = self.linear(&path, layer, Act::Tanh, x, last.then_some(dst))?;
        }
        if head.layers().is_empty() {
            return Err(layer_error(name, "the head has no linear layer".into()));
        }
        Ok(())
    }

    /// The face-score head into the output column `dst`.
    fn face_cls(&mut self, head: &FaceClsHead, x: View, dst: View) -> Result<(), ModelError> {
        let y = self.conv_bn("classifier.conv1", head.conv1(), x, None)?;
        let y = self.conv_bn("classifier.conv2", head.conv2(), y, None)?;
        let pooled = self.pooled("classifier", PoolKind::Max, &[y]);
        self.linear("classifier.fc", head.fc(), Act::Sigmoid, pooled, Some(dst))?;
        Ok(())
    }

    /// The pose head into the output columns `dst`.
    fn pose(&mut self, head: &PoseHead, x: View, dst: View) -> Result<(), ModelError> {
        let mut y = x;
        for (i, conv) in head.convs().iter().enumerate() {
            y = self.conv_bn(&format!("aux.convs.{i}"), conv, y, None)?;
        }
        let pooled = self.pooled("aux", PoolKind::Average, &[y]);
        self.regress("aux.head", head.head(), pooled, dst)
    }

    /// LWModel's stem (its own PReLU) and IdentifyBlocks.
    fn lw_backbone(&mut self, b: &LwBackbone, input: Shape) -> Result<View, ModelError> {
        let name = "backbone.conv11";
        let stem = b.stem();
        let folded = Folded::new(name, stem.conv(), Some(stem.bn()))?;
        let act = Act::Prelu(slope(&format!("{name}.act"), stem.prelu())?);
        let mut x = self.conv(name, folded, act, Source::Input(input), None, None)?;
        for (name, block) in b.blocks() {
            x = self.identify(name, block, x)?;
        }
        Ok(x)
    }

    /// LWModel's IdentifyBlocks and three average-pooled pyramid levels.
    fn lw_mainstream(&mut self, m: &LwMainstream, features: View) -> Result<View, ModelError> {
        let mut x = features;
        for (name, block) in m.blocks() {
            x = self.identify(name, block, x)?;
        }
        let mut levels = Vec::new();
        for (name, block) in m.pyramid() {
            x = self.identify(name, block, x)?;
            levels.push(x);
        }
        Ok(self.pooled("mainstream", PoolKind::Average, &levels))
    }

    /// LWCSPModel's stem convolution and two C2f blocks.
    fn csp_backbone(&mut self, b: &CspBackbone, input: Shape) -> Result<View, ModelError> {
        let name = "backbone.conv11";
        let stem = b.stem();
        let folded = Folded::new(name, stem.conv(), Some(stem.bn()))?;
        let act = if stem.has_activation() {
            self.act
        } else {
            Act::Identity
        };
        let mut x = self.conv(name, folded, act, Source::Input(input), None, None)?;
        for (name, block) in b.c2f_blocks() {
            x = self.c2f(name, block, x)?;
        }
        Ok(x)
    }

    /// LWCSPModel's Conv + C2f stages and three max-pooled levels.
    fn csp_mainstream(&mut self, m: &CspMainstream, features: View) -> Result<View, ModelError> {
        let mut x = features;
        let mut levels = Vec::new();
        for (k, stage) in m.stages().into_iter().enumerate() {
            let CspStage {
                conv: (conv_name, conv),
                c2f: (c2f_name, c2f),
            } = stage;
            x = self.conv_bn(conv_name, conv, x, None)?;
            x = self.c2f(c2f_name, c2f, x)?;
            if k > 0 {
                levels.push(x);
            }
        }
        Ok(self.pooled("mainstream", PoolKind::Max, &levels))
    }
}

/// Output channels of a `ConvBn`.
fn block_out(block: &ConvBn) -> usize {
    block.conv().weight.shape().dims::<4>()[0]
}
