//! [`LandmarkModel`]: either architecture with its heads, as the configuration describes it.

use crate::blocks::{Activation, FaceClsHead, PoseHead, RegressHead};
use crate::cost::Feature;
use crate::error::ModelError;
use crate::lw::{LwBackbone, LwMainstream};
use crate::lwcsp::{CspBackbone, CspMainstream};
use crate::spec::ModelSpec;
use crate::summary::{BlockError, BlockRow, ModelSummary, Rows, count_elements};
use burn::module::Module;
use burn::tensor::{Device, Tensor};
use fdfat_config::{Config, ModelKind};
use std::ops::Range;

/// The feature extractor shared by all heads.
#[allow(
    clippy::large_enum_variant,
    reason = "one per model, built once; burn modules cannot be boxed"
)]
#[derive(Module, Debug)]
pub enum Backbone {
    /// LWModel's PReLU stem and IdentifyBlocks.
    Lw(LwBackbone),
    /// LWCSPModel's Conv and C2f blocks.
    Csp(CspBackbone),
}

/// The landmark branch after the backbone, ending in concatenated global pools.
#[allow(
    clippy::large_enum_variant,
    reason = "one per model, built once; burn modules cannot be boxed"
)]
#[derive(Module, Debug)]
pub enum Mainstream {
    /// LWModel's IdentifyBlock pyramid with average pools.
    Lw(LwMainstream),
    /// LWCSPModel's Conv + C2f pyramid with max pools.
    Csp(CspMainstream),
}

/// A facial-landmark network: LWModel or LWCSPModel with the landmark head, and the face-cls
/// and pose heads when configured. Tensor paths (`backbone.conv21.conv1.conv.weight`) follow
/// the original's module names.
///
/// Output rows are `2 * points` landmark coordinates (x, y pairs in [-0.5, 0.5] through tanh),
/// then the face score (sigmoid) when `face_cls`, then 3 pose values when `aux_pose`.
#[derive(Module, Debug)]
pub struct LandmarkModel {
    pub(crate) backbone: Backbone,
    pub(crate) mainstream: Mainstream,
    pub(crate) logit: RegressHead,
    pub(crate) classifier: Option<FaceClsHead>,
    pub(crate) aux: Option<PoseHead>,
    pub(crate) act: Activation,
    #[module(skip)]
    pub(crate) spec: ModelSpec,
}

impl LandmarkModel {
    /// The model `cfg` describes (`model`, `activation`, `muliplier`, `lmk_num`, `face_cls`,
    /// `aux_pose`, `imgsz`, `freeze_landmark`) with fresh weights on `device`.
    ///
    /// For training, pass an autodiff device (`device.autodiff()`).
    pub fn new(cfg: &Config, device: &Device) -> Result<Self, ModelError> {
        Self::from_spec(ModelSpec::from_config(cfg)?, device)
    }

    /// The model `spec` describes, with fresh weights on `device`.
    pub fn from_spec(spec: ModelSpec, device: &Device) -> Result<Self, ModelError> {
        spec.check()?;
        let (backbone, mainstream, features, head_in) = match spec.kind {
            ModelKind::LwModel => (
                Backbone::Lw(LwBackbone::new(&spec, device)),
                Mainstream::Lw(LwMainstream::new(&spec, device)),
                LwMainstream::out_features(&spec),
                LwBackbone::out_channels(&spec),
            ),
            ModelKind::LwCspModel => (
                Backbone::Csp(CspBackbone::new(&spec, device)),
                Mainstream::Csp(CspMainstream::new(&spec, device)),
                CspMainstream::out_features(&spec),
                CspBackbone::out_channels(&spec),
            ),
        };
        let outputs = spec.landmark_outputs();
        let logit = match spec.kind {
            ModelKind::LwModel => RegressHead::new(&[features, 2 * outputs, outputs], device),
            ModelKind::LwCspModel => RegressHead::new(&[features, outputs], device),
        };
        let classifier = spec
            .face_cls
            .then(|| FaceClsHead::new(head_in, spec.width(32), spec.width(64), device));
        let aux = spec
            .aux_pose
            .then(|| PoseHead::new(head_in, |c| spec.width(c), device));
        let model = Self {
            backbone,
            mainstream,
            logit,
            classifier,
            aux,
            act: Activation::new(spec.activation, device),
            spec,
        };
        model
            .rows(Feature::square(3, spec.imgsz), Rows::shapes_only())
            .map_err(|e| imgsz_error(&spec, e))?;
        Ok(if spec.freeze_landmark {
            model.freeze_landmark()
        } else {
            model
        })
    }

