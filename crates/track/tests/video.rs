//! The whole tracker (RFB-320 detector, the published LWModel, SORT, smoothing) on small
//! rendered sequences with known truth, measured by `fdfat_eval::video`: One-Euro at least
//! halves the still jitter of no smoothing with at most one frame more lag on the fast turns
//! and NME within 5%, and a held face is all but still with One-Euro. Run with `--nocapture`
//! for the figures.

mod common;

use common::{LW_ONNX, detector, landmarks};
use fdfat_config::{LandmarkScheme, NmeNorm, Smoother};
use fdfat_data::sequence::Sequence;
use fdfat_data::synth::{SequenceSpec, generate_sequences};
use fdfat_eval::EvalLayout;
use fdfat_eval::video::{MotionParams, SequenceResult, Summary, evaluate_sequence};
use fdfat_track::{FaceTracker, SmootherParams, SortParams, TrackerParams, Truth, track_sequence};

/// One rendered sequence of `frames` frames at 320x240, 30 fps.
fn rendered(dir: &std::path::Path, frames: usize, seed: u64) -> Sequence {
    let spec = SequenceSpec {
        count: 1,
        frames,
        width: 320,
        height: 240,
        fps: 30.0,
        seed,
        threads: 2,
    };
    let dirs = generate_sequences(dir, &spec).unwrap();
    Sequence::open(&dirs[0], 30.0).unwrap()
}

/// The tracker run with `smoother` over `seq`, measured. The published face-cls head scores
/// the toy faces 0.3-0.99, so faces are kept from a score of 0.2.
fn run(tracker: &mut FaceTracker, seq: &Sequence, smoother: Smoother) -> SequenceResult {
    tracker.restart(TrackerParams {
        detector_fps: 2.0,
        face_threshold: 0.2,
        sort: SortParams {
            smoother: SmootherParams::of(smoother),
            ..SortParams::default()
        },
    });
    let truth: Vec<Truth> = seq
        .frames
        .iter()
        .map(|f| {
            Some(
                f.landmarks()
                    .unwrap()
                    .iter()
                    .map(|p| p.map(f64::from))
                    .collect(),
            )
        })
        .collect();
    let frames = track_sequence(tracker, seq, &truth, || {}).unwrap();
    let layout = EvalLayout::new(
        &LandmarkScheme::load("facesynthetics70").unwrap(),
        &LandmarkScheme::load("ibug68").unwrap(),
    )
    .unwrap();
    let params = MotionParams {
        nme_norm: NmeNorm::InterOcular,
        still_threshold: 0.002,
        trend_window: 5,
    };
    evaluate_sequence(
        &layout,
        &seq.name,
        &frames,
        seq.segments.as_deref(),
        &params,
    )
    .unwrap()
}

/// The figures without smoothing and with One-Euro on a rendered sequence of `frames`
/// frames from `seed`, printed; `None` (test skipped) without the shared models.
fn none_and_one_euro(frames: usize, seed: u64) -> Option<(Summary, Summary)> {
    let mut tracker = FaceTracker::new(
        detector()?,
        landmarks(LW_ONNX)?,
        TrackerParams {
            detector_fps: 2.0,
            face_threshold: 0.2,
            sort: SortParams::default(),
        },
    );
    let dir = tempfile::tempdir().unwrap();
    let seq = rendered(dir.path(), frames, seed);
    let none = run(&mut tracker, &seq, Smoother::None).summary;
    let euro = run(&mut tracker, &seq, Smoother::OneEuro).summary;
    for (name, s) in [("none", &none), ("one_euro", &euro)] {
        println!(
            "{frames} frames, seed {seed}, {name}: NME {:.4}, still jitter {:.5} ({} frames), \
             HF jitter {:.5}, lag {:.2} ({} turns), lost {}",
            s.nme_mean.unwrap_or(f64::NAN),
            s.still_jitter.unwrap_or(f64::NAN),
            s.still_frames,
            s.hf_jitter.unwrap_or(f64::NAN),
            s.lag.unwrap_or(f64::NAN),
            s.turns,
            s.lost_frames
        );
    }
    Some((none, euro))
}

#[test]
fn one_euro_halves_still_jitter_with_at_most_a_frame_of_lag() {
    let Some((none, euro)) = none_and_one_euro(60, 11) else {
        return;
    };
    for s in [&none, &euro] {
        assert_eq!((s.lost_frames, s.id_switches), (0, 0), "{s:?}");
        assert!(s.turns >= 1 && s.still_frames >= 20, "{s:?}");
        assert!(s.nme_mean.unwrap() < 0.12, "{s:?}");
    }
    let (j0, j1) = (none.still_jitter.unwrap(), euro.still_jitter.unwrap());
    assert!(
        j1 <= 0.5 * j0,
        "still jitter {j1} vs {j0} without smoothing"
    );
    let added = euro.lag.unwrap() - none.lag.unwrap();
    assert!(added <= 1.0, "One-Euro adds {added} frames of lag");
    let (n0, n1) = (none.nme_mean.unwrap(), euro.nme_mean.unwrap());
    assert!((n1 / n0 - 1.0).abs() <= 0.05, "NME {n1} vs {n0}");
}

#[test]
fn a_held_face_is_all_but_still_with_one_euro() {
    // the first segment of every script is a hold of at least 12 frames
    let Some((none, euro)) = none_and_one_euro(12, 5) else {
        return;
    };
    assert_eq!(euro.still_frames, 11);
    let jitter = euro.still_jitter.unwrap();
    assert!(
        jitter < 0.002 && jitter < 0.5 * none.still_jitter.unwrap(),
        "{euro:?}"
    );
}
