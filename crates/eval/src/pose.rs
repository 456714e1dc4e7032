//! Head pose (yaw, pitch, roll) of a face from its 68 iBUG landmarks, by PnP against a 3D mean
//! face, with the camera of the original fdfat (`fdfat/utils/pose_estimation.py`): focal length =
//! image width, principal point at the image centre, no distortion.
//!
//! # Solver
//! The original calls OpenCV's `solvePnP` (iterative: a linear initial pose, then
//! Levenberg-Marquardt on the reprojection error). This module does the same in two steps,
//! written out here rather than taken from a crate: the maintained pure-Rust PnP crates either
//! pull a large dependency tree (`kornia-3d`: faer, rayon, kiddo, kornia-image) or work in `f32`
//! and minimise an object-space error instead of the reprojection error (`sqpnp`, through
//! `glam` and `nalgebra`), while this problem (68 well-spread, non-coplanar points, faces in
//! front of the camera) needs only:
//! 1. **Initial pose, scaled orthographic**: least-squares fit of the affine camera
//!    `x = s r1 . (X - X̄) + x̄`, `y = s r2 . (X - X̄) + ȳ` (normalised image coordinates), whose
//!    rows, orthonormalised, give the rotation and whose scale gives the depth `1 / s`. The 3D
//!    points are not coplanar, so the fit has no mirror ambiguity.
//! 2. **Levenberg-Marquardt** on the sum of squared reprojection errors over the six pose
//!    parameters (rotation as a left-multiplied rotation vector, translation), with analytic
//!    Jacobians, until the cost stops decreasing.
//!
//! # Frames and angle convention
//! Camera frame: x to image right, y down, z forward (away from the camera). The scheme YAML's
//! `mean_shape_3d` has x to image right, y down and z towards the camera; [`FaceModel`] negates
//! z, so a face looking straight at the camera has the identity rotation.
//!
//! The rotation (model to camera) is `R = Rz(roll) · Ry(yaw) · Rx(pitch)` (standard
//! right-handed axis rotations in those camera axes), the convention of the true poses of the
//! toy dataset (`fdfat_data::Pose`), so that, in degrees:
//! - **yaw > 0**: the nose turns towards the **image left** (the subject turns to their right);
//! - **pitch > 0**: the nose tilts **down**;
//! - **roll > 0**: the face turns **clockwise** in the image (its image-right eye goes down).
//!
//! Yaw lies in `[-90, 90]`, pitch and roll in `(-180, 180]`.

use crate::error::EvalError;
use crate::linalg::{self, Mat3, Vec3};
use fdfat_config::LandmarkScheme;
use serde::{Deserialize, Serialize};

/// A pinhole camera without distortion, in pixels.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Camera {
    /// Focal length in pixels.
    pub focal: f64,
    /// Principal point x.
    pub cx: f64,
    /// Principal point y.
    pub cy: f64,
}

impl Camera {
    /// The original's camera for an image: focal = width, centre at `(width / 2, height / 2)`.
    pub fn for_image(width: u32, height: u32) -> Self {
        Self {
            focal: f64::from(width),
            cx: f64::from(width) / 2.0,
            cy: f64::from(height) / 2.0,
        }
    }

    /// Projects a point of the camera frame to pixels.
    pub fn project(&self, p: [f64; 3]) -> [f64; 2] {
        [
            self.focal * p[0] / p[2] + self.cx,
            self.focal * p[1] / p[2] + self.cy,
        ]
    }
}

/// Head pose angles in degrees (convention in the module documentation).
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct HeadPose {
    /// Positive when the nose turns towards the image left.
    pub yaw: f64,
    /// Positive when the nose tilts down.
    pub pitch: f64,
    /// Positive when the face turns clockwise in the image.
    pub roll: f64,
}

