//! The Ultra-Light-Fast-Generic-Face-Detector-1MB (RFB-320 or slim-320 ONNX files): the whole
//! image resized to the model's input (320x240), `(x - 127) / 128`, then face probabilities
//! above a threshold and hard NMS, as the original's `FaceDetector` does.

use crate::error::TrackError;
use crate::geometry::{Detection, FaceBox, hard_nms};
use crate::onnx::OnnxModel;
use crate::resize::resize_rgb;
use image::RgbImage;
use std::path::Path;

/// Input size of the published detectors, `[height, width]`.
pub const DETECTOR_INPUT: [usize; 2] = [240, 320];
/// Overlap above which NMS drops the weaker of two boxes (the original's value).
pub const NMS_IOU: f32 = 0.3;
/// Highest-scoring candidates NMS considers (the original's `candidate_size`).
const NMS_CANDIDATES: usize = 200;

/// A face detector running in tract.
#[derive(Debug, Clone)]
pub struct FaceDetector {
    model: OnnxModel,
    scores: usize,
    boxes: usize,
    threshold: f32,
}

impl FaceDetector {
    /// Loads an Ultra-Light detector ONNX file (outputs `scores` `[1, K, 2]` and `boxes`
    /// `[1, K, 4]`, normalised corners). Faces need a probability above `threshold`.
    pub fn load(path: &Path, threshold: f32) -> Result<Self, TrackError> {
        let model = OnnxModel::load(path, DETECTOR_INPUT, ROLE)?;
        let names = model.output_names();
        let find = |name: &str| names.iter().position(|n| n == name);
        let (scores, boxes) = match (find("scores"), find("boxes")) {
            (Some(s), Some(b)) => (s, b),
            _ if names.len() == 2 => (0, 1),
            _ => {
                return Err(TrackError::OnnxShape {
                    path: path.to_path_buf(),
                    role: ROLE,
                    message: format!(
                        "its outputs are {names:?}, expected `scores` [1, K, 2] and `boxes` [1, K, 4]"
                    ),
                });
            }
        };
        Ok(Self {
            model,
            scores,
            boxes,
            threshold,
        })
    }

    /// The minimum face probability.
    pub fn threshold(&self) -> f32 {
        self.threshold
    }

    /// The faces in `image`, in image pixels, best first.
    pub fn detect(&self, image: &RgbImage) -> Result<Vec<Detection>, TrackError> {
        let input = self.model.input();
        let rgb = resize_rgb(image, input.width, input.height);
        let outputs = self
            .model
            .run_rgb(&rgb, |v| (f32::from(v) - 127.0) / 128.0)?;
        let (score_shape, scores) = (&outputs[self.scores].shape, &outputs[self.scores].values);
        let (box_shape, boxes) = (&outputs[self.boxes].shape, &outputs[self.boxes].values);
        let k = boxes.len() / 4;
        if score_shape.last() != Some(&2) || box_shape.last() != Some(&4) || scores.len() != 2 * k {
            return Err(TrackError::OnnxShape {
                path: self.model.path().to_path_buf(),
                role: ROLE,
                message: format!(
                    "its outputs have shapes {score_shape:?} and {box_shape:?}, expected [1, K, 2] and [1, K, 4]"
                ),
            });
        }
        let (w, h) = (image.width() as f32, image.height() as f32);
        let candidates = scores
            .chunks_exact(2)
            .zip(boxes.chunks_exact(4))
            .filter(|(s, _)| s[1] > self.threshold)
            .map(|(s, b)| Detection {
                bbox: FaceBox::new(b[0], b[1], b[2], b[3]).scaled(w, h),
                score: s[1],
            })
            .collect();
        Ok(hard_nms(candidates, NMS_IOU, NMS_CANDIDATES))
    }
}

/// The detector's role in error messages.
const ROLE: &str = "the face detector";
