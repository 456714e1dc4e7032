//! The two architectures' wiring, as `fdfat-models` builds them (`lw.rs`, `lwcsp.rs`,
//! `model.rs`): block order, strides, pools and heads. Each returns the output pieces in the
//! order of an output row: landmarks, face score (when `classifier.*` exists), pose (`aux.*`).

use super::{Lowering, Value};
use crate::error::ExportError;

/// LWModel blocks after the stem: path and stride.
const LW_BACKBONE: [(&str, usize); 5] = [
    ("backbone.conv21", 2),
    ("backbone.conv22", 1),
    ("backbone.conv23", 1),
    ("backbone.conv24", 1),
    ("backbone.conv25", 1),
];

/// LWModel mainstream blocks before the pyramid.
const LW_MAINSTREAM: [(&str, usize); 6] = [
    ("mainstream.conv11", 2),
    ("mainstream.conv21", 1),
    ("mainstream.conv22", 1),
    ("mainstream.conv23", 1),
    ("mainstream.conv24", 1),
    ("mainstream.conv25", 1),
];

/// LWModel pyramid blocks, each output average-pooled into the landmark features.
const LW_PYRAMID: [(&str, usize); 3] = [
    ("mainstream.convp1", 1),
    ("mainstream.convp2", 2),
    ("mainstream.convp3", 1),
];

/// LWCSPModel stages: a stride-2 convolution and a C2f; the last three outputs are
/// max-pooled into the landmark features.
const CSP_STAGES: [(&str, &str); 4] = [
    ("mainstream.conv11", "mainstream.conv12"),
    ("mainstream.conv21", "mainstream.conv22"),
    ("mainstream.convp21", "mainstream.convp22"),
    ("mainstream.convp31", "mainstream.convp32"),
];

impl Lowering<'_> {
    /// LWModel: PReLU stem, IdentifyBlocks, three average-pooled pyramid levels.
    pub(super) fn lw(&mut self, input: Value) -> Result<Vec<Value>, ExportError> {
        let mut x = self.stem(&input, "backbone.conv11")?;
        for (path, stride) in LW_BACKBONE {
            x = self.identify(&x, path, stride)?;
        }
        let heads = self.side_heads(&x)?;
        for (path, stride) in LW_MAINSTREAM {
            x = self.identify(&x, path, stride)?;
        }
        let mut levels = Vec::new();
        for (path, stride) in LW_PYRAMID {
            x = self.identify(&x, path, stride)?;
            levels.push(x.clone());
        }
        let features = self.pooled(&levels, "/mainstream", "GlobalAveragePool");
        let mut outputs = vec![self.regress(&features, "logit")?];
        outputs.extend(heads);
        Ok(outputs)
    }

    /// LWCSPModel: Conv and two C2f, then Conv + C2f stages, three max-pooled levels.
    pub(super) fn csp(&mut self, input: Value) -> Result<Vec<Value>, ExportError> {
        let x = self.conv_bn_act(&input, "backbone.conv11", 2)?;
        let x = self.c2f(&x, "backbone.c2f1")?;
        let mut x = self.c2f(&x, "backbone.c2f2")?;
        let heads = self.side_heads(&x)?;
        let mut levels = Vec::new();
        for (k, (conv, c2f)) in CSP_STAGES.into_iter().enumerate() {
            x = self.conv_bn_act(&x, conv, 2)?;
            x = self.c2f(&x, c2f)?;
            if k > 0 {
                levels.push(x.clone());
            }
        }
        let features = self.pooled(&levels, "/mainstream", "GlobalMaxPool");
        let mut outputs = vec![self.regress(&features, "logit")?];
        outputs.extend(heads);
        Ok(outputs)
    }

    /// The face-score and pose heads on the backbone features, those the model has.
    fn side_heads(&mut self, features: &Value) -> Result<Vec<Value>, ExportError> {
        let mut heads = Vec::new();
        if self.w.contains("classifier.fc.weight") {
            heads.push(self.face_cls(features)?);
        }
        if self.w.contains("aux.convs.0.conv.weight") {
            heads.push(self.pose(features)?);
        }
        Ok(heads)
    }
}
