//! Faces in images and video for fdfat-rs: the Ultra-Light face detector and the landmark
//! model run in-process (tract for ONNX files, burn for checkpoints), head pose by PnP, and the
//! original's tracker (SORT association by IoU with an optimal assignment, Kalman filters on
//! the box, stable track ids, face-score gating) with a landmark smoother per track: none, the
//! original's Kalman filter per landmark, or a One-Euro filter ([`SmootherParams`]).
//!
//! - [`Predictor`]: still images; every detected face gets landmarks, a face score and
//!   yaw / pitch / roll ([`FaceRecord`] / [`ImageRecord`] JSON).
//! - [`FaceTracker`]: frame by frame, the detector at most `track_detector_fps` times per
//!   second of input, the landmark model in each track's predicted box in between
//!   ([`FrameRecord`] JSON).
//! - [`FrameSource`] / [`FrameSink`]: frame folders, and video through the `ffmpeg` program.
//! - [`track_sequence`]: the tracker replayed over an annotated sequence, for `fdfat_eval::video`.
//! - [`Renderer`]: boxes, landmark polylines per scheme part, points and pose axes.
//!
//! ```no_run
//! use fdfat_track::{FaceDetector, LandmarkPredictor, Predictor};
//! use std::path::Path;
//!
//! let cfg = fdfat_config::resolve(None, &[]).unwrap();
//! let (device, _) = fdfat_models::device_for(&fdfat_config::DeviceSpec::Cpu);
//! let detector = FaceDetector::load(Path::new("version-RFB-320.onnx"), 0.7).unwrap();
//! let landmarks = LandmarkPredictor::load(&cfg, Path::new("model.onnx"), &device).unwrap();
//! let predictor = Predictor::new(Some(detector), landmarks);
//! let image = fdfat_data::read_rgb(Path::new("faces.jpg")).unwrap();
//! for face in predictor.predict(&image).unwrap() {
//!     println!("{}", serde_json::to_string(&face.record()).unwrap());
//! }
//! ```
#![warn(missing_docs)]

mod detector;
mod error;
mod geometry;
pub mod kalman;
mod landmarks;
pub mod one_euro;
mod onnx;
mod pose;
mod predict;
mod record;
mod render;
mod replay;
mod resize;
mod smoother;
pub mod sort;
mod timing;
mod tracker;
mod video;

pub use detector::{DETECTOR_INPUT, FaceDetector, NMS_IOU};
pub use error::TrackError;
pub use geometry::{
    DETECTION_SCALE, DETECTION_SHIFT_Y, Detection, FaceBox, LANDMARK_BOX_SCALE, hard_nms,
};
pub use landmarks::{FaceLandmarks, LandmarkPredictor};
pub use one_euro::{OneEuro, OneEuroParams};
pub use onnx::{ImageInput, InputLayout, OnnxModel, OnnxOutput};
pub use pose::{FacePose, PoseEstimator};
pub use predict::{PredictedFace, Predictor};
pub use record::{FaceRecord, FrameRecord, ImageRecord, TrackRecord};
pub use render::{FaceDrawing, Renderer, track_color};
pub use replay::{Truth, track_sequence};
pub use resize::resize_rgb;
pub use smoother::SmootherParams;
pub use sort::{Measurement, Sort, SortParams, Track};
pub use timing::{Stage, StageTimes};
pub use tracker::{FaceTracker, FrameOutput, FrameTimings, TrackedFace, TrackerParams};
pub use video::{Frame, FrameSink, FrameSource, IMAGE_EXTENSIONS, VIDEO_EXTENSIONS, image_files};
