//! Drawing faces on frames with imageproc: the face box, one polyline per landmark part of the
//! scheme (as the original's `render_lmk`: parts drawn open, the pupils as points only), the
//! points, and the head pose as three axes from the nose tip.

use crate::geometry::FaceBox;
use crate::pose::FacePose;
use fdfat_config::LandmarkScheme;
use fdfat_eval::Camera;
use image::{Rgb, RgbImage};
use imageproc::drawing::{draw_filled_circle_mut, draw_line_segment_mut};

/// Colour of the landmark points.
const POINT_COLOR: Rgb<u8> = Rgb([255, 255, 0]);
/// Colours of the pose axes: model x (image right), y (down), and the facing direction.
const AXIS_COLORS: [Rgb<u8>; 3] = [Rgb([255, 40, 40]), Rgb([40, 220, 40]), Rgb([60, 120, 255])];
/// Length of the pose axes in face-model units (the model's eye corners are ~90 apart).
const AXIS_LENGTH: f64 = 60.0;
/// Index of the nose tip among the 68 iBUG points, where the axes start.
const NOSE_TIP: usize = 30;
/// Parts drawn as points only.
const POINT_ONLY_PARTS: &[&str] = &["pupils"];

/// A face to draw.
#[derive(Debug, Clone, Copy)]
pub struct FaceDrawing<'a> {
    /// The face box.
    pub bbox: FaceBox,
    /// Landmarks in image pixels.
    pub points: &'a [[f32; 2]],
    /// Head pose, drawn as axes.
    pub pose: Option<&'a FacePose>,
    /// Colour of the box and the part polylines.
    pub color: Rgb<u8>,
}

/// Draws faces of one landmark scheme.
#[derive(Debug, Clone)]
pub struct Renderer {
    parts: Vec<Vec<usize>>,
    nose_model_point: Option<[f64; 3]>,
}

impl Renderer {
    /// A renderer for models of `points` landmarks: polylines of the built-in scheme with that
    /// many points (points only when there is none).
    pub fn for_points(points: usize) -> Self {
        let scheme = LandmarkScheme::for_points(points);
        let parts = scheme.as_ref().map_or_else(Vec::new, |s| {
            s.parts
                .iter()
                .filter(|p| !POINT_ONLY_PARTS.contains(&p.name.as_str()) && p.indices.len() > 1)
                .map(|p| p.indices.clone())
                .collect()
        });
        let nose_model_point = fdfat_eval::FaceModel::ibug68()
            .ok()
            .and_then(|m| m.points().get(NOSE_TIP).copied());
        Self {
            parts,
            nose_model_point,
        }
    }

    /// Draws `face` on `image`; line widths follow the face size.
    pub fn draw(&self, image: &mut RgbImage, face: &FaceDrawing<'_>) {
        let side = face.bbox.width().abs().max(face.bbox.height().abs());
        let width = (side / 150.0).clamp(1.0, 4.0);
        let b = face.bbox;
        let corners = [[b.x0, b.y0], [b.x1, b.y0], [b.x1, b.y1], [b.x0, b.y1]];
        for k in 0..4 {
            thick_line(image, corners[k], corners[(k + 1) % 4], face.color, width);
        }
        for part in &self.parts {
            for pair in part.windows(2) {
                if let (Some(&a), Some(&b)) = (face.points.get(pair[0]), face.points.get(pair[1])) {
                    thick_line(image, a, b, face.color, width * 0.75);
                }
            }
        }
        let radius = (side / 120.0).clamp(1.0, 3.0).round() as i32;
        for p in face
            .points
            .iter()
            .filter(|p| p[0].is_finite() && p[1].is_finite())
        {
            draw_filled_circle_mut(image, (p[0] as i32, p[1] as i32), radius, POINT_COLOR);
        }
        if let (Some(pose), Some(nose)) = (face.pose, self.nose_model_point) {
            let camera = Camera::for_image(image.width(), image.height());
            let origin = pose.project(nose, &camera);
            // model axes x (right), y (down), and -z (out of the face, towards the camera)
            let tips = [
                [nose[0] + AXIS_LENGTH, nose[1], nose[2]],
                [nose[0], nose[1] + AXIS_LENGTH, nose[2]],
                [nose[0], nose[1], nose[2] - AXIS_LENGTH],
            ];
            for (tip, color) in tips.iter().zip(AXIS_COLORS) {
                let end = pose.project(*tip, &camera);
                thick_line(
                    image,
                    [origin[0] as f32, origin[1] as f32],
                    [end[0] as f32, end[1] as f32],
                    color,
                    width,
                );
            }
        }
    }
}