impl HeadPose {
    /// The model-to-camera rotation of these angles, `Rz(roll) · Ry(yaw) · Rx(pitch)`.
    pub fn rotation(&self) -> [[f64; 3]; 3] {
        let (yaw, pitch, roll) = (
            self.yaw.to_radians(),
            self.pitch.to_radians(),
            self.roll.to_radians(),
        );
        let rx = [
            [1.0, 0.0, 0.0],
            [0.0, pitch.cos(), -pitch.sin()],
            [0.0, pitch.sin(), pitch.cos()],
        ];
        let ry = [
            [yaw.cos(), 0.0, yaw.sin()],
            [0.0, 1.0, 0.0],
            [-yaw.sin(), 0.0, yaw.cos()],
        ];
        let rz = [
            [roll.cos(), -roll.sin(), 0.0],
            [roll.sin(), roll.cos(), 0.0],
            [0.0, 0.0, 1.0],
        ];
        linalg::mat_mul(&rz, &linalg::mat_mul(&ry, &rx))
    }

    /// The angles of a model-to-camera rotation (the inverse of [`HeadPose::rotation`]).
    pub fn from_rotation(r: &[[f64; 3]; 3]) -> Self {
        let beta = (-r[2][0]).atan2(r[0][0].hypot(r[1][0]));
        let alpha = r[2][1].atan2(r[2][2]);
        let gamma = r[1][0].atan2(r[0][0]);
        Self {
            yaw: beta.to_degrees(),
            pitch: alpha.to_degrees(),
            roll: gamma.to_degrees(),
        }
    }
}

/// A solved pose: `camera point = rotation · model point + translation`.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct PoseSolution {
    /// Model-to-camera rotation, row-major.
    pub rotation: [[f64; 3]; 3],
    /// Translation, in model units.
    pub translation: [f64; 3],
    /// Root-mean-square reprojection error in pixels.
    pub rms_error_px: f64,
}

impl PoseSolution {
    /// The yaw, pitch and roll of this pose.
    pub fn angles(&self) -> HeadPose {
        HeadPose::from_rotation(&self.rotation)
    }
}

/// A 3D face model in the camera-aligned frame (x right, y down, z away from the camera).
#[derive(Debug, Clone, PartialEq)]
pub struct FaceModel {
    points: Vec<[f64; 3]>,
}

/// Levenberg-Marquardt iterations at most.
const MAX_ITERATIONS: usize = 200;

impl FaceModel {
    /// The model of a scheme YAML's `mean_shape_3d` (z towards the camera; negated here).
    pub fn from_mean_shape(mean_shape_3d: &[[f64; 3]]) -> Self {
        Self {
            points: mean_shape_3d.iter().map(|p| [p[0], p[1], -p[2]]).collect(),
        }
    }

    /// The 68-point mean face of the built-in `ibug68` scheme.
    pub fn ibug68() -> Result<Self, EvalError> {
        let scheme = LandmarkScheme::load("ibug68")?;
        let shape = scheme.mean_shape_3d.ok_or(EvalError::InvalidSetting {
            key: "mean_shape_3d",
            found: "nothing in configs/landmarks/ibug68.yaml".into(),
            expected: "the 68-point 3D mean face",
        })?;
        Ok(Self::from_mean_shape(&shape))
    }

    /// Number of model points.
    pub fn len(&self) -> usize {
        self.points.len()
    }

    /// Whether the model has no points.
    pub fn is_empty(&self) -> bool {
        self.points.is_empty()
    }

    /// The model points (camera-aligned frame).
    pub fn points(&self) -> &[[f64; 3]] {
        &self.points
    }

    /// Projects the model under a pose seen by a camera, in pixels.
    pub fn project(
        &self,
        rotation: &[[f64; 3]; 3],
        translation: [f64; 3],
        camera: &Camera,
    ) -> Vec<[f64; 2]> {
        self.points
            .iter()
            .map(|&p| camera.project(linalg::add(linalg::mat_vec(rotation, p), translation)))
            .collect()
    }

