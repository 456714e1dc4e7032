//! A batch of prepared samples as plain buffers (the trainer turns them into tensors).

use crate::geometry::CropTransform;

/// `N` prepared samples.
#[derive(Debug, Clone, PartialEq)]
pub struct Batch {
    /// `N * 3 * size * size` floats, NCHW RGB, `x / 127.5 - 1` (or 0-255 without `pre_norm`).
    pub images: Vec<f32>,
    /// `N * 2 * points` floats: `(x, y)` per model point in `[-0.5, 0.5]` of the crop (points
    /// may leave that range after augmentation); 0 where not annotated.
    pub landmarks: Vec<f32>,
    /// `N * 2 * points` floats: 1 where the landmark is annotated, 0 for model points the
    /// dataset's scheme lacks and for samples without landmarks. Multiply the per-element
    /// landmark loss by it.
    pub landmark_mask: Vec<f32>,
    /// `N` floats: 1 for a face, 0 for a non-face.
    pub is_face: Vec<f32>,
    /// Side of the square input images (pixels).
    pub size: usize,
    /// Number of model landmark points.
    pub points: usize,
    /// Dataset index of each sample.
    pub indices: Vec<usize>,
    /// Per sample, the map from normalised crop points back to original image pixels.
    pub crops: Vec<CropTransform>,
}

impl Batch {
    /// Number of samples.
    pub fn len(&self) -> usize {
        self.indices.len()
    }

    /// Whether the batch holds no sample.
    pub fn is_empty(&self) -> bool {
        self.indices.is_empty()
    }

    /// The `3 * size * size` pixels of sample `k`.
    pub fn image(&self, k: usize) -> &[f32] {
        let n = 3 * self.size * self.size;
        &self.images[k * n..(k + 1) * n]
    }

    /// The `2 * points` landmark values of sample `k`.
    pub fn landmarks_of(&self, k: usize) -> &[f32] {
        let n = 2 * self.points;
        &self.landmarks[k * n..(k + 1) * n]
    }

    /// Sample `k`'s landmarks mapped back to original image pixels (`None` where unannotated).
    pub fn landmarks_in_image(&self, k: usize) -> Vec<Option<[f32; 2]>> {
        let n = 2 * self.points;
        let mask = &self.landmark_mask[k * n..(k + 1) * n];
        self.landmarks_of(k)
            .chunks_exact(2)
            .zip(mask.chunks_exact(2))
            .map(|(p, m)| (m[0] > 0.0).then(|| self.crops[k].to_image([p[0], p[1]])))
            .collect()
    }
}
