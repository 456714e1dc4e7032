//! `--task val` on video: when `data` names a folder, it is a sequence in the 300-VW layout
//! (`imgs/`, `annot/`, optional `segments.json`) or a folder of them. The whole tracker
//! (detector of `track_detector`, landmark model of `track_landmark` else `checkpoint`, SORT
//! association, smoothing) runs over every sequence once per smoother (none, Kalman,
//! One-Euro), and the per-frame NME, jitter, lag, tracking events and latency
//! (`fdfat_eval::video`) go to the JSON report (`val_report`, default
//! `<run dir>/val_sequences.json`) with an NME-over-time plot per sequence and a jitter-lag plot.
//!
//! Frame times come from the frame numbers and the frame rate, never the clock, so the
//! detector's cadence (`track_detector_fps`) and the One-Euro filter are deterministic.

use anyhow::{Context, anyhow, bail};
use fdfat_config::{Config, LandmarkScheme, Smoother};
use fdfat_data::sequence::Sequence;
use fdfat_eval::EvalLayout;
use fdfat_eval::video::{MotionParams, SmootherRun, VideoReport, evaluate_sequence};
use fdfat_track::{FaceTracker, SmootherParams, TrackerParams, Truth, track_sequence};
use indicatif::{ProgressBar, ProgressStyle};
use std::path::{Path, PathBuf};

/// The smoothers every evaluation compares, the baseline first.
const SMOOTHERS: [Smoother; 3] = [Smoother::None, Smoother::Kalman, Smoother::OneEuro];

/// Evaluates the tracker on the sequences under `root`.
pub fn run(cfg: &Config, root: &Path) -> anyhow::Result<()> {
    let sequences = Sequence::find_all(root, cfg.track_input_fps)?;
    let mut skipped = Vec::new();
    let truths: Vec<Vec<Truth>> = sequences
        .iter()
        .map(|s| read_truth(s, cfg.skip_bad, &mut skipped))
        .collect::<anyhow::Result<_>>()?;
    let detector = crate::predict::detector(cfg)?.ok_or_else(|| {
        anyhow!(
            "`track_detector` must name the face detector ONNX file for --task val on sequences"
        )
    })?;
    let landmarks = crate::predict::landmark_model(cfg)?;
    let checkpoint = landmarks.source().display().to_string();
    let model_scheme = LandmarkScheme::for_points(landmarks.points()).ok_or_else(|| {
        anyhow!(
            "the landmark model has {} points: no built-in scheme has that many",
            landmarks.points()
        )
    })?;
    let layout = EvalLayout::new(&model_scheme, &LandmarkScheme::load("ibug68")?)?;
    let total: usize = sequences.iter().map(|s| s.frames.len()).sum();
    println!(
        "val: {} sequence(s), {total} frames, under `{}`; {}",
        sequences.len(),
        root.display(),
        layout.describe()
    );
    for line in &skipped {
        eprintln!("  skipped (skip_bad: true): {line}");
    }
    let motion = MotionParams {
        nme_norm: cfg.nme_norm,
        still_threshold: cfg.val_still_threshold,
        trend_window: cfg.val_trend_window,
    };
    let base = TrackerParams::from_config(cfg);
    let mut tracker = FaceTracker::new(detector, landmarks, base);
    if cfg.test_warmup {
        warm_up(&mut tracker, &sequences)?;
    }
    let bar = progress(total * SMOOTHERS.len());
    let mut runs = Vec::new();
    for smoother in SMOOTHERS {
        let mut params = base;
        params.sort.smoother = SmootherParams {
            kind: smoother,
            ..SmootherParams::from_config(cfg)
        };
        let mut results = Vec::new();
        for (seq, truth) in sequences.iter().zip(&truths) {
            bar.set_message(format!("{smoother} {}", seq.name));
            tracker.restart(params);
            let frames = track_sequence(&mut tracker, seq, truth, || bar.inc(1))?;
            results.push(evaluate_sequence(
                &layout,
                &seq.name,
                &frames,
                seq.segments.as_deref(),
                &motion,
            )?);
        }
        runs.push(SmootherRun::new(
            smoother.to_string(),
            settings(cfg, smoother),
            results,
        ));
    }
    bar.finish_and_clear();
    let mut report = VideoReport {
        checkpoint,
        detector: cfg.track_detector.clone().unwrap_or_default(),
        detector_fps: cfg.track_detector_fps,
        nme_norm: cfg.nme_norm.to_string(),
        still_threshold: cfg.val_still_threshold,
        trend_window: cfg.val_trend_window,
        sequences: sequences.iter().map(|s| s.name.clone()).collect(),
        skipped,
        comparison: Vec::new(),
        runs,
    };
    report.compare();
    print!("{report}");
    let target = cfg.val_report.as_ref().map_or_else(
        || crate::val::run_folder(cfg).join("val_sequences.json"),
        PathBuf::from,
    );
    let files = report
        .write(&target)
        .context("cannot write the val report")?;
    println!(
        "report: {} (plots {} and {} NME-over-time)",
        files.json.display(),
        files.jitter_lag_png.display(),
        files.nme_pngs.len()
    );
    Ok(())
}

