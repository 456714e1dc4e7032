//! The blocks of both architectures as ONNX nodes: the LWModel stem and `IdentifyBlock`, the
//! CSP `C2f`, and the heads (landmark regression, face score, head pose).

use super::{Lowering, Value, scope_of};
use crate::error::ExportError;
use crate::proto;

/// Strides of the pose head's four convolutions.
const POSE_STRIDES: [usize; 4] = [2, 1, 2, 1];

impl Lowering<'_> {
    /// The LWModel stem at `path`: a stride-2 convolution, BatchNorm and its own PReLU.
    pub(super) fn stem(&mut self, x: &Value, path: &str) -> Result<Value, ExportError> {
        let y = self.conv_bn(x, path, 2)?;
        let slope = self.slope(&format!("{path}.act.alpha"))?;
        let name = self.g.op(
            &format!("{}/act", scope_of(path)),
            "PRelu",
            &[&y.name, &slope],
            vec![],
        );
        Ok(Value {
            name,
            channels: y.channels,
        })
    }

    /// An `IdentifyBlock` at `path`: 1x1 expand, depth-wise 3x3 with `stride`, linear 1x1,
    /// plus the input when the widths match (through a 2x2 max pool at stride 2).
    pub(super) fn identify(
        &mut self,
        x: &Value,
        path: &str,
        stride: usize,
    ) -> Result<Value, ExportError> {
        let y = self.conv_bn_act(x, &format!("{path}.conv1"), 1)?;
        let y = self.conv_bn_act(&y, &format!("{path}.conv2"), stride)?;
        let y = self.conv_bn(&y, &format!("{path}.conv3"), 1)?;
        if y.channels != x.channels {
            return Ok(y);
        }
        let scope = scope_of(path);
        let skip = if stride == 2 {
            self.g.op(
                &format!("{scope}/pool"),
                "MaxPool",
                &[&x.name],
                vec![
                    proto::attr_ints("kernel_shape", &[2, 2]),
                    proto::attr_ints("strides", &[2, 2]),
                ],
            )
        } else {
            x.name.clone()
        };
        Ok(Value {
            name: self.g.op(&scope, "Add", &[&y.name, &skip], vec![]),
            channels: y.channels,
        })
    }

    /// A `C2f` at `path`: 1x1 to two halves, each bottleneck (two 3x3) on the last part, all
    /// parts concatenated, 1x1. The two halves are concatenated as the 1x1's whole output and
    /// only the second is sliced out for the bottleneck: the same values as a split, with half
    /// the copying (onnxruntime runs LWCSP 3-4% faster than with `Split`).
    pub(super) fn c2f(&mut self, x: &Value, path: &str) -> Result<Value, ExportError> {
        let cv1 = format!("{path}.cv1");
        let y = self.conv_bn_act(x, &cv1, 1)?;
        if y.channels % 2 != 0 {
            return Err(ExportError::Weights {
                path: format!("{cv1}.conv.weight"),
                reason: format!("{} output channels do not halve", y.channels),
            });
        }
        let half = y.channels / 2;
        let scope = scope_of(path);
        let starts = self.g.ints(&format!("{path}.slice.starts"), &[half as i64]);
        let ends = self
            .g
            .ints(&format!("{path}.slice.ends"), &[y.channels as i64]);
        let axes = self.g.ints(&format!("{path}.slice.axes"), &[1]);
        let mut last = Value {
            name: self
                .g
                .op(&scope, "Slice", &[&y.name, &starts, &ends, &axes], vec![]),
            channels: half,
        };
        let mut parts = vec![y];
        let mut k = 0;
        while self.w.contains(&format!("{path}.m.{k}.cv1.conv.weight")) {
            let inner = self.conv_bn_act(&last, &format!("{path}.m.{k}.cv1"), 1)?;
            last = self.conv_bn_act(&inner, &format!("{path}.m.{k}.cv2"), 1)?;
            parts.push(last.clone());
            k += 1;
        }
        let names: Vec<&str> = parts.iter().map(|p| p.name.as_str()).collect();
        let joined = Value {
            name: self
                .g
                .op(&scope, "Concat", &names, vec![proto::attr_int("axis", 1)]),
            channels: parts.iter().map(|p| p.channels).sum(),
        };
        self.conv_bn_act(&joined, &format!("{path}.cv2"), 1)
    }

    /// Linear layers `<path>.layers.<k>`, each followed by tanh.
    pub(super) fn regress(&mut self, x: &Value, path: &str) -> Result<Value, ExportError> {
        let mut x = x.clone();
        let mut k = 0;
        while self.w.contains(&format!("{path}.layers.{k}.weight")) {
            let layer = format!("{path}.layers.{k}");
            let y = self.linear(&x, &layer)?;
            x = self.unary(&y, &scope_of(&layer), "Tanh");
            k += 1;
        }
        if k == 0 {
            return Err(ExportError::Weights {
                path: format!("{path}.layers.0.weight"),
                reason: "the head has no linear layer".into(),
            });
        }
        Ok(x)
    }

    /// The face-score head at `classifier`: two stride-2 depth-wise convolutions, global max
    /// pool, linear, sigmoid: `[N, 1]`.
    pub(super) fn face_cls(&mut self, features: &Value) -> Result<Value, ExportError> {
        let y = self.conv_bn_act(features, "classifier.conv1", 2)?;
        let y = self.conv_bn_act(&y, "classifier.conv2", 2)?;
        let pooled = self.pooled(&[y], "/classifier", "GlobalMaxPool");
        let logit = self.linear(&pooled, "classifier.fc")?;
        Ok(self.unary(&logit, "/classifier", "Sigmoid"))
    }

    /// The head-pose head at `aux`: four 3x3 convolutions, global average pool, Linear-Tanh
    /// layers: `[N, 3]`.
    pub(super) fn pose(&mut self, features: &Value) -> Result<Value, ExportError> {
        let mut y = features.clone();
        for (k, stride) in POSE_STRIDES.into_iter().enumerate() {
            y = self.conv_bn_act(&y, &format!("aux.convs.{k}"), stride)?;
        }
        let pooled = self.pooled(&[y], "/aux", "GlobalAveragePool");
        self.regress(&pooled, "aux.head")
    }
}
