//! One annotated (or non-face) image of a dataset.

use serde::{Deserialize, Serialize};
use std::path::PathBuf;

/// The six WFLW attribute flags. `None` when the annotation list does not say (the 197-field
/// test-subset lists only tell the attribute their file is named after).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct WflwAttributes {
    /// Large pose.
    pub pose: Option<bool>,
    /// Exaggerated expression.
    pub expression: Option<bool>,
    /// Extreme illumination.
    pub illumination: Option<bool>,
    /// Make-up.
    pub makeup: Option<bool>,
    /// Occlusion.
    pub occlusion: Option<bool>,
    /// Blur.
    pub blur: Option<bool>,
}

impl WflwAttributes {
    /// The attribute names, in the order of the WFLW annotation fields (and of the official
    /// test-subset file names `list_98pt_test_<name>.txt`, where make-up is spelt `makeup`).
    pub const NAMES: [&'static str; 6] = [
        "pose",
        "expression",
        "illumination",
        "makeup",
        "occlusion",
        "blur",
    ];

    /// The flags in [`Self::NAMES`] order.
    pub fn flags(&self) -> [Option<bool>; 6] {
        [
            self.pose,
            self.expression,
            self.illumination,
            self.makeup,
            self.occlusion,
            self.blur,
        ]
    }

    /// Builds the attributes from flags in [`Self::NAMES`] order.
    pub fn from_flags(flags: [Option<bool>; 6]) -> Self {
        let [pose, expression, illumination, makeup, occlusion, blur] = flags;
        WflwAttributes {
            pose,
            expression,
            illumination,
            makeup,
            occlusion,
            blur,
        }
    }

    /// The flag named `name` (one of [`Self::NAMES`]; `largepose` is accepted for `pose`).
    pub fn get(&self, name: &str) -> Option<bool> {
        let name = if name == "largepose" { "pose" } else { name };
        let i = Self::NAMES.iter().position(|n| *n == name)?;
        self.flags()[i]
    }
}

/// A head pose in degrees (the true pose of a `--task synth` sample). The rotation is
/// `R = Rz(roll) * Ry(yaw) * Rx(pitch)` in OpenCV camera axes (x right, y down, z away from the
/// camera), applied to the mean face `(x, y, -z)` of the scheme's `mean_shape_3d`. A positive
/// yaw turns the nose towards the image left, a positive pitch tilts it down, a positive roll
/// turns the face clockwise on screen.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Pose {
    /// Rotation about the vertical axis, degrees.
    pub yaw: f32,
    /// Rotation about the horizontal axis, degrees.
    pub pitch: f32,
    /// Rotation about the optical axis, degrees.
    pub roll: f32,
}

/// One image of a split with its annotation.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Sample {
    /// The image file.
    pub image: PathBuf,
    /// The annotation file it was read from (a list file for WFLW), when there is one.
    pub annotation: Option<PathBuf>,
    /// Landmarks in original image pixels, 0-based, in the dataset's scheme order. Empty for
    /// samples without landmarks (non-face images and face crops).
    pub landmarks: Vec<[f32; 2]>,
    /// Whether the image shows a face.
    pub is_face: bool,
    /// Image width and height in pixels, read from the file header when the dataset was opened.
    pub image_size: [u32; 2],
    /// The WFLW detection rectangle `[x_min, y_min, x_max, y_max]`, when annotated.
    pub face_rect: Option<[f32; 4]>,
    /// WFLW attributes, when annotated.
    pub attributes: Option<WflwAttributes>,
    /// The true head pose (toy datasets written by `--task synth`).
    pub pose: Option<Pose>,
}

impl Sample {
    /// Whether the sample has landmark annotations.
    pub fn has_landmarks(&self) -> bool {
        !self.landmarks.is_empty()
    }
}
