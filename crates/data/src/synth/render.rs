//! Renders a toy face over a textured background: head, neck and hair shapes, jaw line, brows,
//! eyes with irises at the pupil landmarks, nose and nostrils, lips and mouth, then lighting and
//! sensor noise, with random colours.

use super::face::Face;
use super::raster::{convex_hull, fill_disc, fill_disc_clipped, fill_polygon, thick_polyline};
use crate::rng::fast_normal;
use image::{Rgb, RgbImage};
use rand::Rng;

fn shade(c: Rgb<u8>, k: f32) -> Rgb<u8> {
    Rgb(c
        .0
        .map(|v| (f32::from(v) * k).round().clamp(0.0, 255.0) as u8))
}

fn jitter(c: [f32; 3], amount: f32, rng: &mut impl Rng) -> Rgb<u8> {
    Rgb(c.map(|v| {
        (v + rng.random_range(-amount..=amount))
            .round()
            .clamp(0.0, 255.0) as u8
    }))
}

fn random_color(rng: &mut impl Rng) -> Rgb<u8> {
    Rgb(rng.random())
}

/// A gradient background with random rectangles and discs.
fn background(img: &mut RgbImage, rng: &mut impl Rng) {
    let (a, b) = (random_color(rng), random_color(rng));
    let angle: f32 = rng.random_range(0.0..std::f32::consts::TAU);
    let (dx, dy) = (angle.cos(), angle.sin());
    let (w, h) = (img.width() as f32, img.height() as f32);
    for (x, y, px) in img.enumerate_pixels_mut() {
        let t = (((x as f32 / w - 0.5) * dx + (y as f32 / h - 0.5) * dy) + 0.75) / 1.5;
        let t = t.clamp(0.0, 1.0);
        *px = Rgb([0, 1, 2].map(|c| (f32::from(a.0[c]) * (1.0 - t) + f32::from(b.0[c]) * t) as u8));
    }
    for _ in 0..rng.random_range(3..12) {
        let c = [rng.random_range(0.0..w), rng.random_range(0.0..h)];
        let s = rng.random_range(0.03..0.25) * w;
        let color = random_color(rng);
        if rng.random_bool(0.5) {
            fill_disc(img, c, s / 2.0, color);
        } else {
            let (sx, sy) = (s, s * rng.random_range(0.3..2.0));
            let quad = [
                [c[0], c[1]],
                [c[0] + sx, c[1]],
                [c[0] + sx, c[1] + sy],
                [c[0], c[1] + sy],
            ];
            fill_polygon(img, &quad, color);
        }
    }
}

/// Draws `face` over a fresh background.
pub(crate) fn render(face: &Face, size: u32, rng: &mut impl Rng) -> RgbImage {
    let mut img = RgbImage::new(size, size);
    background(&mut img, rng);
    let l = &face.landmarks;
    let unit = face.scale / 146.0;
    let t = rng.random_range(0.0..1.0f32);
    let skin = jitter(
        [235.0 - 140.0 * t, 200.0 - 140.0 * t, 170.0 - 130.0 * t],
        15.0,
        rng,
    );
    let hair = match rng.random_range(0..4) {
        0 => jitter([30.0, 25.0, 20.0], 15.0, rng),
        1 => jitter([110.0, 70.0, 35.0], 25.0, rng),
        2 => jitter([200.0, 170.0, 100.0], 30.0, rng),
        _ => jitter([150.0, 150.0, 150.0], 40.0, rng),
    };

    fill_polygon(&mut img, &face.neck, shade(skin, 0.85));
    if let Some(outline) = &face.hair {
        let mut cap = outline.clone();
        cap.extend([l[0], l[16]]);
        fill_polygon(&mut img, &cap, hair);
    }
    // The head silhouette holds every feature, even those of a strongly turned face.
    let head = convex_hull(&[&l[..], &face.forehead[..]].concat());
    fill_polygon(&mut img, &head, skin);
    thick_polyline(
        &mut img,
        &l[0..17],
        2.0 * unit.max(0.6),
        shade(skin, 0.7),
        false,
    );

    // Brows.
    let brow_w = rng.random_range(3.0..6.0) * unit;
    let brow = shade(hair, 0.8);
    thick_polyline(&mut img, &l[17..22], brow_w, brow, false);
    thick_polyline(&mut img, &l[22..27], brow_w, brow, false);

    // Eyes: sclera, iris and pupil clipped to the lids, lid outline.
    let sclera = jitter([235.0, 232.0, 225.0], 15.0, rng);
    let iris = match rng.random_range(0..3) {
        0 => jitter([90.0, 60.0, 30.0], 25.0, rng),
        1 => jitter([60.0, 110.0, 170.0], 30.0, rng),
        _ => jitter([80.0, 120.0, 70.0], 30.0, rng),
    };
    for (lid, pupil) in [(&l[36..42], l[68]), (&l[42..48], l[69])] {
        fill_polygon(&mut img, lid, sclera);
        let width = ((lid[3][0] - lid[0][0]).powi(2) + (lid[3][1] - lid[0][1]).powi(2)).sqrt();
        fill_disc_clipped(&mut img, pupil, 0.28 * width, iris, Some(lid));
        fill_disc_clipped(&mut img, pupil, 0.13 * width, Rgb([15, 10, 10]), Some(lid));
        thick_polyline(&mut img, lid, 1.2 * unit.max(0.8), Rgb([40, 25, 20]), true);
    }

    // Nose.
    thick_polyline(
        &mut img,
        &l[27..31],
        2.0 * unit.max(0.6),
        shade(skin, 0.8),
        false,
    );
    thick_polyline(
        &mut img,
        &l[31..36],
        2.0 * unit.max(0.6),
        shade(skin, 0.6),
        false,
    );
    fill_disc(&mut img, l[32], 2.0 * unit, shade(skin, 0.35));
    fill_disc(&mut img, l[34], 2.0 * unit, shade(skin, 0.35));

    // Mouth: lips, then the opening.
    let lips = jitter(
        [
            f32::from(skin.0[0]) * 0.85 + 30.0,
            f32::from(skin.0[1]) * 0.6,
            f32::from(skin.0[2]) * 0.6,
        ],
        12.0,
        rng,
    );
    fill_polygon(&mut img, &l[48..60], lips);
    if face.mouth_open > 1.5 {
        fill_polygon(&mut img, &l[60..68], Rgb([70, 25, 30]));
    }
    thick_polyline(
        &mut img,
        &l[60..68],
        1.2 * unit.max(0.8),
        shade(lips, 0.55),
        true,
    );

    light_and_noise(&mut img, rng);
    img
}

/// A linear lighting gradient and approximately Gaussian sensor noise.
fn light_and_noise(img: &mut RgbImage, rng: &mut impl Rng) {
    let (w, h) = (img.width() as f32, img.height() as f32);
    let (gx, gy) = (
        rng.random_range(-0.3..0.3f32),
        rng.random_range(-0.3..0.3f32),
    );
    let base = rng.random_range(0.8..1.15f32);
    let sigma = rng.random_range(0.0..8.0f32);
    for (x, y, px) in img.enumerate_pixels_mut() {
        let k = base + gx * (x as f32 / w - 0.5) + gy * (y as f32 / h - 0.5);
        for v in px.0.iter_mut() {
            let n = sigma * fast_normal(rng);
            *v = (f32::from(*v) * k + n).round().clamp(0.0, 255.0) as u8;
        }
    }
}
