//! Face-classification accuracy, precision and recall from scores and labels.
//!
//! An image is predicted "face" when its score is `>= 0.5` (as the original's
//! `pred >= 0.5`). Precision = TP / (TP + FP) and recall = TP / (TP + FN); each is `null` when
//! its denominator is zero.

use crate::sample::FaceScore;
use serde::{Deserialize, Serialize};

/// The score at or above which an image is predicted to be a face.
pub const FACE_THRESHOLD: f64 = 0.5;

/// Face-classification figures over the images that carry a score and a label.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct FaceClsStats {
    /// Images with a score and a label.
    pub count: usize,
    /// The decision threshold on the score.
    pub threshold: f64,
    /// Fraction of correct decisions.
    pub accuracy: f64,
    /// TP / (TP + FP); `null` when nothing was predicted a face.
    pub precision: Option<f64>,
    /// TP / (TP + FN); `null` when no image is a face.
    pub recall: Option<f64>,
    /// Faces predicted as faces.
    pub true_positives: usize,
    /// Non-faces predicted as faces.
    pub false_positives: usize,
    /// Non-faces predicted as non-faces.
    pub true_negatives: usize,
    /// Faces predicted as non-faces.
    pub false_negatives: usize,
}

impl FaceClsStats {
    /// The figures of a set of scores with labels; `None` when there are none.
    pub fn compute<'a>(scores: impl IntoIterator<Item = &'a FaceScore>) -> Option<Self> {
        let (mut tp, mut fp, mut tn, mut fn_) = (0, 0, 0, 0);
        for s in scores {
            match (s.score >= FACE_THRESHOLD, s.is_face) {
                (true, true) => tp += 1,
                (true, false) => fp += 1,
                (false, false) => tn += 1,
                (false, true) => fn_ += 1,
            }
        }
        let count = tp + fp + tn + fn_;
        let ratio = |num: usize, den: usize| (den > 0).then(|| num as f64 / den as f64);
        (count > 0).then(|| Self {
            count,
            threshold: FACE_THRESHOLD,
            accuracy: (tp + tn) as f64 / count as f64,
            precision: ratio(tp, tp + fp),
            recall: ratio(tp, tp + fn_),
            true_positives: tp,
            false_positives: fp,
            true_negatives: tn,
            false_negatives: fn_,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn s(score: f64, is_face: bool) -> FaceScore {
        FaceScore { score, is_face }
    }

    #[test]
    fn accuracy_precision_recall_by_hand() {
        // TP: 0.9, 0.5 (at threshold) ; FN: 0.2 ; FP: 0.7 ; TN: 0.1, 0.49
        let scores = [
            s(0.9, true),
            s(0.5, true),
            s(0.2, true),
            s(0.7, false),
            s(0.1, false),
            s(0.49, false),
        ];
        let stats = FaceClsStats::compute(&scores).unwrap();
        assert_eq!(
            (
                stats.true_positives,
                stats.false_negatives,
                stats.false_positives,
                stats.true_negatives
            ),
            (2, 1, 1, 2)
        );
        assert!((stats.accuracy - 4.0 / 6.0).abs() < 1e-12);
        assert!((stats.precision.unwrap() - 2.0 / 3.0).abs() < 1e-12);
        assert!((stats.recall.unwrap() - 2.0 / 3.0).abs() < 1e-12);
    }

    #[test]
    fn undefined_ratios_are_none() {
        let stats = FaceClsStats::compute(&[s(0.1, false)]).unwrap();
        assert_eq!(stats.accuracy, 1.0);
        assert_eq!(stats.precision, None);
        assert_eq!(stats.recall, None);
        assert!(FaceClsStats::compute(&[]).is_none());
    }
}
