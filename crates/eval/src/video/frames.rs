//! Per-frame measurements of one tracked sequence: which face is evaluated, its NME, the
//! segment labels (given or derived), still and high-frequency jitter; see the module
//! documentation of [`crate::video`] for the definitions.

use super::lag::{TurnLag, turn_lags};
use super::summary::{Events, Summary};
use crate::error::EvalError;
use crate::layout::EvalLayout;
use fdfat_config::NmeNorm;
use fdfat_data::sequence::{Segment, SegmentKind};
use serde::{Deserialize, Serialize};

/// Minimum IoU of a reported face's landmark box with the annotation's box to be evaluated.
const MATCH_IOU: f64 = 0.3;

/// One face the tracker reported in a frame.
#[derive(Debug, Clone, PartialEq)]
pub struct ReportedFace {
    /// The track id.
    pub id: u64,
    /// Landmarks in image pixels, in the model's scheme.
    pub points: Vec<[f64; 2]>,
}

/// Milliseconds per tracker stage for one frame.
#[derive(Debug, Clone, Copy, Default, PartialEq, Serialize, Deserialize)]
pub struct StageLatency {
    /// The face detector, when it ran on the frame.
    pub detector_ms: Option<f64>,
    /// Every landmark-model run.
    pub landmarks_ms: f64,
    /// Association, smoothing and head pose.
    pub tracking_ms: f64,
}

impl StageLatency {
    /// The whole frame.
    pub fn total_ms(&self) -> f64 {
        self.detector_ms.unwrap_or(0.0) + self.landmarks_ms + self.tracking_ms
    }
}

/// What the tracker gave for one frame of a sequence.
#[derive(Debug, Clone, PartialEq)]
pub struct TrackedFrame {
    /// The frame number.
    pub number: usize,
    /// The annotated points in the ground truth's scheme, `None` when the annotation is
    /// missing or unusable (skipped).
    pub gt: Option<Vec<[f64; 2]>>,
    /// The reported faces.
    pub faces: Vec<ReportedFace>,
    /// Stage timings, `None` when the frame was not processed (an unreadable image skipped).
    pub latency: Option<StageLatency>,
}

/// Settings of the measurements (`nme_norm`, `val_still_threshold`, `val_trend_window`).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct MotionParams {
    /// NME normaliser.
    pub nme_norm: NmeNorm,
    /// Annotated motion (in units of the normaliser) below which a frame is still, for
    /// sequences without segment labels.
    pub still_threshold: f64,
    /// Frames of the local quadratic trend removed before high-frequency jitter (odd, >= 5).
    pub trend_window: usize,
}

/// The per-frame figures of one frame, as written in the report.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct FrameRecord {
    /// The frame number.
    pub number: usize,
    /// The segment the frame belongs to.
    pub segment: Option<SegmentKind>,
    /// Whether the frame has a usable annotation.
    pub annotated: bool,
    /// The matched track id (`None`: lost or not annotated).
    pub id: Option<u64>,
    /// NME of the matched face.
    pub nme: Option<f64>,
    /// Still jitter (frames inside still segments).
    pub still_jitter: Option<f64>,
    /// High-frequency jitter (frames outside still segments).
    pub hf_jitter: Option<f64>,
    /// Stage timings.
    pub latency: Option<StageLatency>,
}

/// Everything measured on one sequence.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SequenceResult {
    /// The sequence name.
    pub name: String,
    /// The figures over the sequence.
    pub summary: Summary,
    /// The segments used: the labels, or those derived from the annotations.
    pub segments: Vec<Segment>,
    /// Whether the segments were derived (no `segments.json`).
    pub segments_derived: bool,
    /// The lag of every turn.
    pub turns: Vec<TurnLag>,
    /// Per-frame figures.
    pub frames: Vec<FrameRecord>,
}

/// A tracked frame's predicted and annotated points (evaluated scheme) and its normaliser.
type Compared<'a> = (&'a [[f64; 2]], &'a [[f64; 2]], f64);

