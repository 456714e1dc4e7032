//! Pictures of input batches with their target landmarks (`dump_batch`), to check what the
//! model is fed: crops, augmentation and landmark alignment.

use fdfat_data::Batch;
use image::{Rgb, RgbImage};
use imageproc::drawing::draw_filled_circle_mut;
use std::path::Path;

/// Crops per row of the picture.
const COLUMNS: usize = 8;
/// Upscaling of each crop, so points are visible.
const ZOOM: usize = 2;

/// Renders `batch` as a grid of its crops with annotated landmarks drawn in green.
pub fn render(batch: &Batch, pre_norm: bool) -> RgbImage {
    let s = batch.size;
    let tile = s * ZOOM;
    let rows = batch.len().div_ceil(COLUMNS).max(1);
    let cols = batch.len().clamp(1, COLUMNS);
    let mut out = RgbImage::new((cols * tile) as u32, (rows * tile) as u32);
    for k in 0..batch.len() {
        let (ox, oy) = ((k % COLUMNS) * tile, (k / COLUMNS) * tile);
        let pixels = batch.image(k);
        for y in 0..tile {
            for x in 0..tile {
                let i = (y / ZOOM) * s + x / ZOOM;
                let channel = |c: usize| {
                    let v = pixels[c * s * s + i];
                    let v = if pre_norm { (v + 1.0) * 127.5 } else { v };
                    v.round().clamp(0.0, 255.0) as u8
                };
                out.put_pixel(
                    (ox + x) as u32,
                    (oy + y) as u32,
                    Rgb([channel(0), channel(1), channel(2)]),
                );
            }
        }
        let mask = &batch.landmark_mask[k * 2 * batch.points..(k + 1) * 2 * batch.points];
        for (p, m) in batch
            .landmarks_of(k)
            .chunks_exact(2)
            .zip(mask.chunks_exact(2))
        {
            if m[0] > 0.0 {
                let px = ox as f32 + (p[0] + 0.5) * tile as f32;
                let py = oy as f32 + (p[1] + 0.5) * tile as f32;
                draw_filled_circle_mut(&mut out, (px as i32, py as i32), 1, Rgb([0, 255, 0]));
            }
        }
        if batch.is_face[k] < 0.5 {
            draw_filled_circle_mut(
                &mut out,
                ((ox + 6) as i32, (oy + 6) as i32),
                4,
                Rgb([255, 0, 0]),
            );
        }
    }
    out
}

/// Writes [`render`] of `batch` to `path`.
pub fn save(batch: &Batch, pre_norm: bool, path: &Path) -> Result<(), image::ImageError> {
    render(batch, pre_norm).save(path)
}
