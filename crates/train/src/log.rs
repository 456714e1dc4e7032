//! The per-epoch training log: `log.csv` (one row per epoch) and `log.png` (its curves).

use plotters::prelude::*;
use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::path::Path;

/// One epoch's figures: named values such as `train_total`, `val_nme`, `lr`.
#[derive(Debug, Clone, PartialEq)]
pub struct EpochRow {
    /// 1-based epoch number.
    pub epoch: usize,
    /// Named values in column order.
    pub values: BTreeMap<String, f64>,
}

/// All rows of a run, written as CSV and plotted.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct TrainLog {
    /// Rows in epoch order.
    pub rows: Vec<EpochRow>,
}

impl TrainLog {
    /// Reads an existing `log.csv` (to continue it on resume), keeping rows up to `max_epoch`.
    pub fn read(path: &Path, max_epoch: usize) -> std::io::Result<Self> {
        let text = std::fs::read_to_string(path)?;
        let mut lines = text.lines();
        let header: Vec<&str> = lines.next().unwrap_or("").split(',').collect();
        let mut rows = Vec::new();
        for line in lines {
            let cells: Vec<&str> = line.split(',').collect();
            let Some(epoch) = cells.first().and_then(|c| c.parse::<usize>().ok()) else {
                continue;
            };
            if epoch > max_epoch {
                break;
            }
            let values = header
                .iter()
                .zip(&cells)
                .skip(1)
                .filter_map(|(h, c)| Some((h.to_string(), c.parse::<f64>().ok()?)))
                .collect();
            rows.push(EpochRow { epoch, values });
        }
        Ok(Self { rows })
    }

    /// Appends an epoch.
    pub fn push(&mut self, row: EpochRow) {
        self.rows.push(row);
    }

    /// Column names: `epoch` then every value name in first-seen order (sorted within a row).
    fn columns(&self) -> Vec<String> {
        let mut columns: Vec<String> = Vec::new();
        for row in &self.rows {
            for key in row.values.keys() {
                if !columns.contains(key) {
                    columns.push(key.clone());
                }
            }
        }
        columns
    }

    /// The log as CSV text.
    pub fn to_csv(&self) -> String {
        let columns = self.columns();
        let mut out = format!("epoch,{}\n", columns.join(","));
        for row in &self.rows {
            let _ = write!(out, "{}", row.epoch);
            for c in &columns {
                match row.values.get(c) {
                    Some(v) => {
                        let _ = write!(out, ",{v}");
                    }
                    None => out.push(','),
                }
            }
            out.push('\n');
        }
        out
    }

    /// Writes `log.csv` atomically.
    pub fn write_csv(&self, path: &Path) -> std::io::Result<()> {
        fdfat_config::write_atomic(path, self.to_csv().as_bytes())
    }

    /// Plots total loss, NME (with the mean-shape baseline as a line when logged) and learning
    /// rate per epoch, train against val, into a PNG.
    pub fn plot(&self, path: &Path) -> Result<(), String> {
        let panels: [(&str, &[&str]); 3] = [
            ("loss", &["train_total", "val_total"]),
            (
                "NME (inter-ocular)",
                &["train_nme", "val_nme", "baseline_nme"],
            ),
            ("learning rate", &["lr"]),
        ];
        let root = BitMapBackend::new(path, (900, 900)).into_drawing_area();
        root.fill(&WHITE).map_err(|e| e.to_string())?;
        let areas = root.split_evenly((panels.len(), 1));
        let last = self.rows.last().map(|r| r.epoch).unwrap_or(1).max(2);
        let first = self
            .rows
            .first()
            .map(|r| r.epoch)
            .unwrap_or(1)
            .min(last - 1);
        for ((title, keys), area) in panels.iter().zip(areas.iter()) {
            let series: Vec<(&str, Vec<(f64, f64)>)> = keys
                .iter()
                .map(|k| {
                    let points = self
                        .rows
                        .iter()
                        .filter_map(|r| Some((r.epoch as f64, *r.values.get(*k)?)))
                        .filter(|(_, v)| v.is_finite())
                        .collect();
                    (*k, points)
                })
                .collect();
            let values = series.iter().flat_map(|(_, p)| p.iter().map(|(_, v)| *v));
            let (lo, hi) = values.fold((f64::INFINITY, f64::NEG_INFINITY), |(lo, hi), v| {
                (lo.min(v), hi.max(v))
            });
            let (lo, hi) = if lo.is_finite() {
                (lo.min(hi), hi.max(lo + 1e-9))
            } else {
                (0.0, 1.0)
            };
            let pad = (hi - lo) * 0.05;
            let mut chart = ChartBuilder::on(area)
                .caption(*title, ("sans-serif", 20))
                .margin(10)
                .x_label_area_size(30)
                .y_label_area_size(60)
                .build_cartesian_2d(first as f64..last as f64, (lo - pad)..(hi + pad))
                .map_err(|e| e.to_string())?;
            chart
                .configure_mesh()
                .x_desc("epoch")
                .draw()
                .map_err(|e| e.to_string())?;
            for (i, (name, points)) in series.into_iter().enumerate() {
                let color = Palette99::pick(i).to_rgba();
                chart
                    .draw_series(LineSeries::new(points, color.stroke_width(2)))
                    .map_err(|e| e.to_string())?
                    .label(name)
                    .legend(move |(x, y)| PathElement::new([(x, y), (x + 20, y)], color));
            }
            chart
                .configure_series_labels()
                .background_style(WHITE.mix(0.8))
                .border_style(BLACK)
                .draw()
                .map_err(|e| e.to_string())?;
        }
        root.present().map_err(|e| e.to_string())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn row(epoch: usize, loss: f64) -> EpochRow {
        let values = [
            ("train_total", loss),
            ("val_total", loss * 1.1),
            ("train_nme", loss / 2.0),
            ("val_nme", loss / 1.8),
            ("lr", 0.002 / epoch as f64),
        ]
        .into_iter()
        .map(|(k, v)| (k.to_string(), v))
        .collect();
        EpochRow { epoch, values }
    }

    #[test]
    fn csv_round_trips_and_png_is_drawn() {
        let dir = tempfile::tempdir().unwrap();
        let mut log = TrainLog::default();
        for e in 1..=4 {
            log.push(row(e, 1.0 / e as f64));
        }
        let csv = dir.path().join("log.csv");
        log.write_csv(&csv).unwrap();
        let text = std::fs::read_to_string(&csv).unwrap();
        assert!(
            text.starts_with("epoch,lr,train_nme,train_total,val_nme,val_total\n"),
            "{text}"
        );
        assert_eq!(TrainLog::read(&csv, 4).unwrap(), log);
        assert_eq!(TrainLog::read(&csv, 2).unwrap().rows.len(), 2);
        let png = dir.path().join("log.png");
        log.plot(&png).unwrap();
        let image = image::open(&png).unwrap();
        assert_eq!((image.width(), image.height()), (900, 900));
    }
}
