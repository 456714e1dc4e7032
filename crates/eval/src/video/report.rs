//! The report of `--task val` on sequences: one run of the tracker per smoother over every
//! sequence, a comparison table against no smoothing, the JSON file and its plots.

use super::frames::SequenceResult;
use super::plot::{jitter_lag_png, nme_over_time_png};
use super::summary::Summary;
use crate::error::EvalError;
use crate::report::{parent_dir, write_all};
use serde::{Deserialize, Serialize};
use std::fmt;
use std::path::{Path, PathBuf};

/// The smoother every other is compared with.
const BASELINE: &str = "none";

/// One smoother's run over every sequence.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SmootherRun {
    /// The smoother (`none`, `kalman`, `one_euro`).
    pub smoother: String,
    /// Its parameters, as text.
    pub settings: String,
    /// The figures of every sequence pooled.
    pub overall: Summary,
    /// Per sequence.
    pub sequences: Vec<SequenceResult>,
}

impl SmootherRun {
    /// A run of `smoother` over `sequences`, with the pooled figures.
    pub fn new(smoother: String, settings: String, sequences: Vec<SequenceResult>) -> Self {
        Self {
            overall: Summary::pooled(&sequences),
            smoother,
            settings,
            sequences,
        }
    }
}

/// One row of the comparison: a smoother's pooled figures and how they compare with no
/// smoothing.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Comparison {
    /// The smoother.
    pub smoother: String,
    /// Mean NME.
    pub nme: Option<f64>,
    /// Mean still jitter.
    pub still_jitter: Option<f64>,
    /// Mean high-frequency jitter.
    pub hf_jitter: Option<f64>,
    /// Mean lag on turns, frames.
    pub lag: Option<f64>,
    /// Lag minus that of no smoothing, frames.
    pub lag_added: Option<f64>,
    /// Still jitter over that of no smoothing.
    pub still_jitter_ratio: Option<f64>,
    /// NME over that of no smoothing.
    pub nme_ratio: Option<f64>,
    /// Median latency per frame, ms.
    pub latency_median_ms: Option<f64>,
    /// 95th-percentile latency per frame, ms.
    pub latency_p95_ms: Option<f64>,
}

/// The whole report.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct VideoReport {
    /// The landmark model.
    pub checkpoint: String,
    /// The face detector.
    pub detector: String,
    /// Detector runs per second of input (the cadence follows frame times, not the clock).
    pub detector_fps: f64,
    /// The NME normaliser.
    pub nme_norm: String,
    /// `val_still_threshold`.
    pub still_threshold: f64,
    /// `val_trend_window`.
    pub trend_window: usize,
    /// The sequence folders.
    pub sequences: Vec<String>,
    /// Frames left out (`skip_bad`), each with its file and reason.
    pub skipped: Vec<String>,
    /// Every smoother against no smoothing.
    pub comparison: Vec<Comparison>,
    /// The runs.
    pub runs: Vec<SmootherRun>,
}

/// The files a report was written to.
#[derive(Debug, Clone, PartialEq)]
pub struct VideoReportFiles {
    /// The JSON report.
    pub json: PathBuf,
    /// Still jitter against lag, one point per smoother.
    pub jitter_lag_png: PathBuf,
    /// NME over time per sequence, one line per smoother.
    pub nme_pngs: Vec<PathBuf>,
}

fn ratio(a: Option<f64>, b: Option<f64>) -> Option<f64> {
    match (a, b) {
        (Some(a), Some(b)) if b > 0.0 => Some(a / b),
        _ => None,
    }
}

impl Comparison {
    fn of(run: &SmootherRun, baseline: Option<&Summary>) -> Self {
        let o = &run.overall;
        Self {
            smoother: run.smoother.clone(),
            nme: o.nme_mean,
            still_jitter: o.still_jitter,
            hf_jitter: o.hf_jitter,
            lag: o.lag,
            lag_added: baseline.and_then(|b| Some(o.lag? - b.lag?)),
            still_jitter_ratio: ratio(o.still_jitter, baseline.and_then(|b| b.still_jitter)),
            nme_ratio: ratio(o.nme_mean, baseline.and_then(|b| b.nme_mean)),
            latency_median_ms: o.latency.total_ms.median,
            latency_p95_ms: o.latency.total_ms.p95,
        }
    }
}

