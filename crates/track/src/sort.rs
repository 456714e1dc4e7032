//! SORT with landmarks (the original's `fdfat/tracking/sort.py` and `face.py`): tracks hold a
//! Kalman filter on the face box and one per landmark; detections are matched to the tracks'
//! predicted boxes by IoU with an optimal (Kuhn-Munkres) assignment; a track is reported while
//! it is updated every frame once it has `min_hits` consecutive updates (or during the first
//! `min_hits` detection rounds), and dropped after `max_age` frames without an update. The
//! reported landmarks go through the track's [`SmootherParams`] smoother; the box filter that
//! predicts where to look next is the same whatever the smoother.

use crate::geometry::FaceBox;
use crate::kalman::BoxFilter;
use crate::smoother::{LandmarkSmoother, SmootherParams};
use pathfinding::kuhn_munkres::kuhn_munkres;
use pathfinding::matrix::Matrix;

/// One face measured in a frame: its landmark box, landmarks and face score.
#[derive(Debug, Clone, PartialEq)]
pub struct Measurement {
    /// The square box around the landmarks (the original's `bbox_from_landmark`).
    pub bbox: FaceBox,
    /// Landmarks in image pixels.
    pub points: Vec<[f32; 2]>,
    /// The face-cls probability, when the model has the head.
    pub face_score: Option<f32>,
}

/// The tracker's settings.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct SortParams {
    /// Minimum IoU of a detection with a track's predicted box to match it
    /// (`track_sort_iou_threshold`).
    pub iou_threshold: f32,
    /// Frames a track survives without an update (`track_max_age`).
    pub max_age: usize,
    /// Consecutive updates before a track is reported (`track_min_hit`).
    pub min_hits: usize,
    /// How the reported landmarks are smoothed.
    pub smoother: SmootherParams,
}

impl Default for SortParams {
    /// The defaults of `configs/default.yaml` (the Kalman smoother).
    fn default() -> Self {
        Self {
            iou_threshold: 0.3,
            max_age: 30,
            min_hits: 3,
            smoother: SmootherParams::default(),
        }
    }
}

/// One tracked face.
#[derive(Debug, Clone, PartialEq)]
pub struct Track {
    id: u64,
    time_since_update: usize,
    hits: usize,
    hit_streak: usize,
    age: usize,
    box_filter: BoxFilter,
    smoother: LandmarkSmoother,
    last: Measurement,
}

impl Track {
    fn new(id: u64, measurement: Measurement, smoother: &SmootherParams, time: f64) -> Self {
        Self {
            id,
            time_since_update: 0,
            hits: 0,
            hit_streak: 0,
            age: 0,
            box_filter: BoxFilter::new(&measurement.bbox),
            smoother: LandmarkSmoother::new(smoother, &measurement.points, time),
            last: measurement,
        }
    }

    /// The track id, unique within its [`Sort`].
    pub fn id(&self) -> u64 {
        self.id
    }

    /// Frames since the last update.
    pub fn time_since_update(&self) -> usize {
        self.time_since_update
    }

    /// Updates since the track was created.
    pub fn hits(&self) -> usize {
        self.hits
    }

    /// Consecutive frames with an update.
    pub fn hit_streak(&self) -> usize {
        self.hit_streak
    }

    /// Frames since the track was created.
    pub fn age(&self) -> usize {
        self.age
    }

    /// The face box: the Kalman estimate (after [`Sort`] predicted this frame, the predicted
    /// box).
    pub fn bbox(&self) -> FaceBox {
        self.box_filter.bbox()
    }

    /// The landmarks as the smoother gives them (the last measured points without one).
    pub fn points(&self) -> Vec<[f32; 2]> {
        self.smoother.points()
    }

    /// The last measured landmarks.
    pub fn raw_points(&self) -> &[[f32; 2]] {
        &self.last.points
    }

