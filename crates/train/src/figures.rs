//! Per-epoch figures accumulated over batches.

use crate::objective::BatchFigures;
use std::collections::BTreeMap;
use std::time::Duration;

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
    waiting: Duration,
    computing: Duration,
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

    /// Adds time spent waiting for the input pipeline.
    pub fn add_wait(&mut self, d: Duration) {
        self.waiting += d;
    }

    /// Adds time spent in the model step (forward, backward, optimizer).
    pub fn add_compute(&mut self, d: Duration) {
        self.computing += d;
    }

    /// Training speed: images/s overall, images/s of the model step alone, and the share of
    /// time spent waiting for data.
    pub fn throughput(&self) -> String {
        let total = (self.waiting + self.computing).as_secs_f64().max(1e-9);
        let compute = self.computing.as_secs_f64().max(1e-9);
        format!(
            "{:.1} img/s, {:.1} img/s model step only, data wait {:.0}%",
            self.samples as f64 / total,
            self.samples as f64 / compute,
            100.0 * self.waiting.as_secs_f64() / total
        )
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
