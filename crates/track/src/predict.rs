//! Faces of a still image: every detected face (or the whole image taken as a face crop when
//! there is no detector, as the original's predictor does) gets landmarks, a face score and a
//! head pose.

use crate::detector::FaceDetector;
use crate::error::TrackError;
use crate::geometry::{DETECTION_SCALE, DETECTION_SHIFT_Y, Detection, FaceBox};
use crate::landmarks::{FaceLandmarks, LandmarkPredictor};
use crate::pose::{FacePose, PoseEstimator};
use crate::record::{FaceRecord, angles};
use fdfat_data::CropBox;
use image::RgbImage;

/// One face of an image.
#[derive(Debug, Clone, PartialEq)]
pub struct PredictedFace {
    /// The detection, when a detector found the face.
    pub detection: Option<Detection>,
    /// The landmarks.
    pub landmarks: FaceLandmarks,
    /// Head pose of the landmarks.
    pub pose: Option<FacePose>,
}

impl PredictedFace {
    /// The face box: the detector's, else the cropped region.
    pub fn bbox(&self) -> FaceBox {
        self.detection.map_or_else(
            || {
                let c = self.landmarks.crop;
                FaceBox::new(c.x0 as f32, c.y0 as f32, c.x1 as f32, c.y1 as f32)
            },
            |d| d.bbox,
        )
    }

    /// The JSON record of this face.
    pub fn record(&self) -> FaceRecord {
        let (yaw, pitch, roll) = angles(self.pose.as_ref());
        FaceRecord {
            bbox: self.bbox(),
            score: self.detection.map(|d| d.score),
            landmarks: self.landmarks.points.clone(),
            face_score: self.landmarks.face_score,
            yaw,
            pitch,
            roll,
        }
    }
}

/// Landmarks and head pose for still images.
#[derive(Debug)]
pub struct Predictor {
    detector: Option<FaceDetector>,
    landmarks: LandmarkPredictor,
    pose: Option<PoseEstimator>,
}

impl Predictor {
    /// A predictor; without a detector every image is taken as one face crop. Head pose needs
    /// a landmark scheme with a mapping onto the 68 iBUG points.
    pub fn new(detector: Option<FaceDetector>, landmarks: LandmarkPredictor) -> Self {
        Self {
            pose: PoseEstimator::for_points(landmarks.points()).ok(),
            detector,
            landmarks,
        }
    }

    /// Whether a detector finds the faces.
    pub fn has_detector(&self) -> bool {
        self.detector.is_some()
    }

    /// The landmark model.
    pub fn landmarks(&self) -> &LandmarkPredictor {
        &self.landmarks
    }

    /// The faces of `image`, best detection first.
    pub fn predict(&self, image: &RgbImage) -> Result<Vec<PredictedFace>, TrackError> {
        let (w, h) = image.dimensions();
        let mut faces = Vec::new();
        match &self.detector {
            Some(detector) => {
                for d in detector.detect(image)? {
                    let region = d.bbox.landmark_crop(DETECTION_SHIFT_Y, DETECTION_SCALE);
                    if let Some(found) = self.landmarks.predict(image, &region)? {
                        faces.push((Some(d), found));
                    }
                }
            }
            None if w > 0 && h > 0 => {
                let found = self.landmarks.predict_crop(image, &CropBox::whole(w, h))?;
                faces.push((None, found));
            }
            None => {}
        }
        Ok(faces
            .into_iter()
            .map(|(detection, landmarks)| PredictedFace {
                pose: self
                    .pose
                    .as_ref()
                    .and_then(|p| p.solve(&landmarks.points, w, h)),
                detection,
                landmarks,
            })
            .collect())
    }
}
