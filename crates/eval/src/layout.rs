//! Which points are compared: the scheme the errors are measured in, the indices that take the
//! predicted and ground-truth points to it, and the ground truth's normalising distances.
//!
//! Rules:
//! - the errors are measured in the ground truth's scheme, except for a scheme that is the 68
//!   iBUG points plus extra ones (FaceSynthetics' 70 = 68 + two pupils, its `ibug68` mapping
//!   being `0-67`): it is measured on its 68 iBUG points, as the original fdfat and its published
//!   figures did;
//! - if the predictions cannot be mapped to that scheme, both sides are compared on their
//!   common `ibug68` points (e.g. a 70-point model on WFLW 98-point data);
//! - the normalising distance always comes from the ground truth in its own scheme: the outer
//!   eye corners (`eye_corners`) or the pupils (`pupils`, each the mean of its points).

use crate::error::EvalError;
use fdfat_config::LandmarkScheme;

/// The iBUG 68-point scheme name, the common scheme of the mappings and of head pose.
pub const IBUG68: &str = "ibug68";

/// Per-image measurements before normalisation.
#[derive(Debug, Clone, PartialEq)]
pub struct Measured {
    /// Pixel distance between prediction and ground truth, per compared point.
    pub errors_px: Vec<f64>,
    /// Ground-truth distance between the outer eye corners, in pixels.
    pub inter_ocular: f64,
    /// Ground-truth distance between the pupils, in pixels.
    pub inter_pupil: f64,
}

/// How predictions in one scheme are compared with ground truth in another.
#[derive(Debug, Clone, PartialEq)]
pub struct EvalLayout {
    eval: LandmarkScheme,
    pred: LandmarkScheme,
    gt: LandmarkScheme,
    pred_index: Vec<usize>,
    gt_index: Vec<usize>,
    pose_index: Option<Vec<usize>>,
}

/// The indices of `from`'s points that give scheme `to`'s points (identity for the same scheme).
fn indices(from: &LandmarkScheme, to: &str) -> Option<Vec<usize>> {
    if from.name == to {
        return Some((0..from.num_points).collect());
    }
    from.mapping_to(to).map(<[usize]>::to_vec)
}

impl EvalLayout {
    /// The layout comparing `pred`-scheme predictions with `gt`-scheme ground truth.
    pub fn new(pred: &LandmarkScheme, gt: &LandmarkScheme) -> Result<Self, EvalError> {
        let gt_ibug = indices(gt, IBUG68);
        let extends_ibug = gt.num_points > 68
            && gt_ibug
                .as_deref()
                .is_some_and(|m| m.iter().copied().eq(0..68));
        let preferred = if extends_ibug {
            IBUG68
        } else {
            gt.name.as_str()
        };
        let target = if indices(pred, preferred).is_some() {
            preferred
        } else if indices(pred, IBUG68).is_some() && gt_ibug.is_some() {
            IBUG68
        } else {
            return Err(EvalError::NoCommonScheme {
                pred: pred.name.clone(),
                gt: gt.name.clone(),
            });
        };
        let eval = if target == gt.name {
            gt.clone()
        } else if target == pred.name {
            pred.clone()
        } else {
            LandmarkScheme::load(target)?
        };
        let missing = || EvalError::NoCommonScheme {
            pred: pred.name.clone(),
            gt: gt.name.clone(),
        };
        Ok(Self {
            pred_index: indices(pred, target).ok_or_else(missing)?,
            gt_index: indices(gt, target).ok_or_else(missing)?,
            pose_index: gt_ibug,
            eval,
            pred: pred.clone(),
            gt: gt.clone(),
        })
    }

    /// The scheme the errors are measured in (its parts name the per-part NMEs).
    pub fn eval_scheme(&self) -> &LandmarkScheme {
        &self.eval
    }

    /// The scheme of the predictions.
    pub fn pred_scheme(&self) -> &LandmarkScheme {
        &self.pred
    }

