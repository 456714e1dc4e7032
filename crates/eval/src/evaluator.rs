//! The accumulator: push one image at a time (points in original-image pixels), then
//! [`Evaluator::finish`] with the configuration to get the [`Report`].
//!
//! Per image it keeps the pixel error of every compared point, both normalising distances and
//! the head pose of the ground truth; the normalisation (`nme_norm`), the threshold
//! (`fr_threshold`) and the buckets (`pose_buckets`) are applied at the end. As in the original,
//! only faces count towards the NME: an image whose label says "not a face" only counts towards
//! the face-classification figures.

use crate::buckets::PoseBuckets;
use crate::error::EvalError;
use crate::face_cls::FaceClsStats;
use crate::layout::{EvalLayout, IBUG68};
use crate::pose::{Camera, FaceModel, HeadPose};
use crate::report::{Protocol, Report, SampleRecord, SubsetStats};
use crate::sample::{Attributes, FaceScore, Sample};
use crate::stats;
use fdfat_config::{Config, LandmarkScheme, NmeNorm};

/// What is kept of one face.
#[derive(Debug, Clone)]
struct Record {
    image: String,
    errors_px: Vec<f64>,
    inter_ocular: f64,
    inter_pupil: f64,
    pose: Option<HeadPose>,
    face: Option<FaceScore>,
    attributes: Option<Attributes>,
}

impl Record {
    fn normaliser(&self, norm: NmeNorm) -> f64 {
        match norm {
            NmeNorm::InterOcular => self.inter_ocular,
            NmeNorm::InterPupil => self.inter_pupil,
        }
    }
}

/// Accumulates per-image measurements of one evaluation.
#[derive(Debug, Clone)]
pub struct Evaluator {
    layout: EvalLayout,
    pose_model: Option<FaceModel>,
    records: Vec<Record>,
    /// Face scores of images without landmarks.
    unmeasured: Vec<FaceScore>,
    /// Sum of the ground-truth shapes in the compared scheme, centred and divided by the
    /// inter-ocular distance (the picture's layout when the scheme has no 3D mean face).
    shape_sum: Vec<[f64; 2]>,
}

impl Evaluator {
    /// An evaluator of `pred`-scheme predictions against `gt`-scheme ground truth.
    pub fn new(pred: &LandmarkScheme, gt: &LandmarkScheme) -> Result<Self, EvalError> {
        let layout = EvalLayout::new(pred, gt)?;
        let pose_model = match layout.pose_indices() {
            Some(_) => Some(FaceModel::ibug68()?),
            None => None,
        };
        let n = layout.eval_scheme().num_points;
        Ok(Self {
            layout,
            pose_model,
            records: Vec::new(),
            unmeasured: Vec::new(),
            shape_sum: vec![[0.0; 2]; n],
        })
    }

    /// How predictions and ground truth are compared.
    pub fn layout(&self) -> &EvalLayout {
        &self.layout
    }

    /// Faces pushed so far (images counted in the NME).
    pub fn len(&self) -> usize {
        self.records.len()
    }

    /// Whether no face has been pushed.
    pub fn is_empty(&self) -> bool {
        self.records.is_empty()
    }

    /// Adds the face score of an image without landmarks (a face or non-face crop): it counts
    /// towards the face-classification figures only.
    pub fn push_face_score(&mut self, image: &str, face: FaceScore) -> Result<(), EvalError> {
        if !face.score.is_finite() {
            return Err(EvalError::NonFinite {
                image: image.into(),
                what: "face score",
            });
        }
        self.unmeasured.push(face);
        Ok(())
    }

