//! The report's two pictures, drawn with `plotters` into memory and encoded as PNG: the CED
//! curve and the per-landmark NME picture (the compared points drawn on a 2D mean face, sized
//! and coloured by their mean error).
//!
//! Text needs a font. The workspace's `plotters` uses system fonts (`ttf` feature, through
//! fontconfig); where none can be loaded, each picture is drawn again without any text (grid,
//! curve, points and colour bar only) rather than failing.

use crate::error::EvalError;
use crate::report::Report;
use image::{ImageFormat, RgbImage};
use plotters::coord::Shift;
use plotters::prelude::*;
use std::io::Cursor;

pub(crate) type Area<'a> = DrawingArea<BitMapBackend<'a>, Shift>;
pub(crate) type DrawResult = Result<(), Box<dyn std::error::Error>>;

/// Width and height of the CED plot in pixels.
const CED_SIZE: (u32, u32) = (640, 480);
/// Width and height of the per-landmark picture in pixels.
const LANDMARKS_SIZE: (u32, u32) = (560, 620);
pub(crate) const FONT: &str = "sans-serif";

/// Draws with text, or again without text when that fails, and encodes the result as PNG.
pub(crate) fn render(
    what: &'static str,
    (w, h): (u32, u32),
    draw: impl Fn(&Area, bool) -> DrawResult,
) -> Result<Vec<u8>, EvalError> {
    let attempt = |with_text: bool| -> Result<Vec<u8>, String> {
        let mut buffer = vec![0u8; w as usize * h as usize * 3];
        {
            let area = BitMapBackend::with_buffer(&mut buffer, (w, h)).into_drawing_area();
            area.fill(&WHITE).map_err(|e| e.to_string())?;
            draw(&area, with_text).map_err(|e| e.to_string())?;
            area.present().map_err(|e| e.to_string())?;
        }
        Ok(buffer)
    };
    let pixels = attempt(true)
        .or_else(|_| attempt(false))
        .map_err(|message| EvalError::Plot { what, message })?;
    encode_png(what, w, h, pixels)
}

fn encode_png(what: &'static str, w: u32, h: u32, pixels: Vec<u8>) -> Result<Vec<u8>, EvalError> {
    let image = RgbImage::from_raw(w, h, pixels).ok_or_else(|| EvalError::Plot {
        what,
        message: "the pixel buffer does not match the picture size".into(),
    })?;
    let mut bytes = Cursor::new(Vec::new());
    image
        .write_to(&mut bytes, ImageFormat::Png)
        .map_err(|e| EvalError::Plot {
            what,
            message: e.to_string(),
        })?;
    Ok(bytes.into_inner())
}

/// The CED step curve from 0 to the threshold, as PNG bytes.
pub fn ced_png(report: &Report) -> Result<Vec<u8>, EvalError> {
    render("the CED plot", CED_SIZE, |area, with_text| {
        draw_ced(area, report, with_text)
    })
}

/// The CED corners as a polyline of horizontal and vertical steps, clipped to `[0, t]`.
fn ced_polyline(report: &Report) -> Vec<(f64, f64)> {
    let t = report.fr_threshold;
    let mut line = Vec::new();
    let mut level = 0.0;
    for p in &report.ced {
        if p.nme > t {
            break;
        }
        line.push((p.nme, level));
        line.push((p.nme, p.fraction));
        level = p.fraction;
    }
    line.push((t, level));
    line
}

fn draw_ced(area: &Area, report: &Report, with_text: bool) -> DrawResult {
    let t = report.fr_threshold;
    let mut builder = ChartBuilder::on(area);
    builder.margin(20);
    if with_text {
        builder
            .caption(
                format!(
                    "CED, {} faces: AUC@{t} = {:.4}, FR@{t} = {:.4}",
                    report.count, report.auc, report.fr
                ),
                (FONT, 20),
            )
            .x_label_area_size(45)
            .y_label_area_size(55);
    }
    let mut chart = builder.build_cartesian_2d(0.0..t, 0.0..1.0)?;
    if with_text {
        chart
            .configure_mesh()
            .x_desc(format!("NME ({})", report.nme_norm))
            .y_desc("fraction of faces")
            .draw()?;
    } else {
        let grey = RGBColor(220, 220, 220);
        for k in 0..=10 {
            let f = f64::from(k) / 10.0;
            chart.draw_series(LineSeries::new([(f * t, 0.0), (f * t, 1.0)], grey))?;
            chart.draw_series(LineSeries::new([(0.0, f), (t, f)], grey))?;
        }
    }
    chart.draw_series(LineSeries::new(ced_polyline(report), BLUE.stroke_width(2)))?;
    Ok(())
}