    /// Solves the pose of the model whose projections are `image_points` (pixels, same order
    /// as the model). `None` when the point counts differ, there are fewer than 6 points, a
    /// value is not finite, or no pose puts every point in front of the camera.
    pub fn solve(&self, image_points: &[[f64; 2]], camera: &Camera) -> Option<PoseSolution> {
        if image_points.len() != self.points.len()
            || self.points.len() < 6
            || image_points.iter().flatten().any(|v| !v.is_finite())
            || camera.focal <= 0.0
        {
            return None;
        }
        let normalised: Vec<[f64; 2]> = image_points
            .iter()
            .map(|p| {
                [
                    (p[0] - camera.cx) / camera.focal,
                    (p[1] - camera.cy) / camera.focal,
                ]
            })
            .collect();
        let (rotation, translation) = self.initial_pose(&normalised)?;
        let (rotation, translation, cost) = self.refine(&normalised, rotation, translation)?;
        Some(PoseSolution {
            rotation,
            translation,
            rms_error_px: (cost / self.points.len() as f64).sqrt() * camera.focal,
        })
    }

    /// Scaled-orthographic initial pose from normalised image points.
    fn initial_pose(&self, image: &[[f64; 2]]) -> Option<(Mat3, Vec3)> {
        let n = self.points.len() as f64;
        let centre = linalg::scale(
            self.points.iter().fold([0.0; 3], |s, &p| linalg::add(s, p)),
            1.0 / n,
        );
        let image_centre = [
            image.iter().map(|p| p[0]).sum::<f64>() / n,
            image.iter().map(|p| p[1]).sum::<f64>() / n,
        ];
        let mut moment = [[0.0; 3]; 3];
        let mut bx = [0.0; 3];
        let mut by = [0.0; 3];
        for (&p, q) in self.points.iter().zip(image) {
            let d = linalg::sub(p, centre);
            for i in 0..3 {
                for j in 0..3 {
                    moment[i][j] += d[i] * d[j];
                }
                bx[i] += d[i] * (q[0] - image_centre[0]);
                by[i] += d[i] * (q[1] - image_centre[1]);
            }
        }
        let a = linalg::solve(moment, bx)?;
        let b = linalg::solve(moment, by)?;
        let (sa, sb) = (linalg::norm(a), linalg::norm(b));
        if sa <= 0.0 || sb <= 0.0 {
            return None;
        }
        let r1 = linalg::scale(a, 1.0 / sa);
        let r2 = linalg::sub(b, linalg::scale(r1, linalg::dot(b, r1)));
        let r2 = linalg::scale(r2, 1.0 / linalg::norm(r2));
        let rotation = [r1, r2, linalg::cross(r1, r2)];
        let depth = 2.0 / (sa + sb);
        let target = [image_centre[0] * depth, image_centre[1] * depth, depth];
        let translation = linalg::sub(target, linalg::mat_vec(&rotation, centre));
        rotation
            .iter()
            .flatten()
            .all(|v| v.is_finite())
            .then_some((rotation, translation))
    }

    /// Sum of squared reprojection errors (normalised coordinates); `None` if a point is not in
    /// front of the camera.
    fn cost(&self, image: &[[f64; 2]], rotation: &Mat3, translation: Vec3) -> Option<f64> {
        let mut cost = 0.0;
        for (&p, q) in self.points.iter().zip(image) {
            let c = linalg::add(linalg::mat_vec(rotation, p), translation);
            if c[2] <= 0.0 {
                return None;
            }
            cost += (c[0] / c[2] - q[0]).powi(2) + (c[1] / c[2] - q[1]).powi(2);
        }
        Some(cost)
    }