    /// Freezes the backbone, mainstream, landmark head, pose head and the shared activation
    /// (a PReLU slope), as the original's `freeze()`: their tensors get no gradient, so an
    /// optimizer leaves them unchanged, and their BatchNorm layers normalise with, and keep,
    /// their running statistics in training mode. The face-cls head stays trainable.
    fn freeze_landmark(self) -> Self {
        Self {
            backbone: self.backbone.freeze(),
            mainstream: self.mainstream.freeze(),
            logit: self.logit.freeze(),
            aux: self.aux.map(Module::freeze),
            act: self.act.freeze(),
            ..self
        }
    }

    /// Runs the model on a batch `[N, 3, H, W]` (normalised pixels `x / 127.5 - 1`): `[N,
    /// output_len()]`.
    ///
    /// # Panics
    ///
    /// When the input is not `[N, 3, H, W]` with a size the architecture can take (the
    /// configured `imgsz` always works); [`Self::check_input`] says so without panicking.
    pub fn forward(&self, x: Tensor<4>) -> Tensor<2> {
        let act = &self.act;
        let features = match &self.backbone {
            Backbone::Lw(b) => b.forward(x, act),
            Backbone::Csp(b) => b.forward(x, act),
        };
        let pose = self.aux.as_ref().map(|h| h.forward(features.clone(), act));
        let face = self
            .classifier
            .as_ref()
            .map(|h| h.forward(features.clone(), act));
        let pooled = match &self.mainstream {
            Mainstream::Lw(m) => m.forward(features, act),
            Mainstream::Csp(m) => m.forward(features, act),
        };
        let mut outputs = vec![self.logit.forward(pooled)];
        outputs.extend(face);
        outputs.extend(pose);
        Tensor::cat(outputs, 1)
    }

    /// Checks that [`Self::forward`] can take an input of shape `dims` (`[N, C, H, W]`).
    pub fn check_input(&self, dims: [usize; 4]) -> Result<(), ModelError> {
        let invalid = |reason: String| ModelError::InvalidInput { dims, reason };
        if dims[0] == 0 {
            return Err(invalid("the batch is empty".into()));
        }
        if dims[1] != 3 {
            return Err(invalid(format!(
                "expected 3 (RGB) channels, got {}",
                dims[1]
            )));
        }
        let input = Feature {
            channels: 3,
            height: dims[2],
            width: dims[3],
        };
        self.rows(input, Rows::shapes_only())
            .map(|_| ())
            .map_err(|e| invalid(format!("block `{}`: {}", e.block, e.reason)))
    }

    /// Walks `input` through the blocks, recording a row per block into `rows`.
    fn rows(&self, input: Feature, mut rows: Rows) -> Result<Vec<BlockRow>, BlockError> {
        let features = match &self.backbone {
            Backbone::Lw(b) => b.rows(input, &mut rows)?,
            Backbone::Csp(b) => b.rows(input, &mut rows)?,
        };
        if let Some(head) = &self.classifier {
            rows.feature("classifier", head, head.walk(features))?;
        }
        if let Some(head) = &self.aux {
            rows.feature("aux", head, head.walk(features))?;
        }
        match &self.mainstream {
            Mainstream::Lw(m) => m.rows(features, &mut rows)?,
            Mainstream::Csp(m) => m.rows(features, &mut rows)?,
        }
        rows.head(
            "logit",
            &self.logit,
            self.spec.landmark_outputs(),
            self.logit.macs(),
        );
        Ok(rows.rows)
    }

