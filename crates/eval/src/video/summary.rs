//! The figures of a sequence, or of several pooled: means over the frames that have each
//! figure, tracking events, and latency spreads.

use super::frames::FrameRecord;
use super::lag::TurnLag;
use crate::stats::{mean, median, percentile};
use serde::{Deserialize, Serialize};

/// Median and 95th percentile of a latency, in milliseconds.
#[derive(Debug, Clone, Copy, Default, PartialEq, Serialize, Deserialize)]
pub struct Spread {
    /// Median.
    pub median: Option<f64>,
    /// 95th percentile.
    pub p95: Option<f64>,
}

impl Spread {
    fn of(values: &[f64]) -> Self {
        Self {
            median: median(values),
            p95: percentile(values, 0.95),
        }
    }
}

/// Latency per frame by stage.
#[derive(Debug, Clone, Copy, Default, PartialEq, Serialize, Deserialize)]
pub struct Latency {
    /// Frames processed.
    pub frames: usize,
    /// Frames the detector ran on.
    pub detector_runs: usize,
    /// Every stage of a frame together.
    pub total_ms: Spread,
    /// The detector, over the frames it ran on.
    pub detector_ms: Spread,
    /// The landmark model, per frame.
    pub landmarks_ms: Spread,
    /// Association, smoothing and head pose, per frame.
    pub tracking_ms: Spread,
}

/// Tracking events of a sequence (summed over sequences when pooled).
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub(super) struct Events {
    lost: usize,
    reacquired: usize,
    id_switches: usize,
    ids: usize,
}

impl Events {
    /// The events of one sequence's frames, in order.
    pub(super) fn of(frames: &[FrameRecord]) -> Self {
        let mut events = Self::default();
        let mut ids = Vec::new();
        let (mut last_id, mut was_lost) = (None, false);
        for f in frames.iter().filter(|f| f.annotated) {
            match f.id {
                None => {
                    events.lost += 1;
                    was_lost = true;
                }
                Some(id) => {
                    if last_id.is_some() && was_lost {
                        events.reacquired += 1;
                    }
                    if last_id.is_some_and(|last| last != id) {
                        events.id_switches += 1;
                    }
                    if !ids.contains(&id) {
                        ids.push(id);
                    }
                    last_id = Some(id);
                    was_lost = false;
                }
            }
        }
        events.ids = ids.len();
        events
    }

    fn add(&mut self, other: &Self) {
        self.lost += other.lost;
        self.reacquired += other.reacquired;
        self.id_switches += other.id_switches;
        self.ids += other.ids;
    }
}

/// The figures of one sequence or of several.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Summary {
    /// Frames.
    pub frames: usize,
    /// Frames with a usable annotation.
    pub annotated: usize,
    /// Annotated frames with a matching face.
    pub tracked: usize,
    /// Mean NME over tracked frames.
    pub nme_mean: Option<f64>,
    /// Median NME over tracked frames.
    pub nme_median: Option<f64>,
    /// Mean still jitter.
    pub still_jitter: Option<f64>,
    /// Frames the still jitter is measured on.
    pub still_frames: usize,
    /// Mean high-frequency jitter outside still segments.
    pub hf_jitter: Option<f64>,
    /// Frames the high-frequency jitter is measured on.
    pub hf_frames: usize,
    /// Mean lag over turns, in frames.
    pub lag: Option<f64>,
    /// Turns with a measured lag.
    pub turns: usize,
    /// Annotated frames without a matching face.
    pub lost_frames: usize,
    /// Times a face was found again after lost frames.
    pub reacquired: usize,
    /// Changes of the matched track id.
    pub id_switches: usize,
    /// Distinct matched track ids (summed over sequences).
    pub track_ids: usize,
    /// Latency per frame by stage.
    pub latency: Latency,
}

impl Summary {
    /// The figures of `frames` and `turns` with `events`.
    pub(super) fn of(frames: &[FrameRecord], turns: &[TurnLag], events: &Events) -> Self {
        let values = |get: fn(&FrameRecord) -> Option<f64>| -> Vec<f64> {
            frames.iter().filter_map(get).collect()
        };
        let nme = values(|f| f.nme);
        let still = values(|f| f.still_jitter);
        let hf = values(|f| f.hf_jitter);
        let lags: Vec<f64> = turns.iter().map(|t| t.lag).collect();
        let timed: Vec<_> = frames.iter().filter_map(|f| f.latency).collect();
        let detector: Vec<f64> = timed.iter().filter_map(|l| l.detector_ms).collect();
        let stage = |get: fn(&super::frames::StageLatency) -> f64| {
            Spread::of(&timed.iter().map(get).collect::<Vec<_>>())
        };
        Self {
            frames: frames.len(),
            annotated: frames.iter().filter(|f| f.annotated).count(),
            tracked: nme.len(),
            nme_mean: mean(&nme),
            nme_median: median(&nme),
            still_jitter: mean(&still),
            still_frames: still.len(),
            hf_jitter: mean(&hf),
            hf_frames: hf.len(),
            lag: mean(&lags),
            turns: lags.len(),
            lost_frames: events.lost,
            reacquired: events.reacquired,
            id_switches: events.id_switches,
            track_ids: events.ids,
            latency: Latency {
                frames: timed.len(),
                detector_runs: detector.len(),
                total_ms: stage(|l| l.total_ms()),
                detector_ms: Spread::of(&detector),
                landmarks_ms: stage(|l| l.landmarks_ms),
                tracking_ms: stage(|l| l.tracking_ms),
            },
        }
    }

    /// The figures of several sequences pooled: every frame and turn together, events summed.
    pub fn pooled(sequences: &[super::frames::SequenceResult]) -> Self {
        let frames: Vec<FrameRecord> = sequences
            .iter()
            .flat_map(|s| s.frames.iter().cloned())
            .collect();
        let turns: Vec<TurnLag> = sequences.iter().flat_map(|s| s.turns.clone()).collect();
        let mut events = Events::default();
        for s in sequences {
            events.add(&Events::of(&s.frames));
        }
        Self::of(&frames, &turns, &events)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn frame(number: usize, id: Option<u64>) -> FrameRecord {
        FrameRecord {
            number,
            segment: None,
            annotated: true,
            id,
            nme: id.map(|_| 0.05),
            still_jitter: None,
            hf_jitter: None,
            latency: None,
        }
    }

    #[test]
    fn lost_reacquired_and_switched_faces_are_counted() {
        let ids = [
            None,
            Some(0),
            Some(0),
            None,
            None,
            Some(0),
            Some(1),
            Some(1),
        ];
        let frames: Vec<FrameRecord> = ids
            .iter()
            .enumerate()
            .map(|(k, &id)| frame(k + 1, id))
            .collect();
        let events = Events::of(&frames);
        // the first frame before any face is lost, but finding the face is no re-acquisition
        assert_eq!(
            events,
            Events {
                lost: 3,
                reacquired: 1,
                id_switches: 1,
                ids: 2
            }
        );
        let summary = Summary::of(&frames, &[], &events);
        assert_eq!((summary.tracked, summary.lost_frames), (5, 3));
        assert_eq!(summary.nme_mean, Some(0.05));
    }
}
