//! Face boxes in image pixels: intersection over union, hard non-maximum suppression, the
//! landmark crop of a detector box and the box around a set of landmarks (the original's
//! `box_utils.to_landmark_box` and `bbox_from_landmark`).

use fdfat_data::CropBox;
use serde::{Deserialize, Serialize};

/// How far the original moves a detector box down, as a fraction of its height, before
/// cropping a face for the landmark model.
pub const DETECTION_SHIFT_Y: f32 = 0.13;
/// How much the original enlarges the square around a detector box for the landmark crop.
pub const DETECTION_SCALE: f32 = 1.1;
/// Side of the square box around landmarks, relative to their larger extent (the original's
/// `bbox_from_landmark`; also the evaluation crop scale).
pub const LANDMARK_BOX_SCALE: f32 = 1.5;

/// An axis-aligned box in continuous image pixels.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(into = "[f32; 4]", from = "[f32; 4]")]
pub struct FaceBox {
    /// Left edge.
    pub x0: f32,
    /// Top edge.
    pub y0: f32,
    /// Right edge.
    pub x1: f32,
    /// Bottom edge.
    pub y1: f32,
}

impl From<FaceBox> for [f32; 4] {
    fn from(b: FaceBox) -> Self {
        [b.x0, b.y0, b.x1, b.y1]
    }
}

impl From<[f32; 4]> for FaceBox {
    fn from(c: [f32; 4]) -> Self {
        FaceBox::new(c[0], c[1], c[2], c[3])
    }
}

impl FaceBox {
    /// The box with corners `(x0, y0)` and `(x1, y1)`.
    pub fn new(x0: f32, y0: f32, x1: f32, y1: f32) -> Self {
        Self { x0, y0, x1, y1 }
    }

    /// The box of centre `(cx, cy)` and size `w x h`.
    pub fn from_center(cx: f32, cy: f32, w: f32, h: f32) -> Self {
        Self::new(cx - w / 2.0, cy - h / 2.0, cx + w / 2.0, cy + h / 2.0)
    }

    /// Width (negative for an inverted box).
    pub fn width(&self) -> f32 {
        self.x1 - self.x0
    }

    /// Height (negative for an inverted box).
    pub fn height(&self) -> f32 {
        self.y1 - self.y0
    }

    /// Centre point.
    pub fn center(&self) -> [f32; 2] {
        [(self.x0 + self.x1) / 2.0, (self.y0 + self.y1) / 2.0]
    }

    /// Area; 0 for an empty or inverted box.
    pub fn area(&self) -> f32 {
        self.width().max(0.0) * self.height().max(0.0)
    }

    /// Whether every corner is finite.
    pub fn is_finite(&self) -> bool {
        [self.x0, self.y0, self.x1, self.y1]
            .iter()
            .all(|v| v.is_finite())
    }

    /// Intersection over union; 0 when the union is empty or a corner is not finite.
    pub fn iou(&self, other: &FaceBox) -> f32 {
        if !self.is_finite() || !other.is_finite() {
            return 0.0;
        }
        let w = (self.x1.min(other.x1) - self.x0.max(other.x0)).max(0.0);
        let h = (self.y1.min(other.y1) - self.y0.max(other.y0)).max(0.0);
        let inter = w * h;
        let union = self.area() + other.area() - inter;
        if union > 0.0 && union.is_finite() {
            inter / union
        } else {
            0.0
        }
    }

    /// The box scaled about the image origin (detector coordinates to image pixels).
    pub fn scaled(&self, sx: f32, sy: f32) -> FaceBox {
        FaceBox::new(self.x0 * sx, self.y0 * sy, self.x1 * sx, self.y1 * sy)
    }

    /// The landmark crop of a detector box (the original's `to_landmark_box`): a square of
    /// `scale` times the larger side, centred on the box and moved down by `shift_y` of its
    /// height.
    pub fn landmark_crop(&self, shift_y: f32, scale: f32) -> FaceBox {
        let [cx, cy] = self.center();
        let side = self.width().max(self.height()) * scale;
        FaceBox::from_center(cx, cy + shift_y * self.height(), side, side)
    }

    /// The square box around `points` (the original's `bbox_from_landmark`): `scale` times the
    /// larger side of their extent, centred on it. `None` when no point is finite.
    pub fn around_points(points: &[[f32; 2]], scale: f32) -> Option<FaceBox> {
        let (lo, hi) = fdfat_data::extent(points)?;
        let side = ((hi[0] - lo[0]).max(hi[1] - lo[1])) as f32 * scale;
        let c = [
            ((lo[0] + hi[0]) / 2.0) as f32,
            ((lo[1] + hi[1]) / 2.0) as f32,
        ];
        Some(FaceBox::from_center(c[0], c[1], side, side))
    }

