//! Landmark and face-classification losses, element-wise (PyTorch `reduction='none'`), then
//! weighted and averaged over every element as the original trainer does.

use burn::tensor::Tensor;
use fdfat_config::{FaceLossKind, LossKind};

/// Wing loss width `w` in crop-normalised units (10 px of a 96 px crop).
pub const WING_WIDTH: f64 = 10.0 / 96.0;
/// Wing loss curvature `epsilon` in crop-normalised units (2 px of a 96 px crop).
pub const WING_CURVATURE: f64 = 2.0 / 96.0;

/// Element-wise landmark loss between predictions and targets of the same shape.
pub fn elementwise(kind: LossKind, pred: Tensor<2>, target: Tensor<2>) -> Tensor<2> {
    let diff = pred - target;
    match kind {
        LossKind::L1 => diff.abs(),
        LossKind::Mse => diff.square(),
        LossKind::SmoothL1 => {
            // beta = 1: 0.5 x^2 where |x| < 1, |x| - 0.5 elsewhere.
            let abs = diff.abs();
            let quadratic = abs.clone().square().mul_scalar(0.5);
            let linear = abs.clone().sub_scalar(0.5);
            linear.mask_where(abs.lower_elem(1.0), quadratic)
        }
        LossKind::Wing => {
            // w ln(1 + |x|/eps) where |x| < w, |x| - C elsewhere, C = w - w ln(1 + w/eps).
            let (w, eps) = (WING_WIDTH, WING_CURVATURE);
            let c = w - w * (1.0 + w / eps).ln();
            let abs = diff.abs();
            let log_part = abs.clone().div_scalar(eps).log1p().mul_scalar(w);
            let linear = abs.clone().sub_scalar(c);
            linear.mask_where(abs.lower_elem(w), log_part)
        }
    }
}

/// Mean landmark loss: element-wise loss times `weights` (is_face x point mask x part weight),
/// averaged over every element, as `(loss_fn(pred, y) * face * w).mean()` in the original.
pub fn landmark_loss(
    kind: LossKind,
    pred: Tensor<2>,
    target: Tensor<2>,
    weights: Tensor<2>,
) -> Tensor<1> {
    (elementwise(kind, pred, target) * weights).mean()
}

/// Face classification loss on sigmoid scores `[N, 1]` against 0/1 labels `[N, 1]`; log terms
/// are clamped at -100 as `torch.nn.BCELoss` does.
pub fn face_loss(kind: FaceLossKind, score: Tensor<2>, label: Tensor<2>) -> Tensor<1> {
    match kind {
        FaceLossKind::Bce => {
            let log_p = score.clone().log().clamp_min(-100.0);
            let log_q = score.neg().add_scalar(1.0).log().clamp_min(-100.0);
            let ones = label.ones_like();
            (label.clone() * log_p + (ones - label) * log_q)
                .neg()
                .mean()
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use burn::tensor::{Device, TensorData};

    fn t(rows: &[&[f32]]) -> Tensor<2> {
        let n = rows.len();
        let m = rows[0].len();
        let flat: Vec<f32> = rows.iter().flat_map(|r| r.iter().copied()).collect();
        Tensor::from_data(TensorData::new(flat, [n, m]), &Device::default())
    }

    fn v(x: Tensor<2>) -> Vec<f32> {
        x.try_into_vec_as().unwrap()
    }

    #[test]
    fn elementwise_losses_follow_their_definitions() {
        let pred = t(&[&[0.5, -0.2, 3.0]]);
        let target = t(&[&[0.0, 0.0, 0.0]]);
        assert_eq!(
            v(elementwise(LossKind::L1, pred.clone(), target.clone())),
            vec![0.5, 0.2, 3.0]
        );
        let mse = v(elementwise(LossKind::Mse, pred.clone(), target.clone()));
        assert!((mse[0] - 0.25).abs() < 1e-6 && (mse[2] - 9.0).abs() < 1e-6);
        let smooth = v(elementwise(
            LossKind::SmoothL1,
            pred.clone(),
            target.clone(),
        ));
        assert!(
            (smooth[0] - 0.125).abs() < 1e-6
                && (smooth[1] - 0.02).abs() < 1e-6
                && (smooth[2] - 2.5).abs() < 1e-6
        );
        let wing = v(elementwise(
            LossKind::Wing,
            t(&[&[0.05, 1.0]]),
            t(&[&[0.0, 0.0]]),
        ));
        let (w, e) = (WING_WIDTH, WING_CURVATURE);
        assert!((wing[0] as f64 - w * (1.0 + 0.05 / e).ln()).abs() < 1e-6);
        assert!((wing[1] as f64 - (1.0 - (w - w * (1.0 + w / e).ln()))).abs() < 1e-6);
    }

    #[test]
    fn weights_mask_samples_and_parts_but_count_in_the_mean() {
        let pred = t(&[&[1.0, 1.0], &[1.0, 1.0]]);
        let target = t(&[&[0.0, 0.0], &[0.0, 0.0]]);
        let weights = t(&[&[2.0, 1.0], &[0.0, 0.0]]);
        let loss: f32 = landmark_loss(LossKind::L1, pred, target, weights).into_scalar();
        assert!((loss - 0.75).abs() < 1e-6);
    }

    #[test]
    fn bce_matches_torch_including_the_clamp() {
        let score = t(&[&[0.8], &[0.1], &[0.0]]);
        let label = t(&[&[1.0], &[0.0], &[1.0]]);
        let loss: f32 = face_loss(FaceLossKind::Bce, score, label).into_scalar();
        let expected = (-(0.8f32.ln()) - (0.9f32.ln()) + 100.0) / 3.0;
        assert!((loss - expected).abs() < 1e-4, "{loss} vs {expected}");
    }
}
