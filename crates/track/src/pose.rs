//! Head pose of predicted landmarks: the model's scheme mapped onto the 68 iBUG points, then
//! the eval crate's PnP against the 3D mean face with the original's camera (focal length =
//! image width, principal point at the centre). Angles follow [`fdfat_eval::pose`].

use crate::error::TrackError;
use fdfat_config::LandmarkScheme;
use fdfat_eval::{Camera, FaceModel};
use serde::Serialize;

/// The scheme every pose is solved in.
const POSE_SCHEME: &str = "ibug68";

/// A solved head pose: angles, and the rigid transform for drawing.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct FacePose {
    /// Degrees; positive when the nose turns towards the image left.
    pub yaw: f64,
    /// Degrees; positive when the nose tilts down.
    pub pitch: f64,
    /// Degrees; positive when the face turns clockwise in the image.
    pub roll: f64,
    /// Model-to-camera rotation, row-major (camera frame: x right, y down, z forward).
    #[serde(skip)]
    pub rotation: [[f64; 3]; 3],
    /// Translation of the model origin, in model units.
    #[serde(skip)]
    pub translation: [f64; 3],
}

impl FacePose {
    /// Projects a point of the face model's frame (x right, y down, z away from the camera) to
    /// image pixels with `camera`.
    pub fn project(&self, p: [f64; 3], camera: &Camera) -> [f64; 2] {
        let r = &self.rotation;
        let q: [f64; 3] = std::array::from_fn(|i| {
            r[i][0] * p[0] + r[i][1] * p[1] + r[i][2] * p[2] + self.translation[i]
        });
        camera.project(q)
    }
}

/// Solves head poses for landmarks of one scheme.
#[derive(Debug, Clone)]
pub struct PoseEstimator {
    model: FaceModel,
    to_ibug: Vec<usize>,
}

impl PoseEstimator {
    /// The estimator for models of `points` landmarks (a built-in scheme with a mapping onto
    /// the 68 iBUG points: 68, 70 or 98).
    pub fn for_points(points: usize) -> Result<Self, TrackError> {
        let scheme = LandmarkScheme::for_points(points).ok_or_else(|| TrackError::Config {
            key: "lmk_num",
            message: format!(
                "{points}: no built-in landmark scheme has that many points, so no head pose"
            ),
        })?;
        let to_ibug = scheme
            .mapping_to(POSE_SCHEME)
            .ok_or_else(|| TrackError::Config {
                key: "lmk_num",
                message: format!(
                    "scheme `{}` has no mapping onto {POSE_SCHEME}, so no head pose",
                    scheme.name
                ),
            })?
            .to_vec();
        let model = FaceModel::ibug68().map_err(|e| TrackError::Config {
            key: "lmk_num",
            message: e.to_string(),
        })?;
        Ok(Self { model, to_ibug })
    }

    /// The pose of `points` (image pixels) in an image of `width x height`; `None` when the
    /// point count is wrong or PnP finds no pose with the face in front of the camera.
    pub fn solve(&self, points: &[[f32; 2]], width: u32, height: u32) -> Option<FacePose> {
        let image: Vec<[f64; 2]> = self
            .to_ibug
            .iter()
            .map(|&i| points.get(i).map(|p| [f64::from(p[0]), f64::from(p[1])]))
            .collect::<Option<_>>()?;
        let solution = self
            .model
            .solve(&image, &Camera::for_image(width, height))?;
        let angles = solution.angles();
        Some(FacePose {
            yaw: angles.yaw,
            pitch: angles.pitch,
            roll: angles.roll,
            rotation: solution.rotation,
            translation: solution.translation,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use fdfat_eval::HeadPose;

    #[test]
    fn recovers_the_pose_of_a_projected_mean_face() {
        let estimator = PoseEstimator::for_points(70).unwrap();
        let truth = HeadPose {
            yaw: 20.0,
            pitch: -10.0,
            roll: 5.0,
        };
        let camera = Camera::for_image(640, 480);
        let face = FaceModel::ibug68().unwrap();
        let mut points: Vec<[f32; 2]> = face
            .project(&truth.rotation(), [10.0, -5.0, 800.0], &camera)
            .iter()
            .map(|p| [p[0] as f32, p[1] as f32])
            .collect();
        points.extend([[0.0, 0.0], [1.0, 1.0]]); // pupils, unused by the pose
        let pose = estimator.solve(&points, 640, 480).unwrap();
        assert!((pose.yaw - 20.0).abs() < 0.1, "{pose:?}");
        assert!((pose.pitch + 10.0).abs() < 0.1, "{pose:?}");
        assert!((pose.roll - 5.0).abs() < 0.1, "{pose:?}");
        let nose = face.points()[30];
        let projected = pose.project(nose, &camera);
        assert!((projected[0] - f64::from(points[30][0])).abs() < 0.05);
        assert!(estimator.solve(&points[..40], 640, 480).is_none());
        assert!(PoseEstimator::for_points(5).is_err());
    }
}