    /// Adds one image. A sample whose face label is "not a face" only adds its score (as
    /// [`Evaluator::push_face_score`]); any other sample is measured (its points checked
    /// against the schemes) and its pose estimated.
    pub fn push(&mut self, sample: Sample) -> Result<(), EvalError> {
        if let Some(face) = sample.face {
            if !face.is_face {
                return self.push_face_score(&sample.image, face);
            }
            if !face.score.is_finite() {
                return Err(EvalError::NonFinite {
                    image: sample.image,
                    what: "face score",
                });
            }
        }
        if sample.width == 0 || sample.height == 0 {
            return Err(EvalError::EmptyImage {
                image: sample.image,
                width: sample.width,
                height: sample.height,
            });
        }
        let measured = self
            .layout
            .measure(&sample.image, &sample.pred, &sample.gt)?;
        let pose = match (&self.pose_model, self.layout.pose_indices()) {
            (Some(model), Some(index)) => {
                let points: Vec<[f64; 2]> = index.iter().map(|&i| sample.gt[i]).collect();
                model
                    .solve(&points, &Camera::for_image(sample.width, sample.height))
                    .map(|s| s.angles())
            }
            _ => None,
        };
        let gt = self.layout.gt_in_eval(&sample.gt);
        let n = gt.len() as f64;
        let centre = gt
            .iter()
            .fold([0.0, 0.0], |s, p| [s[0] + p[0] / n, s[1] + p[1] / n]);
        for (sum, p) in self.shape_sum.iter_mut().zip(&gt) {
            sum[0] += (p[0] - centre[0]) / measured.inter_ocular;
            sum[1] += (p[1] - centre[1]) / measured.inter_ocular;
        }
        self.records.push(Record {
            image: sample.image,
            errors_px: measured.errors_px,
            inter_ocular: measured.inter_ocular,
            inter_pupil: measured.inter_pupil,
            pose,
            face: sample.face,
            attributes: sample.attributes,
        });
        Ok(())
    }

    /// Computes every figure with the configuration's `nme_norm`, `fr_threshold` and
    /// `pose_buckets`, naming `checkpoint`, `model`, `validation` and `imgsz` in the report.
    pub fn finish(self, cfg: &Config) -> Result<Report, EvalError> {
        let t = cfg.fr_threshold;
        if !(t > 0.0 && t.is_finite()) {
            return Err(EvalError::InvalidSetting {
                key: "fr_threshold",
                found: t.to_string(),
                expected: "a positive NME fraction such as 0.1",
            });
        }
        let buckets = PoseBuckets::new(&cfg.pose_buckets)?;
        if self.records.is_empty() {
            return Err(EvalError::NoSamples);
        }
        let norm = cfg.nme_norm;
        let eval = self.layout.eval_scheme();
        let per_point: Vec<Vec<f64>> = self
            .records
            .iter()
            .map(|r| {
                let d = r.normaliser(norm);
                r.errors_px.iter().map(|e| e / d).collect()
            })
            .collect();
        let nmes: Vec<f64> = per_point
            .iter()
            .map(|e| stats::mean(e).unwrap_or(0.0))
            .collect();
        let landmarks: Vec<f64> = (0..eval.num_points)
            .map(|k| {
                stats::mean(&per_point.iter().map(|e| e[k]).collect::<Vec<_>>()).unwrap_or(0.0)
            })
            .collect();
        let parts = eval
            .parts
            .iter()
            .map(|p| {
                let values: Vec<f64> = p.indices.iter().map(|&k| landmarks[k]).collect();
                (p.name.clone(), stats::mean(&values).unwrap_or(0.0))
            })
            .collect();
        let summary = |subset: &[f64]| {
            (
                stats::mean(subset),
                stats::failure_rate(subset, t),
                stats::auc(subset, t),
            )
        };
        let attributes = if self.records.iter().any(|r| r.attributes.is_some()) {
            Attributes::NAMES
                .iter()
                .enumerate()
                .map(|(k, name)| {
                    let subset: Vec<f64> = self
                        .records
                        .iter()
                        .zip(&nmes)
                        .filter(|(r, _)| r.attributes.is_some_and(|a| a.flags()[k] == Some(true)))
                        .map(|(_, &e)| e)
                        .collect();
                    let (nme_mean, fr, auc) = summary(&subset);
                    SubsetStats {
                        name: (*name).into(),
                        count: subset.len(),
                        nme_mean,
                        fr,
                        auc,
                    }
                })
                .collect()
        } else {
            Vec::new()
        };
        let face_cls = FaceClsStats::compute(
            self.records
                .iter()
                .filter_map(|r| r.face.as_ref())
                .chain(&self.unmeasured),
        );
        let samples: Vec<SampleRecord> = self
            .records
            .iter()
            .zip(&nmes)
            .map(|(r, &nme)| SampleRecord {
                image: r.image.clone(),
                nme,
                yaw: r.pose.map(|p| p.yaw),
                pitch: r.pose.map(|p| p.pitch),
                roll: r.pose.map(|p| p.roll),
                face_score: r.face.map(|f| f.score),
            })
            .collect();
        let pose_buckets = buckets.table(samples.iter().map(|s| (s.yaw, s.nme)));
        let count = self.records.len();
        let mean_face = match &eval.mean_shape_3d {
            Some(shape) => shape.iter().map(|p| [p[0], p[1]]).collect(),
            None => self
                .shape_sum
                .iter()
                .map(|s| [s[0] / count as f64, s[1] / count as f64])
                .collect(),
        };
        let (_, fr, auc) = summary(&nmes);
        Ok(Report {
            nme_mean: stats::mean(&nmes).unwrap_or(0.0),
            nme_median: stats::median(&nmes).unwrap_or(0.0),
            fr: fr.unwrap_or(0.0),
            auc: auc.unwrap_or(0.0),
            fr_threshold: t,
            count,
            pose_buckets,
            parts,
            nme_std: stats::std_dev(&nmes).unwrap_or(0.0),
            nme_min: nmes.iter().copied().fold(f64::INFINITY, f64::min),
            nme_max: nmes.iter().copied().fold(f64::NEG_INFINITY, f64::max),
            nme_norm: norm.as_str().into(),
            scheme: eval.name.clone(),
            landmarks,
            mean_face,
            ced: stats::ced(&nmes),
            pose_unavailable: samples.iter().filter(|s| s.yaw.is_none()).count(),
            samples,
            attributes,
            face_cls,
            protocol: self.protocol(cfg, &buckets),
            checkpoint: cfg.checkpoint.clone(),
            model: cfg.model.as_str().into(),
            split: cfg.validation.as_str().into(),
        })
    }

