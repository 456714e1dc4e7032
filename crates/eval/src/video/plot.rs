//! The sequence report's pictures: NME over time per sequence (one line per smoother, still
//! segments shaded green and turns red) and still jitter against lag (one point per smoother).

use super::frames::SequenceResult;
use super::report::Comparison;
use crate::error::EvalError;
use crate::plot::{Area, DrawResult, FONT, render};
use fdfat_data::sequence::SegmentKind;
use plotters::prelude::*;

/// Size of both pictures in pixels.
const SIZE: (u32, u32) = (800, 480);

/// Line colour of the `k`-th smoother.
fn colour(k: usize) -> RGBColor {
    [
        RGBColor(90, 90, 90),
        RGBColor(31, 119, 180),
        RGBColor(214, 39, 40),
        RGBColor(44, 160, 44),
        RGBColor(148, 103, 189),
    ][k % 5]
}

/// NME per frame of one sequence for each `(smoother, result)`, as PNG bytes.
pub fn nme_over_time_png(
    name: &str,
    runs: &[(&str, &SequenceResult)],
) -> Result<Vec<u8>, EvalError> {
    render("the NME-over-time plot", SIZE, |area, with_text| {
        draw_nme(area, name, runs, with_text)
    })
}

fn draw_nme(
    area: &Area,
    name: &str,
    runs: &[(&str, &SequenceResult)],
    with_text: bool,
) -> DrawResult {
    let numbers = runs
        .iter()
        .flat_map(|(_, r)| r.frames.iter().map(|f| f.number));
    let (first, last) = numbers.fold((usize::MAX, 0), |(a, b), n| (a.min(n), b.max(n)));
    let (x0, x1) = (
        first.min(last) as f64,
        (last as f64).max(first as f64 + 1.0),
    );
    let top = runs
        .iter()
        .flat_map(|(_, r)| r.frames.iter().filter_map(|f| f.nme))
        .fold(0.0f64, f64::max)
        .max(1e-3)
        * 1.1;
    let mut builder = ChartBuilder::on(area);
    builder.margin(20);
    if with_text {
        builder
            .caption(format!("NME per frame, sequence {name}"), (FONT, 20))
            .x_label_area_size(40)
            .y_label_area_size(60);
    }
    let mut chart = builder.build_cartesian_2d(x0..x1, 0.0..top)?;
    if let Some((_, result)) = runs.first() {
        for seg in &result.segments {
            let shade = match seg.kind {
                SegmentKind::Still => RGBColor(220, 245, 220),
                SegmentKind::Turn => RGBColor(250, 220, 220),
                SegmentKind::Move => continue,
            };
            chart.draw_series(std::iter::once(Rectangle::new(
                [(seg.start as f64 - 0.5, 0.0), (seg.end as f64 + 0.5, top)],
                shade.filled(),
            )))?;
        }
    }
    if with_text {
        chart
            .configure_mesh()
            .x_desc("frame (green: still, red: turn)")
            .y_desc("NME")
            .draw()?;
    }
    for (k, (smoother, result)) in runs.iter().enumerate() {
        let points: Vec<(f64, f64)> = result
            .frames
            .iter()
            .filter_map(|f| Some((f.number as f64, f.nme?)))
            .collect();
        let series = chart.draw_series(LineSeries::new(points, colour(k).stroke_width(2)))?;
        if with_text {
            let c = colour(k);
            series
                .label(*smoother)
                .legend(move |(x, y)| PathElement::new([(x, y), (x + 20, y)], c.stroke_width(2)));
        }
    }
    if with_text {
        chart
            .configure_series_labels()
            .background_style(WHITE.mix(0.8))
            .border_style(BLACK)
            .draw()?;
    }
    Ok(())
}

/// Still jitter against lag, one labelled point per smoother, as PNG bytes.
pub fn jitter_lag_png(rows: &[Comparison]) -> Result<Vec<u8>, EvalError> {
    render("the jitter-lag plot", SIZE, |area, with_text| {
        draw_jitter_lag(area, rows, with_text)
    })
}

fn draw_jitter_lag(area: &Area, rows: &[Comparison], with_text: bool) -> DrawResult {
    let points: Vec<(usize, &str, f64, f64)> = rows
        .iter()
        .enumerate()
        .filter_map(|(k, r)| Some((k, r.smoother.as_str(), r.lag?, r.still_jitter?)))
        .collect();
    let (lo, hi) = points
        .iter()
        .fold((0.0f64, 1.0f64), |(a, b), p| (a.min(p.2), b.max(p.2)));
    let top = points.iter().map(|p| p.3).fold(1e-4, f64::max) * 1.2;
    let mut builder = ChartBuilder::on(area);
    builder.margin(20);
    if with_text {
        builder
            .caption("Still jitter against lag on turns", (FONT, 20))
            .x_label_area_size(40)
            .y_label_area_size(70);
    }
    let mut chart = builder.build_cartesian_2d((lo - 0.5)..(hi + 0.5), 0.0..top)?;
    if with_text {
        chart
            .configure_mesh()
            .x_desc("lag (frames)")
            .y_desc("still jitter (x NME normaliser)")
            .draw()?;
    }
    for &(k, name, lag, jitter) in &points {
        chart.draw_series(std::iter::once(Circle::new(
            (lag, jitter),
            7,
            colour(k).filled(),
        )))?;
        if with_text {
            chart.draw_series(std::iter::once(Text::new(
                name.to_string(),
                (lag, jitter),
                (FONT, 16).into_font(),
            )))?;
        }
    }
    Ok(())
}