/// Every frame's annotation; a frame without a usable annotation or image is an error naming
/// the sequence, frame and file, or with `skip_bad` is listed in `skipped` and left out.
fn read_truth(
    seq: &Sequence,
    skip_bad: bool,
    skipped: &mut Vec<String>,
) -> anyhow::Result<Vec<Truth>> {
    seq.frames
        .iter()
        .map(|frame| {
            let problem = match (&frame.image, frame.landmarks()) {
                (Some(_), Ok(points)) => {
                    return Ok(Some(points.iter().map(|p| p.map(f64::from)).collect()));
                }
                (None, _) => format!(
                    "frame {} has no image in imgs/ (annotation `{}`)",
                    frame.number,
                    frame.annotation.clone().unwrap_or_default().display()
                ),
                (Some(_), Err(e)) => format!("frame {}: {e}", frame.number),
            };
            let message = format!("sequence `{}`, {problem}", seq.dir.display());
            if skip_bad {
                skipped.push(message);
                Ok(None)
            } else {
                bail!("{message} (set `skip_bad: true` to evaluate the other frames)")
            }
        })
        .collect()
}

/// One run of the detector and landmark model on the first frame, so that first-call costs do
/// not count in the latency.
fn warm_up(tracker: &mut FaceTracker, sequences: &[Sequence]) -> anyhow::Result<()> {
    let params = *tracker.params();
    if let Some(path) = sequences
        .iter()
        .flat_map(|s| &s.frames)
        .find_map(|f| f.image.as_ref())
    {
        let image = fdfat_data::read_rgb(path)?;
        tracker.process(&image, 0.0)?;
        tracker.process(&image, 0.0)?;
    }
    tracker.restart(params);
    Ok(())
}

/// A smoother's parameters as text for the report.
fn settings(cfg: &Config, smoother: Smoother) -> String {
    match smoother {
        Smoother::None => "measured landmarks".into(),
        Smoother::Kalman => {
            "constant velocity per landmark, R = 0.1^2, Q from 0.04 px/frame^2".into()
        }
        Smoother::OneEuro => format!(
            "min_cutoff {} Hz, beta {}, d_cutoff {} Hz",
            cfg.track_one_euro_min_cutoff, cfg.track_one_euro_beta, cfg.track_one_euro_d_cutoff
        ),
    }
}

fn progress(len: usize) -> ProgressBar {
    let bar = ProgressBar::new(len as u64);
    bar.set_style(
        ProgressStyle::with_template("val {msg} [{bar:30}] {pos}/{len} ({per_sec}, eta {eta})")
            .unwrap_or_else(|_| ProgressStyle::default_bar())
            .progress_chars("=> "),
    );
    bar
}