/// A frame's points in the evaluated scheme and its normaliser.
pub(super) struct Prepared {
    pub number: usize,
    pub gt: Option<(Vec<[f64; 2]>, f64)>,
    pub pred: Option<(u64, Vec<[f64; 2]>)>,
}

/// The corners of the box around `points`.
fn extent(points: &[[f64; 2]]) -> [f64; 4] {
    points.iter().fold(
        [
            f64::INFINITY,
            f64::INFINITY,
            f64::NEG_INFINITY,
            f64::NEG_INFINITY,
        ],
        |b, p| {
            [
                b[0].min(p[0]),
                b[1].min(p[1]),
                b[2].max(p[0]),
                b[3].max(p[1]),
            ]
        },
    )
}

fn iou(a: [f64; 4], b: [f64; 4]) -> f64 {
    let w = (a[2].min(b[2]) - a[0].max(b[0])).max(0.0);
    let h = (a[3].min(b[3]) - a[1].max(b[1])).max(0.0);
    let area = |r: [f64; 4]| (r[2] - r[0]).max(0.0) * (r[3] - r[1]).max(0.0);
    let union = area(a) + area(b) - w * h;
    if union > 0.0 { w * h / union } else { 0.0 }
}

/// Mean over points of `|a_i - b_i|`.
pub(super) fn mean_distance(a: &[[f64; 2]], b: &[[f64; 2]]) -> f64 {
    a.iter()
        .zip(b)
        .map(|(p, q)| (p[0] - q[0]).hypot(p[1] - q[1]))
        .sum::<f64>()
        / a.len().max(1) as f64
}

/// Mean over points of `|(a1_i - a0_i) - (b1_i - b0_i)|`.
fn mean_relative_motion(a0: &[[f64; 2]], a1: &[[f64; 2]], b0: &[[f64; 2]], b1: &[[f64; 2]]) -> f64 {
    let n = a0.len().max(1) as f64;
    (0..a0.len())
        .map(|i| {
            let dx = (a1[i][0] - a0[i][0]) - (b1[i][0] - b0[i][0]);
            let dy = (a1[i][1] - a0[i][1]) - (b1[i][1] - b0[i][1]);
            dx.hypot(dy)
        })
        .sum::<f64>()
        / n
}

/// Checks and maps every frame into the evaluated scheme, picking the matched face.
fn prepare(
    layout: &EvalLayout,
    name: &str,
    frames: &[TrackedFrame],
    norm: NmeNorm,
) -> Result<Vec<Prepared>, EvalError> {
    frames
        .iter()
        .map(|f| {
            let label = format!("{name} frame {}", f.number);
            let Some(gt) = &f.gt else {
                return Ok(Prepared {
                    number: f.number,
                    gt: None,
                    pred: None,
                });
            };
            let (inter_ocular, inter_pupil) = layout.gt_normalisers(&label, gt)?;
            let d = match norm {
                NmeNorm::InterOcular => inter_ocular,
                NmeNorm::InterPupil => inter_pupil,
            };
            let gt_box = extent(gt);
            let best = f
                .faces
                .iter()
                .map(|face| (iou(extent(&face.points), gt_box), face))
                .filter(|(overlap, _)| *overlap >= MATCH_IOU)
                .max_by(|a, b| a.0.total_cmp(&b.0));
            let pred = match best {
                Some((_, face)) => {
                    layout.measure(&label, &face.points, gt)?;
                    Some((face.id, layout.pred_in_eval(&face.points)))
                }
                None => None,
            };
            Ok(Prepared {
                number: f.number,
                gt: Some((layout.gt_in_eval(gt), d)),
                pred,
            })
        })
        .collect()
}

