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
pub(crate) fn background(img: &mut RgbImage, rng: &mut impl Rng) {
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
    let palette = Palette::random(rng);
    draw_face(&mut img, face, &palette);
    Light::random(rng).apply(&mut img, rng);
    img
}

/// The colours of one toy person.
pub(crate) struct Palette {
    skin: Rgb<u8>,
    hair: Rgb<u8>,
    /// Brow thickness in face units (the face is 146 units wide).
    brow_width: f32,
    sclera: Rgb<u8>,
    iris: Rgb<u8>,
    lips: Rgb<u8>,
}

impl Palette {
    /// Random skin, hair, eye and lip colours and brow thickness.
    pub(crate) fn random(rng: &mut impl Rng) -> Self {
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
        let brow_width = rng.random_range(3.0..6.0);
        let sclera = jitter([235.0, 232.0, 225.0], 15.0, rng);
        let iris = match rng.random_range(0..3) {
            0 => jitter([90.0, 60.0, 30.0], 25.0, rng),
            1 => jitter([60.0, 110.0, 170.0], 30.0, rng),
            _ => jitter([80.0, 120.0, 70.0], 30.0, rng),
        };
        let lips = jitter(
            [
                f32::from(skin.0[0]) * 0.85 + 30.0,
                f32::from(skin.0[1]) * 0.6,
                f32::from(skin.0[2]) * 0.6,
            ],
            12.0,
            rng,
        );
        Self {
            skin,
            hair,
            brow_width,
            sclera,
            iris,
            lips,
        }
    }
}

/// Draws `face` in `palette`'s colours: head, neck and hair shapes, jaw line, brows, eyes with
/// irises at the pupil landmarks, nose and nostrils, lips and mouth.
pub(crate) fn draw_face(img: &mut RgbImage, face: &Face, palette: &Palette) {
    let Palette {
        skin,
        hair,
        sclera,
        iris,
        lips,
        ..
    } = *palette;
    let l = &face.landmarks;
    let unit = face.scale / 146.0;
    fill_polygon(img, &face.neck, shade(skin, 0.85));
    if let Some(outline) = &face.hair {
        let mut cap = outline.clone();
        cap.extend([l[0], l[16]]);
        fill_polygon(img, &cap, hair);
    }
    // The head silhouette holds every feature, even those of a strongly turned face.
    let head = convex_hull(&[&l[..], &face.forehead[..]].concat());
    fill_polygon(img, &head, skin);
    thick_polyline(img, &l[0..17], 2.0 * unit.max(0.6), shade(skin, 0.7), false);

    // Brows.
    let brow_w = palette.brow_width * unit;
    let brow = shade(hair, 0.8);
    thick_polyline(img, &l[17..22], brow_w, brow, false);
    thick_polyline(img, &l[22..27], brow_w, brow, false);

    // Eyes: sclera, iris and pupil clipped to the lids, lid outline.
    for (lid, pupil) in [(&l[36..42], l[68]), (&l[42..48], l[69])] {
        fill_polygon(img, lid, sclera);
        let width = ((lid[3][0] - lid[0][0]).powi(2) + (lid[3][1] - lid[0][1]).powi(2)).sqrt();
        fill_disc_clipped(img, pupil, 0.28 * width, iris, Some(lid));
        fill_disc_clipped(img, pupil, 0.13 * width, Rgb([15, 10, 10]), Some(lid));
        thick_polyline(img, lid, 1.2 * unit.max(0.8), Rgb([40, 25, 20]), true);
    }

    // Nose.
    thick_polyline(
        img,
        &l[27..31],
        2.0 * unit.max(0.6),
        shade(skin, 0.8),
        false,
    );
    thick_polyline(
        img,
        &l[31..36],
        2.0 * unit.max(0.6),
        shade(skin, 0.6),
        false,
    );
    fill_disc(img, l[32], 2.0 * unit, shade(skin, 0.35));
    fill_disc(img, l[34], 2.0 * unit, shade(skin, 0.35));

    // Mouth: lips, then the opening.
    fill_polygon(img, &l[48..60], lips);
    if face.mouth_open > 1.5 {
        fill_polygon(img, &l[60..68], Rgb([70, 25, 30]));
    }
    thick_polyline(
        img,
        &l[60..68],
        1.2 * unit.max(0.8),
        shade(lips, 0.55),
        true,
    );
}

/// A linear lighting gradient and the strength of approximately Gaussian sensor noise.
pub(crate) struct Light {
    gradient: [f32; 2],
    base: f32,
    sigma: f32,
}

impl Light {
    /// A random gradient, brightness and noise level.
    pub(crate) fn random(rng: &mut impl Rng) -> Self {
        let gradient = [
            rng.random_range(-0.3..0.3f32),
            rng.random_range(-0.3..0.3f32),
        ];
        Self {
            gradient,
            base: rng.random_range(0.8..1.15f32),
            sigma: rng.random_range(0.0..8.0f32),
        }
    }

    /// Lights `img` and adds fresh noise drawn from `rng`.
    pub(crate) fn apply(&self, img: &mut RgbImage, rng: &mut impl Rng) {
        let (w, h) = (img.width() as f32, img.height() as f32);
        let [gx, gy] = self.gradient;
        for (x, y, px) in img.enumerate_pixels_mut() {
            let k = self.base + gx * (x as f32 / w - 0.5) + gy * (y as f32 / h - 0.5);
            for v in px.0.iter_mut() {
                let n = self.sigma * fast_normal(rng);
                *v = (f32::from(*v) * k + n).round().clamp(0.0, 255.0) as u8;
            }
        }
    }
}