    /// The last measured face score.
    pub fn face_score(&self) -> Option<f32> {
        self.last.face_score
    }

    fn predict(&mut self) {
        self.box_filter.predict();
        self.age += 1;
        if self.time_since_update > 0 {
            self.hit_streak = 0;
        }
        self.time_since_update += 1;
    }

    fn update(&mut self, measurement: Measurement, time: f64) {
        self.time_since_update = 0;
        self.hits += 1;
        self.hit_streak += 1;
        self.box_filter.update(&measurement.bbox);
        self.smoother
            .update(&measurement.points, time, measurement.bbox.width());
        self.last = measurement;
    }
}

/// Which detections went to which tracks.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Assignment {
    /// `(detection, track)` pairs.
    pub matches: Vec<(usize, usize)>,
    /// Detections that start new tracks.
    pub unmatched_detections: Vec<usize>,
    /// Tracks without a detection.
    pub unmatched_tracks: Vec<usize>,
}

/// IoU scale for the integer weights of the assignment.
const IOU_SCALE: f32 = 1e6;

/// Matches `detections` to `tracks` by IoU: directly when each detection and track has at
/// most one partner above `iou_threshold`, otherwise by the assignment maximising the summed
/// IoU; pairs below the threshold are left unmatched.
pub fn associate(detections: &[FaceBox], tracks: &[FaceBox], iou_threshold: f32) -> Assignment {
    let (nd, nt) = (detections.len(), tracks.len());
    let iou: Vec<Vec<f32>> = detections
        .iter()
        .map(|d| tracks.iter().map(|t| d.iou(t)).collect())
        .collect();
    let above = |d: usize, t: usize| iou[d][t] > iou_threshold;
    let unique = (0..nd).all(|d| (0..nt).filter(|&t| above(d, t)).count() <= 1)
        && (0..nt).all(|t| (0..nd).filter(|&d| above(d, t)).count() <= 1);
    let candidates: Vec<(usize, usize)> = if nd == 0 || nt == 0 {
        Vec::new()
    } else if unique {
        (0..nd)
            .flat_map(|d| (0..nt).filter(move |&t| above(d, t)).map(move |t| (d, t)))
            .collect()
    } else {
        let weight = |d: usize, t: usize| (iou[d][t] * IOU_SCALE).round() as i64;
        if nd <= nt {
            let m = Matrix::from_fn(nd, nt, |(d, t)| weight(d, t));
            let (_, cols) = kuhn_munkres(&m);
            cols.into_iter().enumerate().collect()
        } else {
            let m = Matrix::from_fn(nt, nd, |(t, d)| weight(d, t));
            let (_, rows) = kuhn_munkres(&m);
            rows.into_iter().enumerate().map(|(t, d)| (d, t)).collect()
        }
    };
    let mut out = Assignment::default();
    let mut det_used = vec![false; nd];
    let mut trk_used = vec![false; nt];
    for (d, t) in candidates {
        if iou[d][t] >= iou_threshold && iou[d][t] > 0.0 {
            out.matches.push((d, t));
            det_used[d] = true;
            trk_used[t] = true;
        }
    }
    out.unmatched_detections = (0..nd).filter(|&d| !det_used[d]).collect();
    out.unmatched_tracks = (0..nt).filter(|&t| !trk_used[t]).collect();
    out
}

/// The SORT tracker.
#[derive(Debug, Clone)]
pub struct Sort {
    params: SortParams,
    tracks: Vec<Track>,
    frame_count: usize,
    next_id: u64,
}

impl Sort {
    /// An empty tracker.
    pub fn new(params: SortParams) -> Self {
        Self {
            params,
            tracks: Vec::new(),
            frame_count: 0,
            next_id: 0,
        }
    }

    /// The settings.
    pub fn params(&self) -> &SortParams {
        &self.params
    }

    /// Every live track, reported or not.
    pub fn tracks(&self) -> &[Track] {
        &self.tracks
    }

