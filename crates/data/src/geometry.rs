//! Plane geometry of the crop: affine maps, face boxes from landmarks, and the transform that
//! maps crop-normalised points back to image pixels.
//!
//! Coordinates are continuous pixel coordinates: pixel `(i, j)` covers `[j, j+1) x [i, i+1)`,
//! so its centre is `(j + 0.5, i + 0.5)`. A crop of `w x h` pixels resized to `S x S` maps `x` to
//! `(x - x0) * S / w`, the convention of cv2.resize (half-pixel centres) and of keypoints in
//! albumentations, and a normalised point `p` in `[-0.5, 0.5]` is `o / S - 0.5`.

use rand::Rng;
use serde::{Deserialize, Serialize};

/// A 2D affine map `(x, y) -> (a x + b y + c, d x + e y + f)`, stored as `[a, b, c, d, e, f]`.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Affine2(pub [f64; 6]);

impl Affine2 {
    /// The identity map.
    pub const IDENTITY: Affine2 = Affine2([1.0, 0.0, 0.0, 0.0, 1.0, 0.0]);

    /// A translation by `(tx, ty)`.
    pub fn translation(tx: f64, ty: f64) -> Self {
        Affine2([1.0, 0.0, tx, 0.0, 1.0, ty])
    }

    /// A scaling about the origin.
    pub fn scaling(sx: f64, sy: f64) -> Self {
        Affine2([sx, 0.0, 0.0, 0.0, sy, 0.0])
    }

    /// A rotation about the origin by `degrees` (counter-clockwise on screen, y pointing down).
    pub fn rotation(degrees: f64) -> Self {
        let (s, c) = degrees.to_radians().sin_cos();
        Affine2([c, s, 0.0, -s, c, 0.0])
    }

    /// `self` followed by `next`.
    pub fn then(&self, next: &Affine2) -> Affine2 {
        let [a, b, c, d, e, f] = self.0;
        let [p, q, r, s, t, u] = next.0;
        Affine2([
            p * a + q * d,
            p * b + q * e,
            p * c + q * f + r,
            s * a + t * d,
            s * b + t * e,
            s * c + t * f + u,
        ])
    }

    /// The inverse map, or `None` when the map is singular.
    pub fn inverse(&self) -> Option<Affine2> {
        let [a, b, c, d, e, f] = self.0;
        let det = a * e - b * d;
        if det.abs() < 1e-12 || !det.is_finite() {
            return None;
        }
        let (ia, ib, id, ie) = (e / det, -b / det, -d / det, a / det);
        Some(Affine2([
            ia,
            ib,
            -(ia * c + ib * f),
            id,
            ie,
            -(id * c + ie * f),
        ]))
    }

    /// Maps a point (in f64).
    pub fn apply64(&self, x: f64, y: f64) -> (f64, f64) {
        let [a, b, c, d, e, f] = self.0;
        (a * x + b * y + c, d * x + e * y + f)
    }

    /// Maps a point.
    pub fn apply(&self, p: [f32; 2]) -> [f32; 2] {
        let (x, y) = self.apply64(f64::from(p[0]), f64::from(p[1]));
        [x as f32, y as f32]
    }
}

/// An integer pixel box `[x0, x1) x [y0, y1)` of an image.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct CropBox {
    /// Left column (inclusive).
    pub x0: i32,
    /// Top row (inclusive).
    pub y0: i32,
    /// Right column (exclusive).
    pub x1: i32,
    /// Bottom row (exclusive).
    pub y1: i32,
}

impl CropBox {
    /// The whole image.
    pub fn whole(width: u32, height: u32) -> Self {
        CropBox {
            x0: 0,
            y0: 0,
            x1: width as i32,
            y1: height as i32,
        }
    }

    /// Width in pixels.
    pub fn width(&self) -> i32 {
        self.x1 - self.x0
    }

    /// Height in pixels.
    pub fn height(&self) -> i32 {
        self.y1 - self.y0
    }

    /// `[x0, y0, x1, y1]`.
    pub fn to_array(&self) -> [i32; 4] {
        [self.x0, self.y0, self.x1, self.y1]
    }

    /// The original's box rounding: corners `[lo, hi]` (floats) clipped to `[0, size - 1]` and
    /// truncated to integers (numpy `astype(int32)`). `None` when the box is empty.
    pub fn from_corners(lo: [f64; 2], hi: [f64; 2], image_size: [u32; 2]) -> Option<Self> {
        let clip = |v: f64, size: u32| v.clamp(0.0, f64::from(size.max(1) - 1)) as i32;
        let b = CropBox {
            x0: clip(lo[0], image_size[0]),
            y0: clip(lo[1], image_size[1]),
            x1: clip(hi[0], image_size[0]),
            y1: clip(hi[1], image_size[1]),
        };
        (b.width() > 0 && b.height() > 0).then_some(b)
    }