    /// Levenberg-Marquardt refinement; returns the pose and its cost.
    fn refine(
        &self,
        image: &[[f64; 2]],
        mut rotation: Mat3,
        mut translation: Vec3,
    ) -> Option<(Mat3, Vec3, f64)> {
        let mut cost = self.cost(image, &rotation, translation)?;
        let mut lambda = 1e-3;
        for _ in 0..MAX_ITERATIONS {
            let (jtj, jtr) = self.normal_equations(image, &rotation, translation);
            let mut improved = false;
            while lambda < 1e12 {
                let mut damped = jtj;
                for (i, row) in damped.iter_mut().enumerate() {
                    row[i] += lambda * jtj[i][i].max(1e-12);
                }
                let Some(step) = linalg::solve(damped, jtr.map(|v| -v)) else {
                    lambda *= 10.0;
                    continue;
                };
                let candidate_rotation = linalg::mat_mul(
                    &linalg::rotation_from_vector([step[0], step[1], step[2]]),
                    &rotation,
                );
                let candidate_translation = linalg::add(translation, [step[3], step[4], step[5]]);
                match self.cost(image, &candidate_rotation, candidate_translation) {
                    Some(new_cost) if new_cost < cost => {
                        let gain = cost - new_cost;
                        rotation = candidate_rotation;
                        translation = candidate_translation;
                        cost = new_cost;
                        lambda = (lambda * 0.1).max(1e-12);
                        improved = gain > 1e-14 * cost.max(1e-30);
                        break;
                    }
                    _ => lambda *= 10.0,
                }
            }
            if !improved {
                break;
            }
        }
        Some((rotation, translation, cost))
    }