/// The segments derived from the annotated motion: frame `t` (annotated, after an annotated
/// frame `t - 1`) is still or moving by the motion from `t - 1`; runs of one kind are segments.
fn derive_segments(frames: &[Prepared], threshold: f64) -> Vec<Segment> {
    let mut segments: Vec<Segment> = Vec::new();
    for pair in frames.windows(2) {
        let (Some((g0, _)), Some((g1, d))) = (&pair[0].gt, &pair[1].gt) else {
            continue;
        };
        let number = pair[1].number;
        if number != pair[0].number + 1 {
            continue;
        }
        let kind = if mean_distance(g0, g1) / d < threshold {
            SegmentKind::Still
        } else {
            SegmentKind::Move
        };
        match segments.last_mut() {
            Some(last) if last.kind == kind && last.end + 1 == number => last.end = number,
            _ => segments.push(Segment {
                kind,
                start: number,
                end: number,
            }),
        }
    }
    segments
}

/// Index of the segment holding frame `number`.
fn segment_of(segments: &[Segment], number: usize) -> Option<usize> {
    segments.iter().position(|s| s.contains(number))
}

/// Measures one tracked sequence. `segments` are its labels (`segments.json`), derived from
/// the annotations when `None`.
pub fn evaluate_sequence(
    layout: &EvalLayout,
    name: &str,
    frames: &[TrackedFrame],
    segments: Option<&[Segment]>,
    params: &MotionParams,
) -> Result<SequenceResult, EvalError> {
    if params.trend_window < 5 || params.trend_window.is_multiple_of(2) {
        return Err(EvalError::InvalidSetting {
            key: "val_trend_window",
            found: params.trend_window.to_string(),
            expected: "an odd number of frames >= 5",
        });
    }
    let prepared = prepare(layout, name, frames, params.nme_norm)?;
    let (segments, derived) = match segments {
        Some(s) => (s.to_vec(), false),
        None => (derive_segments(&prepared, params.still_threshold), true),
    };
    let seg_index: Vec<Option<usize>> = prepared
        .iter()
        .map(|f| segment_of(&segments, f.number))
        .collect();
    let is_still = |k: usize| seg_index[k].is_some_and(|s| segments[s].kind == SegmentKind::Still);
    let tracked = |k: usize| -> Option<Compared<'_>> {
        let f = prepared.get(k)?;
        match (&f.pred, &f.gt) {
            (Some((_, p)), Some((g, d))) => Some((p, g, *d)),
            _ => None,
        }
    };
    let half = params.trend_window / 2;
    let records = prepared
        .iter()
        .enumerate()
        .map(|(k, f)| {
            let now = tracked(k);
            // a derived still frame is still by its motion from the previous frame; a
            // labelled one needs the previous frame in the same segment
            let still_jitter = (k > 0
                && is_still(k)
                && (derived || seg_index[k] == seg_index[k - 1])
                && prepared[k - 1].number + 1 == f.number)
                .then(|| {
                    let ((p1, g1, d), (p0, g0, _)) = (now?, tracked(k - 1)?);
                    Some(mean_relative_motion(p0, p1, g0, g1) / d)
                })
                .flatten();
            let hf_jitter = (!is_still(k) && k >= half && k + half < prepared.len())
                .then(|| high_frequency(&prepared, k, half))
                .flatten();
            FrameRecord {
                number: f.number,
                segment: seg_index[k].map(|s| segments[s].kind),
                annotated: f.gt.is_some(),
                id: f.pred.as_ref().map(|(id, _)| *id),
                nme: now.map(|(p, g, d)| mean_distance(p, g) / d),
                still_jitter,
                hf_jitter,
                latency: frames[k].latency,
            }
        })
        .collect::<Vec<_>>();
    let turns = turn_lags(&prepared, &segments, derived);
    let events = Events::of(&records);
    Ok(SequenceResult {
        name: name.to_string(),
        summary: Summary::of(&records, &turns, &events),
        segments,
        segments_derived: derived,
        turns,
        frames: records,
    })
}