/// A distinct colour per track id.
pub fn track_color(id: u64) -> Rgb<u8> {
    const PALETTE: [[u8; 3]; 10] = [
        [0, 200, 255],
        [255, 80, 80],
        [80, 255, 120],
        [255, 0, 255],
        [255, 160, 0],
        [140, 110, 255],
        [0, 255, 200],
        [255, 255, 255],
        [200, 255, 0],
        [255, 120, 180],
    ];
    Rgb(PALETTE[(id % PALETTE.len() as u64) as usize])
}

/// A line `width` pixels wide, drawn as parallel one-pixel segments; skipped when an end is
/// not finite or absurdly far outside the image.
fn thick_line(image: &mut RgbImage, a: [f32; 2], b: [f32; 2], color: Rgb<u8>, width: f32) {
    let limit = 4.0 * (image.width().max(image.height()) as f32 + 1.0);
    if [a[0], a[1], b[0], b[1]]
        .iter()
        .any(|v| !v.is_finite() || v.abs() > limit)
    {
        return;
    }
    let (dx, dy) = (b[0] - a[0], b[1] - a[1]);
    let len = dx.hypot(dy).max(1e-6);
    let (nx, ny) = (-dy / len, dx / len);
    let strokes = width.round().max(1.0) as i32;
    for k in 0..strokes {
        let o = k as f32 - (strokes - 1) as f32 / 2.0;
        draw_line_segment_mut(
            image,
            (a[0] + nx * o, a[1] + ny * o),
            (b[0] + nx * o, b[1] + ny * o),
            color,
        );
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn draws_box_parts_and_points_inside_the_image_only() {
        let renderer = Renderer::for_points(70);
        assert_eq!(renderer.parts.len(), 8, "every part but the pupils");
        let mut image = RgbImage::new(64, 64);
        let points: Vec<[f32; 2]> = (0..70)
            .map(|i| [10.0 + (i % 10) as f32 * 4.0, 10.0 + (i / 10) as f32 * 6.0])
            .collect();
        let face = FaceDrawing {
            bbox: FaceBox::new(5.0, 5.0, 58.0, 58.0),
            points: &points,
            pose: None,
            color: Rgb([255, 0, 0]),
        };
        renderer.draw(&mut image, &face);
        assert_eq!(
            image.get_pixel(30, 5),
            &Rgb([255, 0, 0]),
            "top edge of the box"
        );
        assert_eq!(image.get_pixel(10, 10), &POINT_COLOR, "a landmark");
        assert_eq!(image.get_pixel(62, 62), &Rgb([0, 0, 0]), "outside the box");
        // a face far outside or with NaN points draws nothing and does not panic
        let nan = vec![[f32::NAN, 1.0]; 70];
        let far = FaceDrawing {
            bbox: FaceBox::new(1e9, 1e9, 2e9, 2e9),
            points: &nan,
            ..face
        };
        let before = image.clone();
        renderer.draw(&mut image, &far);
        assert_eq!(image, before);
    }

    #[test]
    fn colours_differ_between_neighbouring_ids() {
        assert_ne!(track_color(0), track_color(1));
        assert_eq!(track_color(3), track_color(13));
    }
}