    /// The scheme of the ground truth.
    pub fn gt_scheme(&self) -> &LandmarkScheme {
        &self.gt
    }

    /// The ground-truth indices of the 68 iBUG points (for head pose), if the scheme maps to them.
    pub fn pose_indices(&self) -> Option<&[usize]> {
        self.pose_index.as_deref()
    }

    /// The ground-truth points in the evaluated scheme's order.
    pub fn gt_in_eval(&self, gt: &[[f64; 2]]) -> Vec<[f64; 2]> {
        self.gt_index.iter().map(|&i| gt[i]).collect()
    }

    /// One sentence saying which points are compared and how they are mapped.
    pub fn describe(&self) -> String {
        let how = |scheme: &LandmarkScheme| {
            if scheme.name == self.eval.name {
                format!("{} as is", scheme.name)
            } else {
                format!("{} mapped by its `{}` mapping", scheme.name, self.eval.name)
            }
        };
        format!(
            "errors over the {} points of {} (predictions: {}; ground truth: {})",
            self.eval.num_points,
            self.eval.name,
            how(&self.pred),
            how(&self.gt)
        )
    }

    /// The predicted points in the evaluated scheme's order.
    pub fn pred_in_eval(&self, pred: &[[f64; 2]]) -> Vec<[f64; 2]> {
        self.pred_index.iter().map(|&i| pred[i]).collect()
    }

    /// Checks that `points` has `scheme`'s count of finite points.
    fn check(
        image: &str,
        what: &'static str,
        points: &[[f64; 2]],
        scheme: &LandmarkScheme,
    ) -> Result<(), EvalError> {
        if points.len() != scheme.num_points {
            return Err(EvalError::PointCount {
                image: image.into(),
                what,
                scheme: scheme.name.clone(),
                expected: scheme.num_points,
                found: points.len(),
            });
        }
        if points.iter().flatten().any(|v| !v.is_finite()) {
            return Err(EvalError::NonFinite {
                image: image.into(),
                what,
            });
        }
        Ok(())
    }

    /// Checks one image's ground truth and returns its inter-ocular and inter-pupil distances.
    pub fn gt_normalisers(&self, image: &str, gt: &[[f64; 2]]) -> Result<(f64, f64), EvalError> {
        Self::check(image, "ground truth", gt, &self.gt)?;
        let [l, r] = self.gt.eye_corners;
        let inter_ocular = distance(gt[l], gt[r]);
        let centre = |group: &[usize]| {
            let n = group.len() as f64;
            let sum = group
                .iter()
                .fold([0.0, 0.0], |s, &i| [s[0] + gt[i][0], s[1] + gt[i][1]]);
            [sum[0] / n, sum[1] / n]
        };
        let inter_pupil = distance(centre(&self.gt.pupils[0]), centre(&self.gt.pupils[1]));
        for (norm, distance) in [("inter_ocular", inter_ocular), ("inter_pupil", inter_pupil)] {
            if distance <= 0.0 || !distance.is_finite() {
                return Err(EvalError::DegenerateNormaliser {
                    image: image.into(),
                    norm,
                    distance,
                });
            }
        }
        Ok((inter_ocular, inter_pupil))
    }

    /// Checks the point counts and values of one image and measures its errors.
    pub fn measure(
        &self,
        image: &str,
        pred: &[[f64; 2]],
        gt: &[[f64; 2]],
    ) -> Result<Measured, EvalError> {
        Self::check(image, "prediction", pred, &self.pred)?;
        let (inter_ocular, inter_pupil) = self.gt_normalisers(image, gt)?;
        let errors_px = self
            .pred_index
            .iter()
            .zip(&self.gt_index)
            .map(|(&p, &g)| distance(pred[p], gt[g]))
            .collect();
        Ok(Measured {
            errors_px,
            inter_ocular,
            inter_pupil,
        })
    }
}