impl VideoReport {
    /// Fills in the comparison of `runs` against the `none` run (when there is one).
    pub fn compare(&mut self) {
        let baseline = self
            .runs
            .iter()
            .find(|r| r.smoother == BASELINE)
            .map(|r| r.overall.clone());
        self.comparison = self
            .runs
            .iter()
            .map(|r| Comparison::of(r, baseline.as_ref()))
            .collect();
    }

    /// Writes the JSON report to `json` (its folder created), the jitter-lag plot beside it as
    /// `<stem>_jitter_lag.png`, and per sequence `<stem>_<sequence>_nme.png`.
    pub fn write(&self, json: &Path) -> Result<VideoReportFiles, EvalError> {
        let dir = parent_dir(json);
        let stem = json
            .file_stem()
            .and_then(|s| s.to_str())
            .unwrap_or("val_sequences");
        let mut files = VideoReportFiles {
            json: json.to_path_buf(),
            jitter_lag_png: dir.join(format!("{stem}_jitter_lag.png")),
            nme_pngs: Vec::new(),
        };
        let text = serde_json::to_string_pretty(self).map_err(|source| EvalError::Json {
            path: json.to_path_buf(),
            source,
        })?;
        let mut outputs = vec![
            (files.json.clone(), text.into_bytes()),
            (
                files.jitter_lag_png.clone(),
                jitter_lag_png(&self.comparison)?,
            ),
        ];
        for (k, name) in self.sequences.iter().enumerate() {
            let runs: Vec<(&str, &SequenceResult)> = self
                .runs
                .iter()
                .filter_map(|r| Some((r.smoother.as_str(), r.sequences.get(k)?)))
                .collect();
            let safe: String = name
                .chars()
                .map(|c| if c.is_ascii_alphanumeric() { c } else { '_' })
                .collect();
            let path = dir.join(format!("{stem}_{safe}_nme.png"));
            outputs.push((path.clone(), nme_over_time_png(name, &runs)?));
            files.nme_pngs.push(path);
        }
        write_all(outputs)?;
        Ok(files)
    }
}

/// A figure for the table: `-` when absent.
fn cell(value: Option<f64>, digits: usize) -> String {
    value.map_or_else(|| "-".into(), |v| format!("{v:.digits$}"))
}

impl fmt::Display for VideoReport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(
            f,
            "{:<10} {:>8} {:>8} {:>8} {:>8} {:>7} {:>7} {:>7} {:>5} {:>5} {:>9} {:>9}",
            "smoother",
            "NME",
            "still J",
            "HF J",
            "J/none",
            "lag",
            "+lag",
            "NME/no",
            "lost",
            "idsw",
            "ms med",
            "ms p95"
        )?;
        for (row, run) in self.comparison.iter().zip(&self.runs) {
            writeln!(
                f,
                "{:<10} {:>8} {:>8} {:>8} {:>8} {:>7} {:>7} {:>7} {:>5} {:>5} {:>9} {:>9}",
                row.smoother,
                cell(row.nme, 4),
                cell(row.still_jitter, 5),
                cell(row.hf_jitter, 5),
                cell(row.still_jitter_ratio, 3),
                cell(row.lag, 2),
                cell(row.lag_added, 2),
                cell(row.nme_ratio, 3),
                run.overall.lost_frames,
                run.overall.id_switches,
                cell(row.latency_median_ms, 2),
                cell(row.latency_p95_ms, 2),
            )?;
        }
        if let Some(run) = self.runs.first() {
            let l = &run.overall.latency;
            writeln!(
                f,
                "latency per frame ({}, {} frames, detector on {}): detector {} / {} ms, landmarks {} / {} ms, tracking {} / {} ms (median / p95)",
                run.smoother,
                l.frames,
                l.detector_runs,
                cell(l.detector_ms.median, 2),
                cell(l.detector_ms.p95, 2),
                cell(l.landmarks_ms.median, 2),
                cell(l.landmarks_ms.p95, 2),
                cell(l.tracking_ms.median, 3),
                cell(l.tracking_ms.p95, 3),
            )?;
        }
        Ok(())
    }
}
