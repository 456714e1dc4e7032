//! The per-frame tracking pipeline (the original's `FacialSORT` loop, synchronous): the
//! detector runs at most `track_detector_fps` times per second of input time; on those frames
//! each detection is cropped as the original does (shift down 0.13, scale 1.1), aligned, gated
//! on the face score and matched to the tracks by SORT; on the frames between, each track is
//! aligned in its predicted box. Reported tracks get a head pose from their landmarks.
//!
//! Frame times come from the input (frame index / frame rate), not the wall clock, so a run is
//! reproducible whatever the machine's speed.

use crate::detector::FaceDetector;
use crate::error::TrackError;
use crate::geometry::{DETECTION_SCALE, DETECTION_SHIFT_Y, FaceBox, LANDMARK_BOX_SCALE};
use crate::landmarks::{FaceLandmarks, LandmarkPredictor};
use crate::pose::{FacePose, PoseEstimator};
use crate::record::{FrameRecord, TrackRecord, angles};
use crate::smoother::SmootherParams;
use crate::sort::{Measurement, Sort, SortParams, Track};
use fdfat_config::Config;
use image::RgbImage;
use std::time::{Duration, Instant};

/// The tracking pipeline's settings.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct TrackerParams {
    /// Detector runs per second of input at most (`track_detector_fps`).
    pub detector_fps: f64,
    /// Minimum face-cls probability of a face (`track_face_threshold`); ignored for models
    /// without the head.
    pub face_threshold: f32,
    /// SORT settings.
    pub sort: SortParams,
}

impl TrackerParams {
    /// The settings of `cfg` (`track_*` keys, the smoother of `track_smoother`).
    pub fn from_config(cfg: &Config) -> Self {
        Self {
            detector_fps: cfg.track_detector_fps,
            face_threshold: cfg.track_face_threshold as f32,
            sort: SortParams {
                iou_threshold: cfg.track_sort_iou_threshold as f32,
                max_age: cfg.track_max_age,
                min_hits: cfg.track_min_hit,
                smoother: SmootherParams::from_config(cfg),
            },
        }
    }
}

/// A reported face of one frame.
#[derive(Debug, Clone, PartialEq)]
pub struct TrackedFace {
    /// The track id.
    pub id: u64,
    /// The face box around the landmarks.
    pub bbox: FaceBox,
    /// Landmarks in image pixels, as the track's smoother gives them.
    pub points: Vec<[f32; 2]>,
    /// The last measured landmarks.
    pub raw_points: Vec<[f32; 2]>,
    /// The last face-cls probability.
    pub face_score: Option<f32>,
    /// Head pose of `points`.
    pub pose: Option<FacePose>,
}

impl TrackedFace {
    /// The JSON record of this face.
    pub fn record(&self) -> TrackRecord {
        let (yaw, pitch, roll) = angles(self.pose.as_ref());
        TrackRecord {
            id: self.id,
            bbox: self.bbox,
            landmarks: self.points.clone(),
            face_score: self.face_score,
            yaw,
            pitch,
            roll,
        }
    }
}

/// Time spent per stage on one frame.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct FrameTimings {
    /// The detector, when it ran.
    pub detector: Option<Duration>,
    /// All landmark-model runs.
    pub landmarks: Duration,
    /// Number of landmark-model runs.
    pub landmark_runs: usize,
    /// Association, Kalman filters and head pose.
    pub tracking: Duration,
}

/// What one frame gave.
#[derive(Debug, Clone, PartialEq)]
pub struct FrameOutput {
    /// Whether the detector ran.
    pub detected: bool,
    /// The reported faces, by track id.
    pub faces: Vec<TrackedFace>,
    /// Stage timings.
    pub timings: FrameTimings,
}

impl FrameOutput {
    /// The JSON record of this frame.
    pub fn record(&self, frame: usize, time: f64, name: Option<String>) -> FrameRecord {
        FrameRecord {
            frame,
            time,
            name,
            detected: self.detected,
            faces: self.faces.iter().map(TrackedFace::record).collect(),
        }
    }
}

/// Detector + landmark model + SORT, frame by frame.
#[derive(Debug)]
pub struct FaceTracker {
    detector: FaceDetector,
    landmarks: LandmarkPredictor,
    pose: Option<PoseEstimator>,
    sort: Sort,
    params: TrackerParams,
    last_detection: Option<f64>,
}

