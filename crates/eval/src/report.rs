//! The evaluation report: every figure of an evaluation, serialised to JSON (fixed top-level keys
//! `nme_mean`, `nme_median`, `fr`, `auc`, `fr_threshold`, `count`, `pose_buckets`, `parts`,
//! `samples`, plus more), shown as a console table, and written with its two pictures.
//! NME values are fractions of the normalising distance (0.045), not percent.

use crate::buckets::BucketStats;
use crate::error::EvalError;
use crate::face_cls::FaceClsStats;
use crate::plot;
use crate::stats::CedPoint;
use serde::{Deserialize, Serialize};
use std::fmt;
use std::path::{Path, PathBuf};

/// One evaluated image in the report.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SampleRecord {
    /// The image path.
    pub image: String,
    /// Its NME (fraction).
    pub nme: f64,
    /// Yaw in degrees; `null` when the pose could not be estimated.
    pub yaw: Option<f64>,
    /// Pitch in degrees.
    pub pitch: Option<f64>,
    /// Roll in degrees.
    pub roll: Option<f64>,
    /// Face score, when the model has the face-classification head.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub face_score: Option<f64>,
}

/// NME figures of an image subset (a WFLW attribute).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SubsetStats {
    /// Subset name (`pose`, `expression`, `illumination`, `makeup`, `occlusion`, `blur`).
    pub name: String,
    /// Images in the subset.
    pub count: usize,
    /// Mean NME; `null` for an empty subset.
    pub nme_mean: Option<f64>,
    /// Failure rate at the report's threshold.
    pub fr: Option<f64>,
    /// AUC at the report's threshold.
    pub auc: Option<f64>,
}

/// How the figures were obtained, in words.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Protocol {
    /// The eval crop and the mapping of predictions back to the image.
    pub crop: String,
    /// Which points are compared.
    pub points: String,
    /// The normalising distance.
    pub normalisation: String,
    /// FR, AUC and CED definitions.
    pub fr_auc: String,
    /// How the head pose was estimated and its angle convention.
    pub pose: String,
    /// How `|yaw|` buckets are bounded.
    pub buckets: String,
}

/// Every figure of one evaluation.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Report {
    /// Mean NME over the images.
    pub nme_mean: f64,
    /// Median NME.
    pub nme_median: f64,
    /// Failure rate: fraction of images with NME > `fr_threshold`.
    pub fr: f64,
    /// Area under the CED from 0 to `fr_threshold`, divided by it.
    pub auc: f64,
    /// The FR / AUC threshold (fraction).
    pub fr_threshold: f64,
    /// Images with landmarks evaluated.
    pub count: usize,
    /// Per `|yaw|` bucket counts and mean NMEs.
    pub pose_buckets: Vec<BucketStats>,
    /// Part name -> mean NME of its points, in the scheme's part order.
    #[serde(with = "crate::ordered_map")]
    pub parts: Vec<(String, f64)>,
    /// Per-image NME and pose.
    pub samples: Vec<SampleRecord>,
    /// Population standard deviation of the NMEs.
    pub nme_std: f64,
    /// Smallest NME.
    pub nme_min: f64,
    /// Largest NME.
    pub nme_max: f64,
    /// `inter_ocular` or `inter_pupil`.
    pub nme_norm: String,
    /// Scheme of the compared points (`landmarks` follows its order).
    pub scheme: String,
    /// Mean NME of each compared point.
    pub landmarks: Vec<f64>,
    /// 2D layout of the compared points for the per-landmark picture (the scheme's
    /// `mean_shape_3d` x, y, else the mean normalised ground truth).
    pub mean_face: Vec<[f64; 2]>,
    /// CED step corners.
    pub ced: Vec<CedPoint>,
    /// Images whose pose could not be estimated (in no bucket).
    pub pose_unavailable: usize,
    /// WFLW attribute subsets (empty when the data has no attributes).
    pub attributes: Vec<SubsetStats>,
    /// Face-classification figures, when scores and labels were given.
    pub face_cls: Option<FaceClsStats>,
    /// How the figures were obtained.
    pub protocol: Protocol,
    /// The evaluated checkpoint, when known.
    pub checkpoint: Option<String>,
    /// Model architecture.
    pub model: String,
    /// Evaluated split (`train`, `val`, `test`).
    pub split: String,
}

/// The files [`Report::write`] wrote.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReportFiles {
    /// The JSON report.
    pub json: PathBuf,
    /// The CED plot.
    pub ced_png: PathBuf,
    /// The per-landmark NME picture.
    pub landmarks_png: PathBuf,
}

impl Report {
    /// The report file name in a run directory: `val_<split>.json`.
    pub fn default_file_name(&self) -> String {
        format!("val_{}.json", self.split)
    }

    /// The report as pretty-printed JSON.
    pub fn to_json(&self) -> String {
        serde_json::to_string_pretty(self).expect("a report holds only finite numbers and strings")
    }