    fn protocol(&self, cfg: &Config, buckets: &PoseBuckets) -> Protocol {
        let gt = self.layout.gt_scheme();
        let normalisation = match cfg.nme_norm {
            NmeNorm::InterOcular => format!(
                "inter_ocular: distance between the ground-truth outer eye corners {} and {} of {}",
                gt.eye_corners[0], gt.eye_corners[1], gt.name
            ),
            NmeNorm::InterPupil => format!(
                "inter_pupil: distance between the centres of the ground-truth points {:?} and {:?} of {}",
                gt.pupils[0], gt.pupils[1], gt.name
            ),
        };
        let pose = if self.pose_model.is_some() {
            format!(
                "yaw, pitch, roll in degrees by PnP (scaled-orthographic start, Levenberg-Marquardt on the \
                 reprojection error) of the {IBUG68} ground-truth points of {} against the {IBUG68} \
                 mean_shape_3d; focal length = image width, principal point at the image centre; \
                 R = Rz(roll) Ry(yaw) Rx(pitch) in camera axes (x right, y down, z forward): yaw > 0 \
                 turns the nose towards the image left, pitch > 0 tilts it down, roll > 0 is clockwise \
                 in the image",
                gt.name
            )
        } else {
            format!("not estimated: {} has no {IBUG68} mapping", gt.name)
        };
        let bounds: Vec<String> = buckets
            .bounds()
            .iter()
            .enumerate()
            .map(|(i, (lo, hi))| format!("{}{lo}, {hi}]", if i == 0 { '[' } else { '(' }))
            .collect();
        Protocol {
            crop: format!(
                "square box on the ground-truth landmark extent, side 1.5 x max(w, h), centred, clipped to \
                 the image, corners truncated to integer pixels, bilinear resize to {0}x{0}; predictions \
                 mapped back to original-image pixels, errors in original pixels",
                cfg.imgsz
            ),
            points: self.layout.describe(),
            normalisation,
            fr_auc: format!(
                "FR = fraction of faces with NME > {t}; CED(x) = fraction with NME <= x; AUC = exact area \
                 under the step CED from 0 to {t} divided by {t}, i.e. the mean of max(0, 1 - NME / {t})",
                t = cfg.fr_threshold
            ),
            pose,
            buckets: format!(
                "|yaw| buckets {} (low end open except at 0, high end closed)",
                bounds.join(", ")
            ),
        }
    }
}