impl FaceTracker {
    /// A tracker with no tracks yet. Head pose needs a landmark scheme with a mapping onto the
    /// 68 iBUG points; other models track without pose.
    pub fn new(
        detector: FaceDetector,
        landmarks: LandmarkPredictor,
        params: TrackerParams,
    ) -> Self {
        Self {
            pose: PoseEstimator::for_points(landmarks.points()).ok(),
            detector,
            landmarks,
            sort: Sort::new(params.sort),
            params,
            last_detection: None,
        }
    }

    /// Forgets every track and when the detector last ran, and takes `params`: the tracker as
    /// new, for another sequence or setting, without loading the models again.
    pub fn restart(&mut self, params: TrackerParams) {
        self.sort = Sort::new(params.sort);
        self.params = params;
        self.last_detection = None;
    }

    /// The settings.
    pub fn params(&self) -> &TrackerParams {
        &self.params
    }

    /// The landmark model.
    pub fn landmarks(&self) -> &LandmarkPredictor {
        &self.landmarks
    }

    /// Processes the frame shown at `time` seconds (non-decreasing from call to call).
    pub fn process(&mut self, frame: &RgbImage, time: f64) -> Result<FrameOutput, TrackError> {
        let mut timings = FrameTimings::default();
        let interval = 1.0 / self.params.detector_fps;
        let detect = self
            .last_detection
            .is_none_or(|last| time - last >= interval - 1e-9);
        let Self {
            detector,
            landmarks,
            sort,
            params,
            pose,
            ..
        } = self;
        let threshold = params.face_threshold;
        let mut measure = |region: &FaceBox| -> Result<Option<Measurement>, TrackError> {
            let start = Instant::now();
            let found = landmarks.predict(frame, region)?;
            timings.landmarks += start.elapsed();
            timings.landmark_runs += usize::from(found.is_some());
            Ok(found.and_then(|f| measurement(f, threshold)))
        };
        let reported: Vec<&Track> = if detect {
            self.last_detection = Some(time);
            let start = Instant::now();
            let detections = detector.detect(frame)?;
            timings.detector = Some(start.elapsed());
            let mut measurements = Vec::with_capacity(detections.len());
            for d in &detections {
                let crop = d.bbox.landmark_crop(DETECTION_SHIFT_Y, DETECTION_SCALE);
                measurements.extend(measure(&crop)?);
            }
            let start = Instant::now();
            let reported = sort.update(measurements, time);
            timings.tracking += start.elapsed();
            reported
        } else {
            sort.refine(time, &mut measure)?
        };
        let start = Instant::now();
        let faces = reported
            .into_iter()
            .map(|t| {
                let points = t.points();
                TrackedFace {
                    id: t.id(),
                    bbox: t.bbox(),
                    pose: pose
                        .as_ref()
                        .and_then(|p| p.solve(&points, frame.width(), frame.height())),
                    points,
                    raw_points: t.raw_points().to_vec(),
                    face_score: t.face_score(),
                }
            })
            .collect();
        timings.tracking += start.elapsed();
        Ok(FrameOutput {
            detected: detect,
            faces,
            timings,
        })
    }
}

/// The measurement of aligned landmarks, or `None` when the face score is below `threshold`
/// or no landmark is finite.
fn measurement(face: FaceLandmarks, threshold: f32) -> Option<Measurement> {
    if face.face_score.is_some_and(|s| s.is_nan() || s < threshold) {
        return None;
    }
    Some(Measurement {
        bbox: FaceBox::around_points(&face.points, LANDMARK_BOX_SCALE)?,
        points: face.points,
        face_score: face.face_score,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use fdfat_data::CropBox;

    fn face(score: Option<f32>) -> FaceLandmarks {
        FaceLandmarks {
            points: vec![[10.0, 10.0], [30.0, 50.0]],
            face_score: score,
            crop: CropBox::whole(100, 100),
        }
    }

    #[test]
    fn face_score_gates_measurements() {
        assert!(measurement(face(Some(0.2)), 0.5).is_none());
        assert!(measurement(face(Some(f32::NAN)), 0.5).is_none());
        let m = measurement(face(Some(0.9)), 0.5).unwrap();
        assert_eq!(m.bbox, FaceBox::new(-10.0, 0.0, 50.0, 60.0));
        assert!(measurement(face(None), 0.5).is_some());
    }
}
