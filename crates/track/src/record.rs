//! The JSON written per image (predict) and per frame (track).

use crate::geometry::FaceBox;
use crate::pose::FacePose;
use serde::Serialize;

/// One face of a predicted image.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct FaceRecord {
    /// The detector's box, or the whole image when there is no detector.
    #[serde(rename = "box")]
    pub bbox: FaceBox,
    /// The detector's score (`null` without a detector).
    pub score: Option<f32>,
    /// Landmarks in image pixels.
    pub landmarks: Vec<[f32; 2]>,
    /// The face-cls probability (`null` when the model has no face-cls head).
    pub face_score: Option<f32>,
    /// Yaw in degrees (`null` when no pose was found).
    pub yaw: Option<f64>,
    /// Pitch in degrees.
    pub pitch: Option<f64>,
    /// Roll in degrees.
    pub roll: Option<f64>,
}

/// The predictions of one image.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ImageRecord {
    /// The image path as given.
    pub image: String,
    /// Image width in pixels.
    pub width: u32,
    /// Image height in pixels.
    pub height: u32,
    /// Every face found.
    pub faces: Vec<FaceRecord>,
}

/// One reported track in a frame.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct TrackRecord {
    /// The track id, stable across frames.
    pub id: u64,
    /// The (smoothed) face box around the landmarks.
    #[serde(rename = "box")]
    pub bbox: FaceBox,
    /// The (smoothed) landmarks in image pixels.
    pub landmarks: Vec<[f32; 2]>,
    /// The last face-cls probability (`null` without a face-cls head).
    pub face_score: Option<f32>,
    /// Yaw in degrees (`null` when no pose was found).
    pub yaw: Option<f64>,
    /// Pitch in degrees.
    pub pitch: Option<f64>,
    /// Roll in degrees.
    pub roll: Option<f64>,
}

/// The tracks of one frame: one line of the track task's JSON Lines output.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct FrameRecord {
    /// 0-based frame index.
    pub frame: usize,
    /// Frame time in seconds from the start of the input.
    pub time: f64,
    /// The frame's file name (frame folders) or `null` (video).
    pub name: Option<String>,
    /// Whether the detector ran on this frame.
    pub detected: bool,
    /// The reported tracks.
    pub faces: Vec<TrackRecord>,
}

/// Splits an optional pose into the record's `yaw`, `pitch`, `roll`.
pub(crate) fn angles(pose: Option<&FacePose>) -> (Option<f64>, Option<f64>, Option<f64>) {
    match pose {
        Some(p) => (Some(p.yaw), Some(p.pitch), Some(p.roll)),
        None => (None, None, None),
    }
}
