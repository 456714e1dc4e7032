//! The training objective of one batch, as the original computes it: landmark loss (masked by
//! face, annotation and part weight), plus the face-classification loss weighted by
//! `face_cls_weight`, averaged over the number of terms; and the figures logged per batch.

use crate::inputs::BatchTensors;
use crate::losses::{elementwise, face_loss};
use burn::tensor::Tensor;
use fdfat_config::{Config, FaceLossKind, LandmarkScheme, LossKind};
use std::ops::Range;

/// What the objective needs to know about the model and configuration.
#[derive(Debug, Clone)]
pub struct Objective {
    loss: LossKind,
    face_loss: FaceLossKind,
    face_cls_weight: f64,
    aux_pose_weight: f64,
    points: usize,
    face_index: Option<usize>,
    pose_range: Option<Range<usize>>,
    /// Weight of each of the `2P` landmark coordinates.
    pub coord_weights: Vec<f32>,
    /// Part names and their coordinate indices (for per-part losses).
    parts: Vec<(String, Vec<usize>)>,
    eye_corners: [usize; 2],
}

/// Figures of one batch.
#[derive(Debug, Clone, Default)]
pub struct BatchFigures {
    /// The objective's value.
    pub total: f64,
    /// Mean landmark loss per part, in part order.
    pub parts: Vec<f64>,
    /// Face-classification loss (unweighted), when the head exists.
    pub face: Option<f64>,
    /// Head-pose loss (unweighted), when the head exists.
    pub pose: Option<f64>,
    /// Correct face / non-face decisions at 0.5.
    pub face_correct: usize,
    /// Samples in the batch.
    pub samples: usize,
    /// Sum of per-face NME (crop frame, inter-ocular) and how many faces it covers.
    pub nme_sum: f64,
    /// Faces with a usable NME.
    pub nme_count: usize,
}

impl Objective {
    /// The objective for `cfg` on a model with `face_index` (the face-score column, if any) and
    /// `pose_range` (the pose columns, if any).
    pub fn new(
        cfg: &Config,
        scheme: &LandmarkScheme,
        face_index: Option<usize>,
        pose_range: Option<Range<usize>>,
    ) -> Self {
        let points = scheme.num_points;
        let mut coord_weights = vec![1.0f32; 2 * points];
        if cfg.lossw_enabled {
            for part in &scheme.parts {
                let weight = part
                    .weight_key
                    .as_deref()
                    .and_then(|k| cfg.part_weight(k))
                    .unwrap_or(1.0) as f32;
                for &i in &part.indices {
                    coord_weights[2 * i] = weight;
                    coord_weights[2 * i + 1] = weight;
                }
            }
        }
        let parts = scheme
            .parts
            .iter()
            .map(|p| {
                (
                    p.name.clone(),
                    p.indices.iter().flat_map(|&i| [2 * i, 2 * i + 1]).collect(),
                )
            })
            .collect();
        Self {
            loss: cfg.loss,
            face_loss: cfg.loss_facecls,
            face_cls_weight: cfg.face_cls_weight,
            aux_pose_weight: cfg.aux_pose_weight,
            points,
            face_index,
            pose_range,
            coord_weights,
            parts,
            eye_corners: scheme.eye_corners,
        }
    }

    /// Names of the parts, in the order of [`BatchFigures::parts`].
    pub fn part_names(&self) -> impl Iterator<Item = &str> {
        self.parts.iter().map(|(n, _)| n.as_str())
    }

    /// The objective on a model output `[N, outputs]`, and the batch's figures.
    pub fn evaluate(&self, output: Tensor<2>, batch: &BatchTensors) -> (Tensor<1>, BatchFigures) {
        let [n, _] = output.dims();
        let p2 = 2 * self.points;
        let pred = output.clone().slice([0..n, 0..p2]);
        let weighted =
            elementwise(self.loss, pred.clone(), batch.landmarks.clone()) * batch.weights.clone();
        let mut total = weighted.clone().mean();
        let mut terms = 1.0;
        let mut figures = BatchFigures {
            samples: n,
            ..Default::default()
        };
        if let (Some(cols), Some((target, weight))) = (&self.pose_range, &batch.pose) {
            let pred_pose = output.clone().slice([0..n, cols.clone()]);
            let pose = elementwise(self.loss, pred_pose, target.clone())
                * batch.is_face.clone()
                * weight.clone();
            let pose = pose.mean();
            figures.pose = Some(host(pose.clone())[0] as f64);
            total = total + pose.mul_scalar(self.aux_pose_weight);
            terms += 1.0;
        }
        if let Some(col) = self.face_index {
            let score = output.slice([0..n, col..col + 1]);
            let face = face_loss(self.face_loss, score.clone(), batch.is_face.clone());
            figures.face = Some(host(face.clone())[0] as f64);
            total = total + face.mul_scalar(self.face_cls_weight);
            terms += 1.0;
            let scores = host(score.reshape([n]));
            let labels = host(batch.is_face.clone().reshape([n]));
            figures.face_correct = scores
                .iter()
                .zip(&labels)
                .filter(|(s, l)| (**s >= 0.5) == (**l >= 0.5))
                .count();
        }
        let total = total.div_scalar(terms);
        figures.total = host(total.clone())[0] as f64;
        let weighted = host(weighted);
        figures.parts = self
            .parts
            .iter()
            .map(|(_, coords)| {
                let sum: f64 = weighted
                    .chunks_exact(p2)
                    .map(|row| coords.iter().map(|&c| row[c] as f64).sum::<f64>())
                    .sum();
                sum / (n * coords.len()).max(1) as f64
            })
            .collect();
        let (sum, count) = self.nme(&host(pred), &batch.targets, &batch.annotated);
        figures.nme_sum = sum;
        figures.nme_count = count;
        (total, figures)
    }

    /// Sum and count of per-sample NME over annotated points of faces, in the crop frame,
    /// normalised by the outer-eye-corner distance.
    fn nme(&self, pred: &[f32], target: &[f32], annotated: &[f32]) -> (f64, usize) {
        let p2 = 2 * self.points;
        let [l, r] = self.eye_corners;
        let mut sum = 0.0;
        let mut count = 0;
        for ((p, t), a) in pred
            .chunks_exact(p2)
            .zip(target.chunks_exact(p2))
            .zip(annotated.chunks_exact(p2))
        {
            let annotated = |i: usize| a[2 * i] > 0.0;
            if !annotated(l) || !annotated(r) {
                continue;
            }
            let ocular = ((t[2 * l] - t[2 * r]) as f64).hypot((t[2 * l + 1] - t[2 * r + 1]) as f64);
            let (mut err, mut k) = (0.0, 0usize);
            for i in (0..self.points).filter(|&i| annotated(i)) {
                err += ((p[2 * i] - t[2 * i]) as f64).hypot((p[2 * i + 1] - t[2 * i + 1]) as f64);
                k += 1;
            }
            if ocular > 0.0 && k > 0 {
                sum += err / k as f64 / ocular;
                count += 1;
            }
        }
        (sum, count)
    }
}

/// A tensor's values on the host.
pub fn host<const D: usize>(t: Tensor<D>) -> Vec<f32> {
    t.into_data().try_into_vec::<f32>().unwrap_or_default()
}
