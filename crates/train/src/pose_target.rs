//! Targets of the auxiliary head-pose output (`aux_pose`): yaw, pitch and roll of each face,
//! solved by PnP (the eval crate's solver) from its target landmarks in the augmented crop, so
//! rotation and flip augmentations move the pose with the pixels. Angles are divided by 90
//! degrees to sit in the landmark targets' range.

use fdfat_config::LandmarkScheme;
use fdfat_data::Batch;
use fdfat_eval::{Camera, FaceModel};

/// Degrees mapped to 1.0 in the pose targets.
pub const POSE_SCALE_DEG: f64 = 90.0;

/// Solves pose targets for a model scheme.
#[derive(Debug, Clone)]
pub struct PoseTargets {
    model: FaceModel,
    /// Model point index of each ibug68 point.
    to_ibug68: Vec<usize>,
}

impl PoseTargets {
    /// Pose targets for `scheme`, which must map onto `ibug68`.
    pub fn new(scheme: &LandmarkScheme) -> Option<Self> {
        let to_ibug68 = scheme.mapping_to("ibug68")?.to_vec();
        let model = FaceModel::ibug68().ok()?;
        Some(Self { model, to_ibug68 })
    }

    /// `(targets [N * 3], weights [N])`: the weight is 0 for non-faces, faces missing a point
    /// and faces whose pose cannot be solved.
    pub fn for_batch(&self, batch: &Batch) -> (Vec<f32>, Vec<f32>) {
        let size = batch.size as f64;
        let camera = Camera::for_image(batch.size as u32, batch.size as u32);
        let p2 = 2 * batch.points;
        let mut targets = Vec::with_capacity(3 * batch.len());
        let mut weights = Vec::with_capacity(batch.len());
        for k in 0..batch.len() {
            let points = batch.landmarks_of(k);
            let mask = &batch.landmark_mask[k * p2..(k + 1) * p2];
            let image_points: Option<Vec<[f64; 2]>> = self
                .to_ibug68
                .iter()
                .map(|&i| {
                    (mask[2 * i] > 0.0).then(|| {
                        [
                            (points[2 * i] as f64 + 0.5) * size,
                            (points[2 * i + 1] as f64 + 0.5) * size,
                        ]
                    })
                })
                .collect();
            let solved = image_points
                .filter(|_| batch.is_face[k] > 0.5)
                .and_then(|pts| self.model.solve(&pts, &camera))
                .map(|s| s.angles());
            match solved {
                Some(pose) => {
                    targets.extend(
                        [pose.yaw, pose.pitch, pose.roll].map(|a| (a / POSE_SCALE_DEG) as f32),
                    );
                    weights.push(1.0);
                }
                None => {
                    targets.extend([0.0; 3]);
                    weights.push(0.0);
                }
            }
        }
        (targets, weights)
    }
}
