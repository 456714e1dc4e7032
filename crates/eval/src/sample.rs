//! What the caller gives the evaluator for one image: predicted and ground-truth points in
//! original-image pixels, the image's size, and optionally a face score with its label and the
//! WFLW attribute flags.

use crate::error::EvalError;
pub use fdfat_data::WflwAttributes as Attributes;

/// The face classifier's output for one image and whether the image really is a face.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct FaceScore {
    /// Predicted face probability in `[0, 1]`; `>= 0.5` counts as "face".
    pub score: f64,
    /// Whether the image is a face.
    pub is_face: bool,
}

/// One evaluated image.
#[derive(Debug, Clone, PartialEq)]
pub struct Sample {
    /// The image path (as the report will show it).
    pub image: String,
    /// Image width in pixels (head pose uses it as the focal length).
    pub width: u32,
    /// Image height in pixels.
    pub height: u32,
    /// Predicted points in the prediction scheme, original-image pixels.
    pub pred: Vec<[f64; 2]>,
    /// Ground-truth points in the data scheme, original-image pixels.
    pub gt: Vec<[f64; 2]>,
    /// Face score and label, when the model has the face-classification head.
    pub face: Option<FaceScore>,
    /// WFLW attribute flags, when the data has them.
    pub attributes: Option<Attributes>,
}

impl Sample {
    /// A face with predicted and ground-truth points.
    pub fn new(
        image: impl Into<String>,
        (width, height): (u32, u32),
        pred: Vec<[f64; 2]>,
        gt: Vec<[f64; 2]>,
    ) -> Self {
        Self {
            image: image.into(),
            width,
            height,
            pred,
            gt,
            face: None,
            attributes: None,
        }
    }

    /// Adds the face score of this (face) image.
    pub fn with_face_score(mut self, score: f64) -> Self {
        self.face = Some(FaceScore {
            score,
            is_face: true,
        });
        self
    }

    /// Adds WFLW attribute flags.
    pub fn with_attributes(mut self, attributes: Attributes) -> Self {
        self.attributes = Some(attributes);
        self
    }
}

/// Points from a flat `x0, y0, x1, y1, ...` list (the models' output layout).
pub fn points_from_flat(flat: &[f32]) -> Result<Vec<[f64; 2]>, EvalError> {
    if !flat.len().is_multiple_of(2) {
        return Err(EvalError::OddCoordinates(flat.len()));
    }
    Ok(flat
        .chunks_exact(2)
        .map(|c| [f64::from(c[0]), f64::from(c[1])])
        .collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn flat_lists_become_pairs() {
        assert_eq!(
            points_from_flat(&[1.0, 2.0, 3.5, 4.0]).unwrap(),
            vec![[1.0, 2.0], [3.5, 4.0]]
        );
        assert!(
            points_from_flat(&[1.0, 2.0, 3.0])
                .unwrap_err()
                .to_string()
                .contains("3 values")
        );
    }
}