fn distance(a: [f64; 2], b: [f64; 2]) -> f64 {
    (a[0] - b[0]).hypot(a[1] - b[1])
}

#[cfg(test)]
mod tests {
    use super::*;

    fn scheme(name: &str) -> LandmarkScheme {
        LandmarkScheme::load(name).unwrap()
    }

    #[test]
    fn facesynthetics_is_measured_on_its_68_ibug_points() {
        let fs = scheme("facesynthetics70");
        let layout = EvalLayout::new(&fs, &fs).unwrap();
        assert_eq!(layout.eval_scheme().name, "ibug68");
        let gt: Vec<[f64; 2]> = (0..70).map(|i| [i as f64, 0.0]).collect();
        let mut pred = gt.clone();
        pred[69] = [1000.0, 1000.0]; // a pupil: not compared
        pred[0] = [0.0, 3.0];
        let m = layout.measure("a.png", &pred, &gt).unwrap();
        assert_eq!(m.errors_px.len(), 68);
        assert_eq!(m.errors_px[0], 3.0);
        assert_eq!(m.errors_px.iter().sum::<f64>(), 3.0);
        assert_eq!(m.inter_ocular, 9.0); // points 36 and 45
        assert_eq!(m.inter_pupil, 1.0); // points 68 and 69
    }

    #[test]
    fn a_70_point_model_on_68_point_data_uses_the_first_68() {
        let layout = EvalLayout::new(&scheme("facesynthetics70"), &scheme("ibug68")).unwrap();
        assert_eq!(layout.eval_scheme().name, "ibug68");
        let gt: Vec<[f64; 2]> = (0..68).map(|i| [0.0, i as f64]).collect();
        let mut pred: Vec<[f64; 2]> = gt.clone();
        pred.extend([[5.0, 5.0], [6.0, 6.0]]);
        pred[67] = [4.0, 67.0];
        let m = layout.measure("b.jpg", &pred, &gt).unwrap();
        assert_eq!(m.errors_px[67], 4.0);
        // inter-pupil for 68 points: centres of 36-41 (38.5) and 42-47 (44.5)
        assert!((m.inter_pupil - 6.0).abs() < 1e-12);
    }

    #[test]
    fn wflw_is_measured_on_98_points_or_on_the_common_68() {
        let wflw = scheme("wflw98");
        let same = EvalLayout::new(&wflw, &wflw).unwrap();
        assert_eq!(same.eval_scheme().num_points, 98);
        let cross = EvalLayout::new(&scheme("facesynthetics70"), &wflw).unwrap();
        assert_eq!(cross.eval_scheme().name, "ibug68");
        assert_eq!(
            cross.gt_in_eval(&(0..98).map(|i| [i as f64, 0.0]).collect::<Vec<_>>())[1],
            [2.0, 0.0]
        );
        assert!(
            cross
                .describe()
                .contains("wflw98 mapped by its `ibug68` mapping")
        );
    }

    #[test]
    fn bad_points_are_errors_naming_the_image() {
        let ibug = scheme("ibug68");
        let layout = EvalLayout::new(&ibug, &ibug).unwrap();
        let gt: Vec<[f64; 2]> = (0..68).map(|i| [i as f64, 1.0]).collect();
        let err = layout
            .measure("x.jpg", &gt[..60], &gt)
            .unwrap_err()
            .to_string();
        assert!(
            err.contains("x.jpg") && err.contains("60") && err.contains("68"),
            "{err}"
        );
        let mut nan = gt.clone();
        nan[3][1] = f64::NAN;
        assert!(
            layout
                .measure("x.jpg", &nan, &gt)
                .unwrap_err()
                .to_string()
                .contains("not finite")
        );
        let flat = vec![[1.0, 1.0]; 68];
        let err = layout
            .measure("y.jpg", &flat, &flat)
            .unwrap_err()
            .to_string();
        assert!(
            err.contains("y.jpg") && err.contains("inter_ocular"),
            "{err}"
        );
    }
}
