//! The tracker replayed over an annotated sequence for evaluation: every frame with an image
//! goes through [`FaceTracker::process`] at its input time, and what it reported and how long
//! each stage took are kept with the frame's annotation ([`TrackedFrame`]).

use crate::error::TrackError;
use crate::tracker::{FaceTracker, FrameOutput};
use fdfat_data::sequence::Sequence;
use fdfat_eval::video::{ReportedFace, StageLatency, TrackedFrame};

/// One frame's annotation in pixels, `None` when it is left out.
pub type Truth = Option<Vec<[f64; 2]>>;

/// Runs `tracker` (as it is: restart it first for a fresh run) over `seq`, with `truth[k]` the
/// annotation of frame `k`, calling `tick` after each frame. Frames without an image are not
/// shown to the tracker and have no timings; an unreadable image is an error naming it.
pub fn track_sequence(
    tracker: &mut FaceTracker,
    seq: &Sequence,
    truth: &[Truth],
    mut tick: impl FnMut(),
) -> Result<Vec<TrackedFrame>, TrackError> {
    let mut frames = Vec::with_capacity(seq.frames.len());
    for (frame, gt) in seq.frames.iter().zip(truth) {
        let tracked = match &frame.image {
            None => TrackedFrame {
                number: frame.number,
                gt: None,
                faces: Vec::new(),
                latency: None,
            },
            Some(path) => {
                let image = fdfat_data::read_rgb(path).map_err(|e| TrackError::Image {
                    path: path.clone(),
                    message: e.to_string(),
                })?;
                let out = tracker.process(&image, frame.time)?;
                TrackedFrame {
                    number: frame.number,
                    gt: gt.clone(),
                    faces: reported(&out),
                    latency: Some(latency(&out)),
                }
            }
        };
        frames.push(tracked);
        tick();
    }
    Ok(frames)
}

/// The reported faces with their smoothed landmarks.
fn reported(out: &FrameOutput) -> Vec<ReportedFace> {
    out.faces
        .iter()
        .map(|f| ReportedFace {
            id: f.id,
            points: f.points.iter().map(|p| p.map(f64::from)).collect(),
        })
        .collect()
}

/// The frame's stage timings in milliseconds.
fn latency(out: &FrameOutput) -> StageLatency {
    let ms = |d: std::time::Duration| d.as_secs_f64() * 1e3;
    StageLatency {
        detector_ms: out.timings.detector.map(ms),
        landmarks_ms: ms(out.timings.landmarks),
        tracking_ms: ms(out.timings.tracking),
    }
}
