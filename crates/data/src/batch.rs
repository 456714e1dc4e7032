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

    /// The batch cut into `parts` contiguous shards of sizes differing by at most one (the
    /// first shards take the extra samples), in sample order; fewer shards when the batch holds
    /// fewer than `parts` samples, none when it is empty.
    pub fn shards(&self, parts: usize) -> Vec<Batch> {
        let n = self.len();
        let parts = parts.clamp(1, n.max(1)).min(n);
        let mut start = 0;
        (0..parts)
            .map(|i| {
                let end = start + n / parts + usize::from(i < n % parts);
                let shard = self.rows(start..end);
                start = end;
                shard
            })
            .collect()
    }

    /// Samples `range` as a batch of their own.
    fn rows(&self, range: std::ops::Range<usize>) -> Batch {
        let pixels = 3 * self.size * self.size;
        let coords = 2 * self.points;
        let span = |per: usize| range.start * per..range.end * per;
        Batch {
            images: self.images[span(pixels)].to_vec(),
            landmarks: self.landmarks[span(coords)].to_vec(),
            landmark_mask: self.landmark_mask[span(coords)].to_vec(),
            is_face: self.is_face[range.clone()].to_vec(),
            size: self.size,
            points: self.points,
            indices: self.indices[range.clone()].to_vec(),
            crops: self.crops[range].to_vec(),
        }
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::geometry::Affine2;

    /// A batch of `n` samples (size 2, one point) whose every value is its sample index.
    fn numbered(n: usize) -> Batch {
        let per = |k: usize, len: usize| std::iter::repeat_n(k as f32, len);
        Batch {
            images: (0..n).flat_map(|k| per(k, 12)).collect(),
            landmarks: (0..n).flat_map(|k| per(k, 2)).collect(),
            landmark_mask: (0..n).flat_map(|k| per(k, 2)).collect(),
            is_face: (0..n).map(|k| k as f32).collect(),
            size: 2,
            points: 1,
            indices: (0..n).collect(),
            crops: (0..n)
                .map(|k| CropTransform {
                    to_image: Affine2::translation(k as f64, 0.0),
                })
                .collect(),
        }
    }

    #[test]
    fn shards_cover_the_batch_in_order() {
        let batch = numbered(7);
        let shards = batch.shards(3);
        assert_eq!(shards.iter().map(Batch::len).collect::<Vec<_>>(), [3, 2, 2]);
        for shard in &shards {
            for k in 0..shard.len() {
                let index = shard.indices[k] as f32;
                assert!(shard.image(k).iter().all(|&v| v == index));
                assert_eq!(shard.landmarks_of(k), [index, index]);
                assert_eq!(shard.is_face[k], index);
                assert_eq!(shard.crops[k], batch.crops[shard.indices[k]]);
            }
        }
        let joined: Vec<usize> = shards.iter().flat_map(|s| s.indices.clone()).collect();
        assert_eq!(joined, (0..7).collect::<Vec<_>>());
        assert_eq!(batch.shards(1), vec![batch.clone()]);
    }

    #[test]
    fn small_batches_give_fewer_shards() {
        assert_eq!(numbered(2).shards(4).len(), 2);
        assert!(numbered(0).shards(2).is_empty());
    }
}