    /// Parameters and multiply-adds per block at the configured input size, and totals.
    pub fn summary(&self) -> Result<ModelSummary, ModelError> {
        let input = Feature::square(3, self.spec.imgsz);
        let rows = self
            .rows(input, Rows::with_params())
            .map_err(|e| imgsz_error(&self.spec, e))?;
        let (params, running_stats) = count_elements(self);
        let frozen_params = if self.spec.freeze_landmark {
            params - self.classifier.as_ref().map_or(0, |h| count_elements(h).0)
        } else {
            0
        };
        Ok(ModelSummary {
            spec: self.spec,
            macs: rows.iter().map(|r| r.macs).sum(),
            rows,
            params,
            frozen_params,
            running_stats,
        })
    }

    /// What the model is.
    pub fn spec(&self) -> &ModelSpec {
        &self.spec
    }

    /// Number of landmark values at the start of an output row (`2 * points`).
    pub fn landmark_outputs(&self) -> usize {
        self.spec.landmark_outputs()
    }

    /// Length of an output row.
    pub fn output_len(&self) -> usize {
        self.spec.output_len()
    }

    /// Column of the face score in an output row, when the model has the face-cls head.
    pub fn face_cls_index(&self) -> Option<usize> {
        self.spec.face_cls.then(|| self.landmark_outputs())
    }

    /// Columns of the 3 pose values in an output row, when the model has the pose head.
    pub fn pose_range(&self) -> Option<Range<usize>> {
        let start = self.landmark_outputs() + usize::from(self.spec.face_cls);
        self.spec.aux_pose.then(|| start..start + 3)
    }

    /// Whether the landmark part is frozen (`freeze_landmark`, stage 2 face-cls training).
    pub fn is_landmark_frozen(&self) -> bool {
        self.spec.freeze_landmark
    }

    /// Trainable parameters (BatchNorm running statistics excluded), frozen ones included.
    pub fn num_trainable_params(&self) -> usize {
        count_elements(self).0
    }

    /// The feature extractor (module path `backbone`).
    pub fn backbone(&self) -> &Backbone {
        &self.backbone
    }

    /// The landmark branch on the backbone's features (module path `mainstream`).
    pub fn mainstream(&self) -> &Mainstream {
        &self.mainstream
    }

    /// The landmark head on the mainstream's pooled features (module path `logit`): the first
    /// [`Self::landmark_outputs`] values of an output row.
    pub fn logit(&self) -> &RegressHead {
        &self.logit
    }

    /// The face-cls head on the backbone's features (module path `classifier`), when the
    /// model has it: the value at [`Self::face_cls_index`].
    pub fn classifier(&self) -> Option<&FaceClsHead> {
        self.classifier.as_ref()
    }

    /// The pose head on the backbone's features (module path `aux`), when the model has it:
    /// the values at [`Self::pose_range`].
    pub fn aux(&self) -> Option<&PoseHead> {
        self.aux.as_ref()
    }

    /// The activation every block shares (module path `act`; a PReLU has one slope for the
    /// whole model). LWModel's stem has its own PReLU ([`StemConv::prelu`]).
    ///
    /// [`StemConv::prelu`]: crate::blocks::StemConv::prelu
    pub fn activation(&self) -> &Activation {
        &self.act
    }
}

/// The error for an `imgsz` that block `e.block` cannot take.
fn imgsz_error(spec: &ModelSpec, e: BlockError) -> ModelError {
    ModelError::InvalidConfig {
        key: "imgsz",
        value: spec.imgsz.to_string(),
        reason: format!("block `{}` cannot take it: {}", e.block, e.reason),
    }
}
