//! A small rasteriser for the toy faces: even-odd polygon fill at pixel centres, discs and
//! thick polylines, in continuous pixel coordinates (pixel `(x, y)` has its centre at
//! `(x + 0.5, y + 0.5)`), clipped to the image; degenerate shapes draw nothing.

use image::{Rgb, RgbImage};

/// Fills the polygon `pts` (even-odd rule).
pub(crate) fn fill_polygon(img: &mut RgbImage, pts: &[[f32; 2]], color: Rgb<u8>) {
    fill_where(img, pts, color, |_, _| true);
}

/// Fills the pixels of polygon `pts` for which `keep(x, y)` holds.
fn fill_where(
    img: &mut RgbImage,
    pts: &[[f32; 2]],
    color: Rgb<u8>,
    keep: impl Fn(f32, f32) -> bool,
) {
    if pts.len() < 3 || pts.iter().any(|p| !p[0].is_finite() || !p[1].is_finite()) {
        return;
    }
    let (w, h) = (img.width() as i64, img.height() as i64);
    let ymin = pts.iter().map(|p| p[1]).fold(f32::INFINITY, f32::min);
    let ymax = pts.iter().map(|p| p[1]).fold(f32::NEG_INFINITY, f32::max);
    let mut xs = Vec::new();
    for y in ((ymin - 0.5).floor() as i64).max(0)..=((ymax - 0.5).ceil() as i64).min(h - 1) {
        let yc = y as f32 + 0.5;
        xs.clear();
        for (k, a) in pts.iter().enumerate() {
            let b = pts[(k + 1) % pts.len()];
            if (a[1] <= yc) != (b[1] <= yc) {
                xs.push(a[0] + (yc - a[1]) * (b[0] - a[0]) / (b[1] - a[1]));
            }
        }
        xs.sort_by(f32::total_cmp);
        for pair in xs.chunks_exact(2) {
            let from = ((pair[0] - 0.5).ceil() as i64).max(0);
            let to = ((pair[1] - 0.5).ceil() as i64).min(w);
            for x in from..to {
                if keep(x as f32 + 0.5, yc) {
                    img.put_pixel(x as u32, y as u32, color);
                }
            }
        }
    }
}

/// Fills the disc of radius `r` around `c`.
pub(crate) fn fill_disc(img: &mut RgbImage, c: [f32; 2], r: f32, color: Rgb<u8>) {
    fill_disc_clipped(img, c, r, color, None);
}

/// Fills the disc of radius `r` around `c`, only inside polygon `clip` when given.
pub(crate) fn fill_disc_clipped(
    img: &mut RgbImage,
    c: [f32; 2],
    r: f32,
    color: Rgb<u8>,
    clip: Option<&[[f32; 2]]>,
) {
    if !(r > 0.0 && c[0].is_finite() && c[1].is_finite()) {
        return;
    }
    let (w, h) = (img.width() as i64, img.height() as i64);
    for y in ((c[1] - r - 0.5).floor() as i64).max(0)..=((c[1] + r).ceil() as i64).min(h - 1) {
        for x in ((c[0] - r - 0.5).floor() as i64).max(0)..=((c[0] + r).ceil() as i64).min(w - 1) {
            let (px, py) = (x as f32 + 0.5, y as f32 + 0.5);
            let inside = (px - c[0]).powi(2) + (py - c[1]).powi(2) <= r * r;
            if inside && clip.is_none_or(|poly| contains(poly, px, py)) {
                img.put_pixel(x as u32, y as u32, color);
            }
        }
    }
}

/// A polyline of the given `width` with round joints, closed back to its start if `closed`.
pub(crate) fn thick_polyline(
    img: &mut RgbImage,
    pts: &[[f32; 2]],
    width: f32,
    color: Rgb<u8>,
    closed: bool,
) {
    let half = (width / 2.0).max(0.5);
    let n = pts.len();
    let segments = if closed { n } else { n.saturating_sub(1) };
    for k in 0..segments {
        let (a, b) = (pts[k], pts[(k + 1) % n]);
        let (dx, dy) = (b[0] - a[0], b[1] - a[1]);
        let len = (dx * dx + dy * dy).sqrt();
        if len > 1e-3 {
            let (nx, ny) = (-dy / len * half, dx / len * half);
            let quad = [
                [a[0] + nx, a[1] + ny],
                [b[0] + nx, b[1] + ny],
                [b[0] - nx, b[1] - ny],
                [a[0] - nx, a[1] - ny],
            ];
            fill_polygon(img, &quad, color);
        }
    }
    for &p in pts {
        fill_disc(img, p, half, color);
    }
}

