//! Per-epoch figures accumulated over batches.

use crate::objective::BatchFigures;
use std::collections::BTreeMap;

/// Running sums of one epoch's batch figures.
#[derive(Debug, Clone, Default)]
pub struct EpochFigures {
    batches: usize,
    samples: usize,
    total: f64,
    parts: Vec<f64>,
    face: f64,
    face_batches: usize,
    pose: f64,
    pose_batches: usize,
    face_correct: usize,
    nme_sum: f64,
    nme_count: usize,
}

impl EpochFigures {
    /// Adds a batch.
    pub fn add(&mut self, b: &BatchFigures) {
        self.batches += 1;
        self.samples += b.samples;
        self.total += b.total;
        if self.parts.len() < b.parts.len() {
            self.parts.resize(b.parts.len(), 0.0);
        }
        for (sum, v) in self.parts.iter_mut().zip(&b.parts) {
            *sum += v;
        }
        if let Some(pose) = b.pose {
            self.pose += pose;
            self.pose_batches += 1;
        }
        if let Some(face) = b.face {
            self.face += face;
            self.face_batches += 1;
            self.face_correct += b.face_correct;
        }
        self.nme_sum += b.nme_sum;
        self.nme_count += b.nme_count;
    }

    /// Mean objective per batch so far.
    pub fn total(&self) -> f64 {
        self.total / self.batches.max(1) as f64
    }

    /// Mean NME over faces so far (NaN before any face).
    pub fn nme(&self) -> f64 {
        if self.nme_count == 0 {
            f64::NAN
        } else {
            self.nme_sum / self.nme_count as f64
        }
    }

    /// Samples seen.
    pub fn samples(&self) -> usize {
        self.samples
    }

    /// Face accuracy so far, when the model has the face head.
    pub fn face_accuracy(&self) -> Option<f64> {
        (self.face_batches > 0).then(|| self.face_correct as f64 / self.samples.max(1) as f64)
    }

    /// Named values with `prefix` (`train` / `val`): total, nme, per-part losses, pose loss,
    /// face loss and accuracy.
    pub fn named(&self, prefix: &str, part_names: &[String]) -> BTreeMap<String, f64> {
        let mut out = BTreeMap::new();
        let n = self.batches.max(1) as f64;
        out.insert(format!("{prefix}_total"), self.total());
        out.insert(format!("{prefix}_nme"), self.nme());
        for (name, sum) in part_names.iter().zip(&self.parts) {
            out.insert(format!("{prefix}_{name}"), sum / n);
        }
        if self.pose_batches > 0 {
            out.insert(
                format!("{prefix}_pose"),
                self.pose / self.pose_batches as f64,
            );
        }
        if let Some(acc) = self.face_accuracy() {
            out.insert(
                format!("{prefix}_face"),
                self.face / self.face_batches as f64,
            );
            out.insert(format!("{prefix}_face_acc"), acc);
        }
        out
    }
}