    /// The evaluation crop: a square of `scale` times the larger side of the landmark extent,
    /// centred on it, clipped to the image and truncated to integer corners. `None` when the
    /// landmarks are empty or the box misses the image.
    pub fn around_landmarks(points: &[[f32; 2]], scale: f64, image_size: [u32; 2]) -> Option<Self> {
        let (lo, hi) = extent(points)?;
        let side = (hi[0] - lo[0]).max(hi[1] - lo[1]) * scale;
        let c = [(lo[0] + hi[0]) / 2.0, (lo[1] + hi[1]) / 2.0];
        Self::from_corners(
            [c[0] - side / 2.0, c[1] - side / 2.0],
            [c[0] + side / 2.0, c[1] + side / 2.0],
            image_size,
        )
    }

    /// The training crop of the original (`gen_bbox`): the square landmark extent, its centre
    /// moved by up to `offset` of its side on each axis, its side scaled by a factor drawn from
    /// `scale`, clipped and truncated as [`Self::from_corners`].
    pub fn random_around_landmarks(
        points: &[[f32; 2]],
        scale: (f64, f64),
        offset: f64,
        image_size: [u32; 2],
        rng: &mut impl Rng,
    ) -> Option<Self> {
        let (lo, hi) = extent(points)?;
        let m = (hi[0] - lo[0]).max(hi[1] - lo[1]);
        let dx = (2.0 * rng.random::<f64>() - 1.0) * offset * m;
        let dy = (2.0 * rng.random::<f64>() - 1.0) * offset * m;
        let side = m * rng.random_range(scale.0..=scale.1);
        let c = [(lo[0] + hi[0]) / 2.0 + dx, (lo[1] + hi[1]) / 2.0 + dy];
        Self::from_corners(
            [c[0] - side / 2.0, c[1] - side / 2.0],
            [c[0] + side / 2.0, c[1] + side / 2.0],
            image_size,
        )
    }

    /// The map from image pixels to the `size x size` resized crop (a stretch when the clipped
    /// box is not square, as in the original).
    pub fn to_output(&self, size: usize) -> Affine2 {
        let s = size as f64;
        Affine2::translation(-f64::from(self.x0), -f64::from(self.y0)).then(&Affine2::scaling(
            s / f64::from(self.width()),
            s / f64::from(self.height()),
        ))
    }
}

/// The landmark extent `(min, max)` over finite points.
pub fn extent(points: &[[f32; 2]]) -> Option<([f64; 2], [f64; 2])> {
    let mut lo = [f64::INFINITY; 2];
    let mut hi = [f64::NEG_INFINITY; 2];
    for p in points
        .iter()
        .filter(|p| p[0].is_finite() && p[1].is_finite())
    {
        for k in 0..2 {
            lo[k] = lo[k].min(f64::from(p[k]));
            hi[k] = hi[k].max(f64::from(p[k]));
        }
    }
    (lo[0] <= hi[0]).then_some((lo, hi))
}

/// Maps crop-normalised points (`[-0.5, 0.5]`, what the model predicts) back to original image
/// pixels, and back again. For a training sample it undoes the whole geometric augmentation
/// (with a flip, point identities are also permuted; see the loader).
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct CropTransform {
    /// Normalised crop point -> image pixel.
    pub to_image: Affine2,
}

impl CropTransform {
    /// The transform of a crop whose image-to-output map is `forward` at `size` pixels.
    pub fn new(forward: &Affine2, size: usize) -> Option<Self> {
        let s = size as f64;
        let from_norm = Affine2::translation(0.5, 0.5).then(&Affine2::scaling(s, s));
        Some(CropTransform {
            to_image: from_norm.then(&forward.inverse()?),
        })
    }

    /// The transform of a plain crop of `crop` resized to any size (evaluation, prediction).
    pub fn from_box(crop: &CropBox) -> Self {
        let (w, h) = (f64::from(crop.width()), f64::from(crop.height()));
        CropTransform {
            to_image: Affine2([
                w,
                0.0,
                f64::from(crop.x0) + 0.5 * w,
                0.0,
                h,
                f64::from(crop.y0) + 0.5 * h,
            ]),
        }
    }

    /// A normalised crop point in image pixels.
    pub fn to_image(&self, p: [f32; 2]) -> [f32; 2] {
        self.to_image.apply(p)
    }

    /// An image pixel point in normalised crop coordinates.
    pub fn to_crop(&self, x: [f32; 2]) -> [f32; 2] {
        self.to_image
            .inverse()
            .map_or([f32::NAN; 2], |inv| inv.apply(x))
    }
}
