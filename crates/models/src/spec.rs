//! What a model is, read from the configuration: architecture, activation, widths, heads.

use crate::error::ModelError;
use fdfat_config::{Activation, Config, ModelKind};
use std::fmt;

/// The largest width multiplier accepted (the published models use 1.0).
pub const MAX_MULTIPLIER: f64 = 8.0;

/// The configuration keys that shape a model (`model`, `activation`, `muliplier`, `lmk_num`,
/// `face_cls`, `aux_pose`, `imgsz`, `freeze_landmark`).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct ModelSpec {
    /// Architecture (`model`).
    pub kind: ModelKind,
    /// Activation of every block except the LWModel stem, which always uses PReLU (`activation`).
    pub activation: Activation,
    /// Width multiplier (`muliplier`).
    pub multiplier: f64,
    /// Landmark points regressed (`lmk_num`).
    pub points: usize,
    /// Face / non-face score head (`face_cls`).
    pub face_cls: bool,
    /// Head-pose head (`aux_pose`).
    pub aux_pose: bool,
    /// Square input side in pixels (`imgsz`).
    pub imgsz: usize,
    /// Backbone, mainstream, landmark and pose heads frozen (`freeze_landmark`).
    pub freeze_landmark: bool,
}

impl ModelSpec {
    /// The model `cfg` describes, with its values checked.
    pub fn from_config(cfg: &Config) -> Result<Self, ModelError> {
        let spec = Self {
            kind: cfg.model,
            activation: cfg.activation,
            multiplier: cfg.muliplier,
            points: cfg.lmk_num,
            face_cls: cfg.face_cls,
            aux_pose: cfg.aux_pose,
            imgsz: cfg.imgsz,
            freeze_landmark: cfg.freeze_landmark,
        };
        spec.check()?;
        Ok(spec)
    }

    /// Checks the values the architecture depends on (the input size is checked against the
    /// layers when the model is built).
    pub fn check(&self) -> Result<(), ModelError> {
        let m = self.multiplier;
        if !m.is_finite() || m <= 0.0 || m > MAX_MULTIPLIER {
            return Err(ModelError::InvalidConfig {
                key: "muliplier",
                value: m.to_string(),
                reason: format!("expected a number in (0, {MAX_MULTIPLIER}]"),
            });
        }
        let narrowest = match self.kind {
            ModelKind::LwModel => 16,
            ModelKind::LwCspModel => 8,
        };
        if self.width(narrowest) == 0 {
            return Err(ModelError::InvalidConfig {
                key: "muliplier",
                value: m.to_string(),
                reason: format!(
                    "{} would have a layer of int({narrowest} x {m}) = 0 channels",
                    self.kind
                ),
            });
        }
        if self.points == 0 {
            return Err(ModelError::InvalidConfig {
                key: "lmk_num",
                value: "0".into(),
                reason: "the model needs at least one landmark point".into(),
            });
        }
        Ok(())
    }

    /// A layer width scaled by the multiplier and truncated, as the original's `int(c * m)`.
    pub fn width(&self, base: usize) -> usize {
        (base as f64 * self.multiplier) as usize
    }

    /// Number of landmark outputs: `2 * points` (x, y pairs).
    pub fn landmark_outputs(&self) -> usize {
        2 * self.points
    }

    /// Length of an output row: landmarks, then the face score, then 3 pose values.
    pub fn output_len(&self) -> usize {
        self.landmark_outputs() + usize::from(self.face_cls) + if self.aux_pose { 3 } else { 0 }
    }
}

impl fmt::Display for ModelSpec {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{} ({}, x{:?}, {} points",
            self.kind, self.activation, self.multiplier, self.points
        )?;
        if self.face_cls {
            f.write_str(", face-cls head")?;
        }
        if self.aux_pose {
            f.write_str(", pose head")?;
        }
        write!(f, ", {0}x{0} input)", self.imgsz)
    }
}