/// The convex hull of `pts` (monotone chain), counter-clockwise in y-up terms.
pub(crate) fn convex_hull(pts: &[[f32; 2]]) -> Vec<[f32; 2]> {
    let mut p: Vec<[f32; 2]> = pts
        .iter()
        .copied()
        .filter(|q| q[0].is_finite() && q[1].is_finite())
        .collect();
    p.sort_by(|a, b| a[0].total_cmp(&b[0]).then(a[1].total_cmp(&b[1])));
    p.dedup();
    if p.len() < 3 {
        return p;
    }
    let cross = |o: [f32; 2], a: [f32; 2], b: [f32; 2]| {
        (a[0] - o[0]) * (b[1] - o[1]) - (a[1] - o[1]) * (b[0] - o[0])
    };
    let mut hull: Vec<[f32; 2]> = Vec::with_capacity(2 * p.len());
    for pass in [p.clone(), p.iter().rev().copied().collect()] {
        let start = hull.len();
        for q in pass {
            while hull.len() >= start + 2
                && cross(hull[hull.len() - 2], hull[hull.len() - 1], q) <= 0.0
            {
                hull.pop();
            }
            hull.push(q);
        }
        hull.pop();
    }
    hull
}

/// Even-odd point-in-polygon test.
pub(crate) fn contains(poly: &[[f32; 2]], x: f32, y: f32) -> bool {
    let mut inside = false;
    for (k, a) in poly.iter().enumerate() {
        let b = poly[(k + 1) % poly.len()];
        if (a[1] <= y) != (b[1] <= y) && x < a[0] + (y - a[1]) * (b[0] - a[0]) / (b[1] - a[1]) {
            inside = !inside;
        }
    }
    inside
}

#[cfg(test)]
mod tests {
    use super::*;

    fn count(img: &RgbImage) -> usize {
        img.pixels().filter(|p| p.0 != [0, 0, 0]).count()
    }

    #[test]
    fn square_and_disc_cover_their_area() {
        let mut img = RgbImage::new(20, 20);
        fill_polygon(
            &mut img,
            &[[2.0, 2.0], [12.0, 2.0], [12.0, 12.0], [2.0, 12.0]],
            Rgb([255, 0, 0]),
        );
        assert_eq!(count(&img), 100);
        let mut img = RgbImage::new(40, 40);
        fill_disc(&mut img, [20.0, 20.0], 10.0, Rgb([0, 255, 0]));
        let area = count(&img) as f32;
        assert!((area - std::f32::consts::PI * 100.0).abs() < 15.0, "{area}");
    }

    #[test]
    fn hull_of_a_square_with_inner_points() {
        let pts = [
            [0.0, 0.0],
            [4.0, 0.0],
            [2.0, 1.0],
            [4.0, 4.0],
            [1.0, 2.0],
            [0.0, 4.0],
        ];
        let mut hull = convex_hull(&pts);
        hull.sort_by(|a, b| a[0].total_cmp(&b[0]).then(a[1].total_cmp(&b[1])));
        assert_eq!(hull, vec![[0.0, 0.0], [0.0, 4.0], [4.0, 0.0], [4.0, 4.0]]);
    }

    #[test]
    fn degenerate_and_offscreen_shapes_are_harmless() {
        let mut img = RgbImage::new(10, 10);
        fill_polygon(
            &mut img,
            &[[1.0, 1.0], [1.0, 1.0], [1.0, 1.0]],
            Rgb([9, 9, 9]),
        );
        fill_polygon(
            &mut img,
            &[[-50.0, -50.0], [-40.0, -50.0], [-40.0, -40.0]],
            Rgb([9, 9, 9]),
        );
        fill_polygon(
            &mut img,
            &[[f32::NAN, 0.0], [5.0, 5.0], [0.0, 5.0]],
            Rgb([9, 9, 9]),
        );
        thick_polyline(
            &mut img,
            &[[3.0, 3.0], [3.0, 3.0]],
            2.0,
            Rgb([9, 9, 9]),
            true,
        );
        fill_disc(&mut img, [100.0, 100.0], 5.0, Rgb([9, 9, 9]));
        assert!(count(&img) <= 4);
    }
}