    /// `JᵀJ` and `Jᵀr` of the reprojection residuals with respect to
    /// `(rotation vector, translation)`.
    fn normal_equations(
        &self,
        image: &[[f64; 2]],
        rotation: &Mat3,
        translation: Vec3,
    ) -> ([[f64; 6]; 6], [f64; 6]) {
        let mut jtj = [[0.0; 6]; 6];
        let mut jtr = [0.0; 6];
        for (&p, q) in self.points.iter().zip(image) {
            let rp = linalg::mat_vec(rotation, p);
            let c = linalg::add(rp, translation);
            let iz = 1.0 / c[2];
            let residual = [c[0] * iz - q[0], c[1] * iz - q[1]];
            // d(projection)/d(camera point)
            let dproj = [[iz, 0.0, -c[0] * iz * iz], [0.0, iz, -c[1] * iz * iz]];
            // d(camera point)/d(rotation vector) = -[R p]x ; d/d(translation) = I
            let skew = [
                [0.0, rp[2], -rp[1]],
                [-rp[2], 0.0, rp[0]],
                [rp[1], -rp[0], 0.0],
            ];
            for (row, res) in dproj.iter().zip(residual) {
                let mut j = [0.0; 6];
                for k in 0..3 {
                    j[k] = (0..3).map(|m| row[m] * skew[m][k]).sum();
                    j[k + 3] = row[k];
                }
                for a in 0..6 {
                    jtr[a] += j[a] * res;
                    for b in 0..6 {
                        jtj[a][b] += j[a] * j[b];
                    }
                }
            }
        }
        (jtj, jtr)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn synthetic(model: &FaceModel, pose: HeadPose, camera: &Camera) -> Vec<[f64; 2]> {
        model.project(&pose.rotation(), [12.0, -8.0, 900.0], camera)
    }

    #[test]
    fn angles_round_trip_through_the_rotation() {
        for (yaw, pitch, roll) in [(0.0, 0.0, 0.0), (35.0, -12.0, 7.0), (-80.0, 25.0, -30.0)] {
            let pose = HeadPose { yaw, pitch, roll };
            let back = HeadPose::from_rotation(&pose.rotation());
            assert!(
                (back.yaw - yaw).abs() < 1e-9
                    && (back.pitch - pitch).abs() < 1e-9
                    && (back.roll - roll).abs() < 1e-9
            );
        }
    }

    #[test]
    fn recovers_known_poses_of_the_mean_face_within_a_degree() {
        let model = FaceModel::ibug68().unwrap();
        let camera = Camera::for_image(640, 480);
        let mut cases = vec![];
        for yaw in [0.0, 20.0, -20.0, 45.0, -45.0, 70.0, -70.0] {
            cases.push((yaw, 0.0, 0.0));
        }
        cases.extend([
            (0.0, 15.0, 0.0),
            (0.0, -15.0, 0.0),
            (0.0, 0.0, 20.0),
            (0.0, 0.0, -20.0),
        ]);
        cases.extend([(30.0, 10.0, -15.0), (-60.0, -15.0, 20.0)]);
        for (yaw, pitch, roll) in cases {
            let points = synthetic(&model, HeadPose { yaw, pitch, roll }, &camera);
            let solution = model.solve(&points, &camera).expect("a pose");
            let got = solution.angles();
            assert!(
                (got.yaw - yaw).abs() < 1.0
                    && (got.pitch - pitch).abs() < 1.0
                    && (got.roll - roll).abs() < 1.0,
                "wanted ({yaw}, {pitch}, {roll}), got {got:?}"
            );
            assert!(solution.rms_error_px < 1e-6, "{}", solution.rms_error_px);
        }
    }

    #[test]
    fn recovers_the_pose_from_noisy_points() {
        let model = FaceModel::ibug68().unwrap();
        let camera = Camera::for_image(512, 512);
        let pose = HeadPose {
            yaw: 38.0,
            pitch: -9.0,
            roll: 12.0,
        };
        // deterministic +-1.5 px perturbation
        let points: Vec<[f64; 2]> = synthetic(&model, pose, &camera)
            .iter()
            .enumerate()
            .map(|(i, p)| {
                [
                    p[0] + 1.5 * ((i * 7 % 5) as f64 / 2.0 - 1.0),
                    p[1] - 1.5 * ((i * 3 % 5) as f64 / 2.0 - 1.0),
                ]
            })
            .collect();
        let got = model.solve(&points, &camera).unwrap().angles();
        assert!((got.yaw - pose.yaw).abs() < 3.0, "{got:?}");
    }

    #[test]
    fn signs_follow_the_documented_convention() {
        let model = FaceModel::ibug68().unwrap();
        let camera = Camera::for_image(500, 500);
        let nose_tip = 30;
        let project = |pose| synthetic(&model, pose, &camera);
        let frontal = project(HeadPose {
            yaw: 0.0,
            pitch: 0.0,
            roll: 0.0,
        });
        // yaw > 0: the nose tip moves left relative to the outer eye corners' midpoint
        let left = project(HeadPose {
            yaw: 30.0,
            pitch: 0.0,
            roll: 0.0,
        });
        let mid = |p: &[[f64; 2]]| (p[36][0] + p[45][0]) / 2.0;
        assert!(left[nose_tip][0] - mid(&left) < frontal[nose_tip][0] - mid(&frontal) - 5.0);
        // pitch > 0: the nose tip drops (larger y) relative to the eye corners
        let down = project(HeadPose {
            yaw: 0.0,
            pitch: 20.0,
            roll: 0.0,
        });
        let eyes_y = |p: &[[f64; 2]]| (p[36][1] + p[45][1]) / 2.0;
        assert!(down[nose_tip][1] - eyes_y(&down) > frontal[nose_tip][1] - eyes_y(&frontal) + 5.0);
        // roll > 0: clockwise in the image, the image-right eye corner (45) goes down
        let clockwise = project(HeadPose {
            yaw: 0.0,
            pitch: 0.0,
            roll: 15.0,
        });
        assert!(clockwise[45][1] > clockwise[36][1] + 10.0);
    }

    #[test]
    fn bad_input_gives_no_pose() {
        let model = FaceModel::ibug68().unwrap();
        let camera = Camera::for_image(100, 100);
        assert!(model.solve(&[[1.0, 2.0]; 5], &camera).is_none());
        let mut points = synthetic(
            &model,
            HeadPose {
                yaw: 0.0,
                pitch: 0.0,
                roll: 0.0,
            },
            &camera,
        );
        points[3][0] = f64::NAN;
        assert!(model.solve(&points, &camera).is_none());
        // every point at one pixel: degenerate
        assert!(model.solve(&vec![[50.0, 50.0]; 68], &camera).is_none());
    }
}