/// The per-landmark NME picture, as PNG bytes.
pub fn landmarks_png(report: &Report) -> Result<Vec<u8>, EvalError> {
    render(
        "the per-landmark NME picture",
        LANDMARKS_SIZE,
        |area, with_text| draw_landmarks(area, report, with_text),
    )
}

/// Green (low error) through yellow to red (the largest error), for `v` in `[0, 1]`.
fn error_colour(v: f64) -> RGBColor {
    let v = v.clamp(0.0, 1.0);
    let mix =
        |a: u8, b: u8, s: f64| (f64::from(a) + (f64::from(b) - f64::from(a)) * s).round() as u8;
    if v < 0.5 {
        let s = v * 2.0;
        RGBColor(mix(0, 235, s), mix(170, 190, s), 0)
    } else {
        let s = (v - 0.5) * 2.0;
        RGBColor(mix(235, 215, s), mix(190, 0, s), 0)
    }
}

fn draw_landmarks(area: &Area, report: &Report, with_text: bool) -> DrawResult {
    let (w, h) = LANDMARKS_SIZE;
    let (top, bottom, side) = (50.0, 90.0, 40.0);
    let worst = report.landmarks.iter().copied().fold(0.0f64, f64::max);
    let points = &report.mean_face;
    let (min_x, max_x) = extent(points.iter().map(|p| p[0]));
    let (min_y, max_y) = extent(points.iter().map(|p| p[1]));
    let box_w = f64::from(w) - 2.0 * side;
    let box_h = f64::from(h) - top - bottom;
    let scale = (box_w / (max_x - min_x).max(1e-9)).min(box_h / (max_y - min_y).max(1e-9));
    let off_x = side + (box_w - (max_x - min_x) * scale) / 2.0;
    let off_y = top + (box_h - (max_y - min_y) * scale) / 2.0;
    for (p, &e) in points.iter().zip(&report.landmarks) {
        let rel = if worst > 0.0 { e / worst } else { 0.0 };
        let centre = (
            (off_x + (p[0] - min_x) * scale).round() as i32,
            (off_y + (p[1] - min_y) * scale).round() as i32,
        );
        let radius = (3.0 + 11.0 * rel).round() as i32;
        area.draw(&Circle::new(centre, radius, error_colour(rel).filled()))?;
        area.draw(&Circle::new(centre, radius, BLACK.stroke_width(1)))?;
    }
    // colour bar from 0 to the largest per-landmark error
    let bar_y = h as i32 - 55;
    let (bar_x0, bar_x1) = (side as i32, w as i32 - side as i32);
    for x in bar_x0..bar_x1 {
        let rel = f64::from(x - bar_x0) / f64::from(bar_x1 - bar_x0 - 1);
        area.draw(&Rectangle::new(
            [(x, bar_y), (x + 1, bar_y + 16)],
            error_colour(rel).filled(),
        ))?;
    }
    if with_text {
        let title = format!(
            "Per-landmark NME ({}, {} faces): mean {:.4}",
            report.scheme, report.count, report.nme_mean
        );
        area.draw(&Text::new(title, (side as i32, 15), (FONT, 18).into_font()))?;
        let label = (FONT, 14).into_font();
        area.draw(&Text::new("0", (bar_x0, bar_y + 22), label.clone()))?;
        area.draw(&Text::new(
            format!("{worst:.4}"),
            (bar_x1 - 50, bar_y + 22),
            label,
        ))?;
    }
    Ok(())
}

fn extent(values: impl Iterator<Item = f64>) -> (f64, f64) {
    values.fold((f64::INFINITY, f64::NEG_INFINITY), |(lo, hi), v| {
        (lo.min(v), hi.max(v))
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn colours_run_from_green_to_red() {
        assert_eq!(error_colour(0.0), RGBColor(0, 170, 0));
        assert_eq!(error_colour(1.0), RGBColor(215, 0, 0));
        assert_eq!(error_colour(7.0), error_colour(1.0));
    }

    #[test]
    fn a_failing_text_pass_is_drawn_again_without_text() {
        let png = render("a test picture", (64, 48), |area, with_text| {
            area.draw(&Circle::new((32, 24), 10, RED.filled()))?;
            if with_text {
                return Err("no font".into());
            }
            Ok(())
        })
        .unwrap();
        let image = image::load_from_memory(&png).unwrap().to_rgb8();
        assert_eq!(image.dimensions(), (64, 48));
        assert_eq!(image.get_pixel(32, 24).0, [255, 0, 0]);
        assert_eq!(image.get_pixel(0, 47).0, [255, 255, 255]);
        let failing = render("a broken picture", (8, 8), |_, _| Err("broken".into()));
        assert!(
            failing
                .unwrap_err()
                .to_string()
                .contains("a broken picture: broken")
        );
    }
}
