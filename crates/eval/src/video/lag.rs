//! The lag of the landmarks on turn segments: the time shift of the annotated trajectory that
//! fits the reported one best (see [`crate::video`]).

use super::frames::{Prepared, mean_distance};
use fdfat_data::sequence::{Segment, SegmentKind};
use serde::{Deserialize, Serialize};

/// Frames after a turn's last frame that its lag window also covers (the landmarks of a
/// lagging filter arrive after the turn ends).
pub const LAG_TAIL: usize = 5;
/// The smallest shift searched, in frames (a negative lag leads the truth).
pub const LAG_MIN: f64 = -3.0;
/// The largest shift searched, in frames.
pub const LAG_MAX: f64 = 8.0;
/// The step of the shift grid, in frames.
pub const LAG_STEP: f64 = 0.1;
/// Fewest frames of a window that must be measured for a lag.
const MIN_FRAMES: usize = 3;

/// The lag measured on one turn.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct TurnLag {
    /// The turn's first frame number.
    pub start: usize,
    /// The turn's last frame number.
    pub end: usize,
    /// Frames the landmarks trail the true motion.
    pub lag: f64,
    /// The normalised error at that shift.
    pub error: f64,
}

/// The annotated points at fractional frame number `t`, interpolated linearly between the two
/// annotated frames around it.
fn gt_at(frames: &[Prepared], first: usize, t: f64) -> Option<Vec<[f64; 2]>> {
    if t < first as f64 {
        return None;
    }
    let lo = t.floor() as usize;
    let w = t - lo as f64;
    let at = |n: usize| frames.get(n - first).filter(|f| f.number == n)?.gt.as_ref();
    let g0 = &at(lo)?.0;
    if w < 1e-9 {
        return Some(g0.clone());
    }
    let g1 = &at(lo + 1)?.0;
    Some(
        g0.iter()
            .zip(g1)
            .map(|(a, b)| [a[0] + (b[0] - a[0]) * w, a[1] + (b[1] - a[1]) * w])
            .collect(),
    )
}

/// The lag of every turn: labelled turns, or derived moving runs when `derived`. Frames must be
/// numbered consecutively from their first for the interpolation; other frames are skipped.
pub(super) fn turn_lags(frames: &[Prepared], segments: &[Segment], derived: bool) -> Vec<TurnLag> {
    let Some(first) = frames.first().map(|f| f.number) else {
        return Vec::new();
    };
    let wanted = if derived {
        SegmentKind::Move
    } else {
        SegmentKind::Turn
    };
    segments
        .iter()
        .filter(|s| s.kind == wanted)
        .filter_map(|s| {
            let window: Vec<(&[[f64; 2]], f64, usize)> = frames
                .iter()
                .filter(|f| f.number + 1 >= s.start && f.number <= s.end + LAG_TAIL)
                .filter_map(|f| match (&f.pred, &f.gt) {
                    (Some((_, p)), Some((_, d))) => Some((p.as_slice(), *d, f.number)),
                    _ => None,
                })
                .collect();
            let steps = ((LAG_MAX - LAG_MIN) / LAG_STEP).round() as usize;
            (0..=steps)
                .filter_map(|k| {
                    let shift = LAG_MIN + k as f64 * LAG_STEP;
                    let errors: Vec<f64> = window
                        .iter()
                        .filter_map(|(p, d, n)| {
                            let g = gt_at(frames, first, *n as f64 - shift)?;
                            Some(mean_distance(p, &g) / d)
                        })
                        .collect();
                    (errors.len() >= MIN_FRAMES.max(window.len() / 2))
                        .then(|| (shift, errors.iter().sum::<f64>() / errors.len() as f64))
                })
                .min_by(|a, b| a.1.total_cmp(&b.1).then(a.0.abs().total_cmp(&b.0.abs())))
                .map(|(lag, error)| TurnLag {
                    start: s.start,
                    end: s.end,
                    lag,
                    error,
                })
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A point moving along a smooth ramp from frame 10 to 20, annotated exactly and reported
    /// `delay` frames late.
    fn ramp(delay: f64) -> Vec<Prepared> {
        let x = |t: f64| {
            let u = ((t - 10.0) / 10.0).clamp(0.0, 1.0);
            100.0 * (1.0 - (std::f64::consts::PI * u).cos()) / 2.0
        };
        (1..=40)
            .map(|n| {
                let t = n as f64;
                let points = |x: f64| vec![[x, 0.0], [x + 10.0, 5.0]];
                Prepared {
                    number: n,
                    gt: Some((points(x(t)), 10.0)),
                    pred: Some((0, points(x(t - delay)))),
                }
            })
            .collect()
    }

    #[test]
    fn a_delayed_trajectory_gives_its_delay() {
        let turn = [Segment {
            kind: SegmentKind::Turn,
            start: 11,
            end: 20,
        }];
        for delay in [0.0, 1.0, 2.5] {
            let lags = turn_lags(&ramp(delay), &turn, false);
            assert_eq!(lags.len(), 1);
            assert!((lags[0].lag - delay).abs() < 0.051, "{delay}: {lags:?}");
            assert!(lags[0].error < 0.05, "{lags:?}");
        }
        // derived segments measure moving runs, not turns
        assert!(turn_lags(&ramp(1.0), &turn, true).is_empty());
    }
}
