//! A data batch as tensors on the training device.

use crate::pose_target::PoseTargets;
use burn::tensor::{Device, Tensor, TensorData};
use fdfat_data::Batch;

/// The tensors of one batch.
pub struct BatchTensors {
    /// `[N, 3, S, S]` input images.
    pub images: Tensor<4>,
    /// `[N, 2P]` target landmarks in `[-0.5, 0.5]` of the crop.
    pub landmarks: Tensor<2>,
    /// `[N, 2P]` landmark loss weights: annotated x is-face x part weight.
    pub weights: Tensor<2>,
    /// `[N, 1]` face labels (1 face, 0 non-face).
    pub is_face: Tensor<2>,
    /// `N * 2P` host values: 1 where a face's landmark coordinate is annotated.
    pub annotated: Vec<f32>,
    /// `N * 2P` host copy of the target landmarks.
    pub targets: Vec<f32>,
    /// `[N, 3]` head-pose targets and `[N, 1]` their weights, when the model has a pose head.
    pub pose: Option<(Tensor<2>, Tensor<2>)>,
}

/// Moves `batch` to `device`; `part_weights` holds one weight per landmark coordinate (2P).
/// Without `pre_norm` the loader left pixels in 0-255 and they are normalised here, as the
/// original does in its loop.
pub fn to_tensors(
    batch: &Batch,
    part_weights: &[f32],
    pre_norm: bool,
    pose: Option<&PoseTargets>,
    device: &Device,
) -> BatchTensors {
    let n = batch.len();
    let p2 = 2 * batch.points;
    let mut pixels = batch.images.clone();
    if !pre_norm {
        pixels.iter_mut().for_each(|v| *v = *v / 127.5 - 1.0);
    }
    let images = Tensor::from_data(
        TensorData::new(pixels, [n, 3, batch.size, batch.size]),
        device,
    );
    let landmarks = Tensor::from_data(TensorData::new(batch.landmarks.clone(), [n, p2]), device);
    let annotated: Vec<f32> = batch
        .landmark_mask
        .chunks_exact(p2)
        .zip(&batch.is_face)
        .flat_map(|(mask, face)| mask.iter().map(move |m| m * face))
        .collect();
    let weights: Vec<f32> = annotated
        .chunks_exact(p2)
        .flat_map(|row| row.iter().zip(part_weights).map(|(a, w)| a * w))
        .collect();
    let weights = Tensor::from_data(TensorData::new(weights, [n, p2]), device);
    let is_face = Tensor::from_data(TensorData::new(batch.is_face.clone(), [n, 1]), device);
    let pose = pose.map(|solver| {
        let (targets, weights) = solver.for_batch(batch);
        (
            Tensor::from_data(TensorData::new(targets, [n, 3]), device),
            Tensor::from_data(TensorData::new(weights, [n, 1]), device),
        )
    });
    BatchTensors {
        images,
        landmarks,
        weights,
        is_face,
        annotated,
        targets: batch.landmarks.clone(),
        pose,
    }
}