    /// Reads a report written by [`Report::write`].
    pub fn read(path: &Path) -> Result<Self, EvalError> {
        let text = std::fs::read_to_string(path).map_err(|source| EvalError::Io {
            action: "read",
            path: path.to_path_buf(),
            source,
        })?;
        serde_json::from_str(&text).map_err(|source| EvalError::Json {
            path: path.to_path_buf(),
            source,
        })
    }

    /// Writes the JSON report and, beside it, `<stem>_ced.png` and `<stem>_landmarks.png`.
    /// `target` is the JSON file when it ends in `.json`, else a folder (created when missing)
    /// that receives [`Report::default_file_name`].
    pub fn write(&self, target: &Path) -> Result<ReportFiles, EvalError> {
        let json = if target
            .extension()
            .is_some_and(|e| e.eq_ignore_ascii_case("json"))
        {
            target.to_path_buf()
        } else {
            target.join(self.default_file_name())
        };
        let dir = parent_dir(&json).to_path_buf();
        let stem = json
            .file_stem()
            .and_then(|s| s.to_str())
            .unwrap_or("report");
        let files = ReportFiles {
            ced_png: dir.join(format!("{stem}_ced.png")),
            landmarks_png: dir.join(format!("{stem}_landmarks.png")),
            json,
        };
        let ced = plot::ced_png(self)?;
        let landmarks = plot::landmarks_png(self)?;
        write_all(vec![
            (&files.json, self.to_json().into_bytes()),
            (&files.ced_png, ced),
            (&files.landmarks_png, landmarks),
        ])?;
        Ok(files)
    }
}

/// The folder of a report file (`.` for a bare file name).
pub(crate) fn parent_dir(file: &Path) -> &Path {
    file.parent()
        .filter(|d| !d.as_os_str().is_empty())
        .unwrap_or(Path::new("."))
}

/// Writes each `(path, bytes)`, creating the folders and replacing each file atomically.
pub(crate) fn write_all<P: AsRef<Path>>(files: Vec<(P, Vec<u8>)>) -> Result<(), EvalError> {
    let io_error = |path: &Path| {
        let path = path.to_path_buf();
        move |source| EvalError::Io {
            action: "write",
            path,
            source,
        }
    };
    for (path, bytes) in files {
        let path = path.as_ref();
        let dir = parent_dir(path);
        std::fs::create_dir_all(dir).map_err(io_error(dir))?;
        fdfat_config::write_atomic(path, &bytes).map_err(io_error(path))?;
    }
    Ok(())
}

fn pct(v: f64) -> String {
    format!("{:.2}%", v * 100.0)
}

fn opt_pct(v: Option<f64>) -> String {
    v.map(pct).unwrap_or_else(|| "-".into())
}

impl fmt::Display for Report {
    /// The console table (NME shown in percent).
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let t = self.fr_threshold;
        writeln!(
            f,
            "{} on split `{}` ({}): {} faces, {} NME over {} points",
            self.checkpoint.as_deref().unwrap_or("model"),
            self.split,
            self.model,
            self.count,
            self.nme_norm,
            self.scheme
        )?;
        writeln!(
            f,
            "  NME mean {}  median {}  std {}  min {}  max {}",
            pct(self.nme_mean),
            pct(self.nme_median),
            pct(self.nme_std),
            pct(self.nme_min),
            pct(self.nme_max)
        )?;
        writeln!(f, "  FR@{t} {}  AUC@{t} {:.4}", pct(self.fr), self.auc)?;
        writeln!(f, "  {:<16}{:>8}{:>10}", "|yaw| (deg)", "count", "NME")?;
        for (i, b) in self.pose_buckets.iter().enumerate() {
            let open = if i == 0 { '[' } else { '(' };
            let range = format!("{open}{}, {}]", b.lo, b.hi);
            writeln!(f, "  {range:<16}{:>8}{:>10}", b.count, opt_pct(b.nme_mean))?;
        }
        if self.pose_unavailable > 0 {
            writeln!(f, "  {:<16}{:>8}", "no pose", self.pose_unavailable)?;
        }
        writeln!(f, "  {:<16}{:>18}", "part", "NME")?;
        for (name, nme) in &self.parts {
            writeln!(f, "  {name:<16}{:>18}", pct(*nme))?;
        }
        if !self.attributes.is_empty() {
            writeln!(
                f,
                "  {:<16}{:>8}{:>10}{:>10}{:>8}",
                "attribute", "count", "NME", "FR", "AUC"
            )?;
            for a in &self.attributes {
                let auc = a
                    .auc
                    .map(|v| format!("{v:.4}"))
                    .unwrap_or_else(|| "-".into());
                writeln!(
                    f,
                    "  {:<16}{:>8}{:>10}{:>10}{auc:>8}",
                    a.name,
                    a.count,
                    opt_pct(a.nme_mean),
                    opt_pct(a.fr)
                )?;
            }
        }
        if let Some(c) = &self.face_cls {
            writeln!(
                f,
                "  face cls ({} images, score >= {}): accuracy {}  precision {}  recall {}",
                c.count,
                c.threshold,
                pct(c.accuracy),
                opt_pct(c.precision),
                opt_pct(c.recall)
            )?;
        }
        Ok(())
    }
}