    /// A frame at `time` seconds with detections: predicts every track, matches the
    /// detections to the predicted boxes, updates matched tracks, starts a track per unmatched
    /// detection, and returns the reported tracks.
    pub fn update(&mut self, detections: Vec<Measurement>, time: f64) -> Vec<&Track> {
        self.frame_count += 1;
        self.tracks.iter_mut().for_each(Track::predict);
        let boxes: Vec<FaceBox> = detections.iter().map(|m| m.bbox).collect();
        let predicted: Vec<FaceBox> = self.tracks.iter().map(Track::bbox).collect();
        let assignment = associate(&boxes, &predicted, self.params.iou_threshold);
        let mut detections: Vec<Option<Measurement>> = detections.into_iter().map(Some).collect();
        for &(d, t) in &assignment.matches {
            if let Some(m) = detections[d].take() {
                self.tracks[t].update(m, time);
            }
        }
        for d in assignment.unmatched_detections {
            if let Some(m) = detections[d].take() {
                self.tracks
                    .push(Track::new(self.next_id, m, &self.params.smoother, time));
                self.next_id += 1;
            }
        }
        self.report()
    }

    /// A frame at `time` seconds without detections: each track is predicted, then `measure`
    /// gets the box to look for the face in (the predicted box) and returns its new
    /// measurement, or `None` when the face is lost there. Returns the reported tracks.
    pub fn refine<E>(
        &mut self,
        time: f64,
        mut measure: impl FnMut(&FaceBox) -> Result<Option<Measurement>, E>,
    ) -> Result<Vec<&Track>, E> {
        for track in &mut self.tracks {
            track.predict();
            if let Some(m) = measure(&track.bbox())? {
                track.update(m, time);
            }
        }
        Ok(self.report())
    }