/// The weights of the centre value of a least-squares quadratic fit over `2 m + 1` equally
/// spaced samples (Savitzky-Golay smoothing, order 2): `(3 (3m² + 3m - 1) - 15 k²) /
/// ((2m - 1)(2m + 1)(2m + 3))` for offsets `k = -m..=m`.
fn savitzky_golay(m: usize) -> Vec<f64> {
    let m = m as f64;
    let denominator = (2.0 * m - 1.0) * (2.0 * m + 1.0) * (2.0 * m + 3.0);
    (-(m as i64)..=m as i64)
        .map(|k| (3.0 * (3.0 * m * m + 3.0 * m - 1.0) - 15.0 * (k * k) as f64) / denominator)
        .collect()
}

/// High-frequency jitter of frame `k` with a window of `half` frames each side, when every
/// frame of the window is consecutive, tracked and annotated.
fn high_frequency(frames: &[Prepared], k: usize, half: usize) -> Option<f64> {
    let window = &frames[k - half..=k + half];
    let errors: Vec<Vec<[f64; 2]>> = window
        .iter()
        .enumerate()
        .map(|(j, f)| {
            let consecutive = f.number == window[0].number + j;
            match (&f.pred, &f.gt, consecutive) {
                (Some((_, p)), Some((g, _)), true) => Some(
                    p.iter()
                        .zip(g)
                        .map(|(a, b)| [a[0] - b[0], a[1] - b[1]])
                        .collect(),
                ),
                _ => None,
            }
        })
        .collect::<Option<_>>()?;
    let weights = savitzky_golay(half);
    let trend: Vec<[f64; 2]> = (0..errors[0].len())
        .map(|i| {
            errors.iter().zip(&weights).fold([0.0, 0.0], |s, (e, w)| {
                [s[0] + w * e[i][0], s[1] + w * e[i][1]]
            })
        })
        .collect();
    let d = frames[k].gt.as_ref()?.1;
    Some(mean_distance(&errors[half], &trend) / d)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn savitzky_golay_weights_keep_quadratics() {
        let w = savitzky_golay(2);
        let want = [-3.0, 12.0, 17.0, 12.0, -3.0].map(|v| v / 35.0);
        assert!(
            w.iter().zip(want).all(|(a, b)| (a - b).abs() < 1e-12),
            "{w:?}"
        );
        for m in 2..6 {
            let w = savitzky_golay(m);
            let fit = |f: &dyn Fn(f64) -> f64| {
                w.iter()
                    .enumerate()
                    .map(|(j, c)| c * f(j as f64 - m as f64))
                    .sum::<f64>()
            };
            assert!((fit(&|_| 1.0) - 1.0).abs() < 1e-12);
            assert!((fit(&|x| 3.0 * x * x - x + 2.0) - 2.0).abs() < 1e-9);
        }
    }

    #[test]
    fn boxes_overlap_by_their_shared_area() {
        let a = [0.0, 0.0, 10.0, 10.0];
        assert!((iou(a, a) - 1.0).abs() < 1e-12);
        assert!((iou(a, [5.0, 0.0, 15.0, 10.0]) - 1.0 / 3.0).abs() < 1e-12);
        assert_eq!(iou(a, [20.0, 20.0, 30.0, 30.0]), 0.0);
    }

    #[test]
    fn still_and_moving_runs_are_derived_from_the_annotations() {
        let gt = |x: f64| Some((vec![[x, 0.0], [x + 10.0, 0.0]], 10.0));
        let frames: Vec<Prepared> = [0.0, 0.0, 0.0, 1.0, 2.0, 2.0]
            .iter()
            .enumerate()
            .map(|(k, &x)| Prepared {
                number: k + 1,
                gt: gt(x),
                pred: None,
            })
            .collect();
        let segments = derive_segments(&frames, 0.01);
        let kinds: Vec<(SegmentKind, usize, usize)> =
            segments.iter().map(|s| (s.kind, s.start, s.end)).collect();
        assert_eq!(
            kinds,
            [
                (SegmentKind::Still, 2, 3),
                (SegmentKind::Move, 4, 5),
                (SegmentKind::Still, 6, 6)
            ]
        );
    }
}
