//! Video metrics on sequences of known motion: alternating noise on a still face gives the
//! expected still and high-frequency jitter, a delayed trajectory gives its delay as lag, and
//! missing or switched faces are counted.

use fdfat_config::{LandmarkScheme, NmeNorm};
use fdfat_data::sequence::{Segment, SegmentKind};
use fdfat_eval::EvalLayout;
use fdfat_eval::video::{MotionParams, ReportedFace, TrackedFrame, evaluate_sequence};

/// 68 points whose outer eye corners (36, 45) are 100 px apart, shifted right by `dx`.
fn face(dx: f64) -> Vec<[f64; 2]> {
    (0..68)
        .map(|i| match i {
            36 => [100.0 + dx, 100.0],
            45 => [200.0 + dx, 100.0],
            _ => [100.0 + 1.5 * i as f64 + dx, 80.0 + (i % 9) as f64 * 10.0],
        })
        .collect()
}

/// The head's shift at frame `t`: still until frame 20, a cosine turn of 60 px over frames
/// 21-30, still after.
fn shift(t: f64) -> f64 {
    let u = ((t - 20.0) / 10.0).clamp(0.0, 1.0);
    60.0 * (1.0 - (std::f64::consts::PI * u).cos()) / 2.0
}

fn segments() -> Vec<Segment> {
    let seg = |kind, start, end| Segment { kind, start, end };
    vec![
        seg(SegmentKind::Still, 1, 20),
        seg(SegmentKind::Turn, 21, 30),
        seg(SegmentKind::Still, 31, 50),
    ]
}

/// 50 frames annotated at `shift(t)`, reported at `shift(t - delay)` plus `noise (-1)^t` px in
/// x, by track `id(t)` (`None`: no face reported).
fn frames(delay: f64, noise: f64, id: impl Fn(usize) -> Option<u64>) -> Vec<TrackedFrame> {
    (1..=50)
        .map(|n| {
            let t = n as f64;
            let sign = if n % 2 == 0 { 1.0 } else { -1.0 };
            TrackedFrame {
                number: n,
                gt: Some(face(shift(t))),
                faces: id(n)
                    .map(|id| ReportedFace {
                        id,
                        points: face(shift(t - delay) + noise * sign),
                    })
                    .into_iter()
                    .collect(),
                latency: None,
            }
        })
        .collect()
}

fn evaluate(
    frames: &[TrackedFrame],
    labels: Option<&[Segment]>,
) -> fdfat_eval::video::SequenceResult {
    let scheme = LandmarkScheme::load("ibug68").unwrap();
    let layout = EvalLayout::new(&scheme, &scheme).unwrap();
    let params = MotionParams {
        nme_norm: NmeNorm::InterOcular,
        still_threshold: 0.002,
        trend_window: 5,
    };
    evaluate_sequence(&layout, "test", frames, labels, &params).unwrap()
}

#[test]
fn alternating_noise_gives_the_expected_jitter_and_no_lag() {
    let result = evaluate(&frames(0.0, 0.5, |_| Some(0)), Some(&segments()));
    let s = &result.summary;
    // every point is 0.5 px off: NME 0.005; it swings 1 px per frame: still jitter 0.01
    assert!((s.nme_mean.unwrap() - 0.005).abs() < 1e-12, "{s:?}");
    assert!((s.still_jitter.unwrap() - 0.01).abs() < 1e-12, "{s:?}");
    assert_eq!(s.still_frames, 19 + 19);
    // the 5-frame quadratic trend of +-0.5 px is -+0.5 * 13/35 px: 0.5 * 48/35 px left
    assert!(
        (s.hf_jitter.unwrap() - 0.005 * 48.0 / 35.0).abs() < 1e-9,
        "{s:?}"
    );
    assert_eq!(s.hf_frames, 10);
    assert!(s.lag.unwrap().abs() < 0.051, "{s:?}");
    assert_eq!((s.lost_frames, s.id_switches, s.track_ids), (0, 0, 1));
}

#[test]
fn a_delayed_trajectory_lags_by_its_delay() {
    for delay in [1.0, 2.0, 3.5] {
        let result = evaluate(&frames(delay, 0.0, |_| Some(0)), Some(&segments()));
        let s = &result.summary;
        assert_eq!(s.turns, 1);
        // half-frame delays meet the linear interpolation of the annotations
        let tolerance = if delay.fract() == 0.0 { 0.051 } else { 0.151 };
        assert!((s.lag.unwrap() - delay).abs() < tolerance, "{delay}: {s:?}");
        // a smooth delay leaves little high-frequency error
        assert!(s.hf_jitter.unwrap() < 0.002, "{delay}: {s:?}");
    }
    // without labels the turn is found from the annotations and gives the same lag
    let derived = evaluate(&frames(2.0, 0.0, |_| Some(0)), None);
    assert!(derived.segments_derived);
    assert_eq!(derived.summary.turns, 1);
    assert!(
        (derived.summary.lag.unwrap() - 2.0).abs() < 0.051,
        "{:?}",
        derived.summary
    );
    // still frames are found too, and a still face held still has no jitter
    assert!(derived.summary.still_frames >= 30, "{:?}", derived.summary);
    assert!(derived.summary.still_jitter.unwrap() < 0.01);
}

#[test]
fn lost_faces_and_identity_switches_are_counted() {
    let id = |n: usize| match n {
        10..=12 => None,
        1..=29 => Some(0),
        _ => Some(7),
    };
    let s = evaluate(&frames(0.0, 0.0, id), Some(&segments())).summary;
    assert_eq!(s.lost_frames, 3);
    assert_eq!(s.reacquired, 1);
    assert_eq!(s.id_switches, 1);
    assert_eq!(s.track_ids, 2);
    assert_eq!(s.tracked, 47);
    // a face far from the annotation is not matched: lost
    let mut far = frames(0.0, 0.0, |_| Some(0));
    far[4].faces[0].points = face(1000.0);
    assert_eq!(evaluate(&far, None).summary.lost_frames, 1);
}