    /// Drops tracks older than `max_age` frames without an update and returns those updated
    /// this frame with enough consecutive hits (every one in the first `min_hits` rounds).
    fn report(&mut self) -> Vec<&Track> {
        let SortParams {
            max_age, min_hits, ..
        } = self.params;
        self.tracks.retain(|t| t.time_since_update <= max_age);
        let warmup = self.frame_count <= min_hits;
        self.tracks
            .iter()
            .filter(|t| t.time_since_update == 0 && (t.hit_streak >= min_hits || warmup))
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn square(x: f32, y: f32, side: f32) -> FaceBox {
        FaceBox::new(x, y, x + side, y + side)
    }

    fn measurement(bbox: FaceBox) -> Measurement {
        let [cx, cy] = bbox.center();
        Measurement {
            bbox,
            points: vec![[cx, cy], [bbox.x0, bbox.y0]],
            face_score: Some(0.9),
        }
    }

    #[test]
    fn associate_matches_unique_overlaps_directly() {
        let dets = [
            square(0.0, 0.0, 10.0),
            square(100.0, 0.0, 10.0),
            square(500.0, 0.0, 10.0),
        ];
        let trks = [square(101.0, 0.0, 10.0), square(1.0, 1.0, 10.0)];
        let a = associate(&dets, &trks, 0.3);
        assert_eq!(a.matches, vec![(0, 1), (1, 0)]);
        assert_eq!(a.unmatched_detections, vec![2]);
        assert!(a.unmatched_tracks.is_empty());
        assert_eq!(associate(&[], &trks, 0.3).unmatched_tracks, vec![0, 1]);
        assert_eq!(
            associate(&dets, &[], 0.3).unmatched_detections,
            vec![0, 1, 2]
        );
    }

    #[test]
    fn associate_resolves_conflicts_optimally() {
        // detection 0 overlaps both tracks at IoU 0.67, detection 1 overlaps track 0 at 0.82
        // and track 1 at 0.33: the best total (1.48) pairs 0-1 and 1-0
        let trks = [square(0.0, 0.0, 10.0), square(4.0, 0.0, 10.0)];
        let dets = [square(2.0, 0.0, 10.0), square(-1.0, 0.0, 10.0)];
        let a = associate(&dets, &trks, 0.3);
        let mut matches = a.matches.clone();
        matches.sort_unstable();
        assert_eq!(matches, vec![(0, 1), (1, 0)]);
        // more detections than tracks: the transposed problem
        let dets3 = [dets[0], dets[1], square(300.0, 0.0, 10.0)];
        let b = associate(&dets3, &trks, 0.3);
        assert_eq!(b.matches.len(), 2);
        assert_eq!(b.unmatched_detections, vec![2]);
    }

    #[test]
    fn ids_stay_stable_and_tracks_are_reported_after_min_hits() {
        let params = SortParams {
            min_hits: 3,
            max_age: 2,
            ..SortParams::default()
        };
        let mut sort = Sort::new(params);
        // warm-up rounds report new tracks at once
        let ids: Vec<u64> = sort
            .update(vec![measurement(square(0.0, 0.0, 50.0))], 0.0)
            .iter()
            .map(|t| t.id())
            .collect();
        assert_eq!(ids, vec![0]);
        for k in 1..10 {
            let b = square(k as f32 * 2.0, 0.0, 50.0);
            let reported = sort.update(vec![measurement(b)], 0.1 * k as f64);
            assert_eq!(reported.len(), 1);
            assert_eq!(reported[0].id(), 0);
        }
        // a new face after the warm-up waits for min_hits updates
        let both = |k: f32| {
            vec![
                measurement(square(20.0 + k, 0.0, 50.0)),
                measurement(square(400.0, 0.0, 50.0)),
            ]
        };
        for k in 0..3 {
            assert_eq!(
                sort.update(both(2.0 * k as f32), 1.0 + 0.1 * k as f64)
                    .len(),
                1
            );
        }
        let reported = sort.update(both(6.0), 1.3);
        let ids: Vec<u64> = reported.iter().map(|t| t.id()).collect();
        assert_eq!(ids, vec![0, 1]);
        // lost for max_age + 1 frames: dropped; coming back gives a new id
        for k in 0..3 {
            let time = 1.4 + 0.1 * f64::from(k);
            assert!(sort.refine(time, |_| Ok::<_, ()>(None)).unwrap().is_empty());
        }
        assert!(sort.tracks().is_empty());
        let back = sort.update(vec![measurement(square(400.0, 0.0, 50.0))], 1.7);
        assert!(back.is_empty());
        assert_eq!(sort.tracks()[0].id(), 2);
    }

    #[test]
    fn refine_updates_from_the_predicted_box() {
        let mut sort = Sort::new(SortParams::default());
        sort.update(vec![measurement(square(100.0, 100.0, 40.0))], 0.0);
        let mut asked = Vec::new();
        let reported = sort
            .refine(0.1, |b| {
                asked.push(*b);
                Ok::<_, ()>(Some(measurement(square(102.0, 100.0, 40.0))))
            })
            .unwrap();
        assert_eq!(reported.len(), 1);
        assert_eq!(asked.len(), 1);
        assert!(asked[0].iou(&square(100.0, 100.0, 40.0)) > 0.9);
        assert_eq!(reported[0].raw_points()[1], [102.0, 100.0]);
        assert_eq!(reported[0].hits(), 1);
    }

    #[test]
    fn without_smoothing_the_track_reports_measurements() {
        let params = SortParams {
            smoother: SmootherParams::of(fdfat_config::Smoother::None),
            ..SortParams::default()
        };
        let mut sort = Sort::new(params);
        sort.update(vec![measurement(square(0.0, 0.0, 40.0))], 0.0);
        let m = measurement(square(3.0, 1.0, 40.0));
        let reported = sort.update(vec![m.clone()], 0.1);
        assert_eq!(reported[0].points(), m.points);
        assert_eq!(reported[0].raw_points(), &m.points[..]);
    }
}