    /// The integer pixel box of an image that this box covers (clipped, corners truncated as
    /// the original does); `None` when nothing of it lies inside the image.
    pub fn crop_box(&self, image_size: [u32; 2]) -> Option<CropBox> {
        if !self.is_finite() {
            return None;
        }
        CropBox::from_corners(
            [f64::from(self.x0), f64::from(self.y0)],
            [f64::from(self.x1), f64::from(self.y1)],
            image_size,
        )
    }
}

/// A face found by the detector, in image pixels.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Detection {
    /// The detector's box.
    #[serde(rename = "box")]
    pub bbox: FaceBox,
    /// The detector's face probability.
    pub score: f32,
}

/// Hard non-maximum suppression (the original's `hard_nms`): among the `max_candidates`
/// highest-scoring detections, repeatedly keeps the best and drops those overlapping it by
/// more than `iou_threshold`. The result is sorted by decreasing score.
pub fn hard_nms(
    mut detections: Vec<Detection>,
    iou_threshold: f32,
    max_candidates: usize,
) -> Vec<Detection> {
    detections.retain(|d| d.bbox.is_finite() && d.score.is_finite());
    detections.sort_by(|a, b| b.score.total_cmp(&a.score));
    detections.truncate(max_candidates);
    let mut kept: Vec<Detection> = Vec::new();
    for d in detections {
        if kept.iter().all(|k| k.bbox.iou(&d.bbox) <= iou_threshold) {
            kept.push(d);
        }
    }
    kept
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn iou_of_known_boxes() {
        let a = FaceBox::new(0.0, 0.0, 10.0, 10.0);
        let b = FaceBox::new(5.0, 0.0, 15.0, 10.0);
        assert!((a.iou(&b) - 50.0 / 150.0).abs() < 1e-6);
        assert_eq!(a.iou(&a), 1.0);
        assert_eq!(a.iou(&FaceBox::new(20.0, 20.0, 30.0, 30.0)), 0.0);
        let empty = FaceBox::new(3.0, 3.0, 3.0, 3.0);
        assert_eq!(empty.iou(&empty), 0.0);
        let nan = FaceBox::new(f32::NAN, 0.0, 1.0, 1.0);
        assert_eq!(nan.iou(&a), 0.0);
    }

    #[test]
    fn landmark_crop_is_the_shifted_enlarged_square() {
        // 100 x 80 box centred at (150, 140): side 110, centre moved down by 0.13 * 80 = 10.4
        let b = FaceBox::new(100.0, 100.0, 200.0, 180.0).landmark_crop(0.13, 1.1);
        let want = FaceBox::new(95.0, 95.4, 205.0, 205.4);
        for (g, w) in <[f32; 4]>::from(b).iter().zip(<[f32; 4]>::from(want)) {
            assert!((g - w).abs() < 1e-4, "{b:?} vs {want:?}");
        }
    }

    #[test]
    fn box_around_points_is_square_and_centred() {
        let points = [[10.0, 20.0], [30.0, 60.0], [f32::NAN, 0.0]];
        let b = FaceBox::around_points(&points, 1.5).unwrap();
        assert_eq!(b, FaceBox::new(-10.0, 10.0, 50.0, 70.0));
        assert!(FaceBox::around_points(&[[f32::NAN, 1.0]], 1.5).is_none());
    }

    #[test]
    fn nms_keeps_the_best_of_overlapping_boxes() {
        let d = |x: f32, score| Detection {
            bbox: FaceBox::new(x, 0.0, x + 10.0, 10.0),
            score,
        };
        let kept = hard_nms(
            vec![d(0.0, 0.8), d(1.0, 0.9), d(50.0, 0.75), d(2.0, f32::NAN)],
            0.3,
            200,
        );
        assert_eq!(kept, vec![d(1.0, 0.9), d(50.0, 0.75)]);
        assert_eq!(
            hard_nms(vec![d(0.0, 0.8), d(50.0, 0.9)], 0.3, 1),
            vec![d(50.0, 0.9)]
        );
    }

    #[test]
    fn crop_box_clips_to_the_image() {
        let b = FaceBox::new(-5.5, 10.7, 300.0, 50.2)
            .crop_box([100, 80])
            .unwrap();
        assert_eq!(b.to_array(), [0, 10, 99, 50]);
        assert!(
            FaceBox::new(200.0, 0.0, 300.0, 10.0)
                .crop_box([100, 80])
                .is_none()
        );
        assert!(
            FaceBox::new(f32::NAN, 0.0, 30.0, 10.0)
                .crop_box([100, 80])
                .is_none()
        );
    }

    #[test]
    fn serialises_as_four_corners() {
        let b = FaceBox::new(1.0, 2.0, 3.0, 4.0);
        assert_eq!(serde_json::to_string(&b).unwrap(), "[1.0,2.0,3.0,4.0]");
    }
}
