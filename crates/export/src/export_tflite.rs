//! [`export_tflite`]: `--task export --export_format tflite` — the checkpoint's model written
//! as TFLite files named as onnx2tf names the original's, checked in tract against the burn
//! model, quantized on val images when asked, and scored on the val split.

use crate::error::ExportError;
use crate::export::{CHECK_BATCH, CHECK_SEED, Prepared, latency, onnx_options};
use crate::runtime::OnnxRunner;
use crate::tflite::{
    self, Graph, Precision, QuantOptions, calibrate, to_float16, to_tflite, write_tflite,
};
use crate::valset::ValSplit;
use crate::verify::{SampleBatch, check_against_burn, max_abs_diff};
use fdfat_config::Config;
use fdfat_eval::BucketStats;
use serde::Serialize;
use std::fmt;
use std::path::{Path, PathBuf};
use std::time::Duration;

/// The TFLite files an export writes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Variant {
    /// `model_float32.tflite`.
    Float32,
    /// `model_float16.tflite`: float16 weights expanded by `DEQUANTIZE`.
    Float16,
    /// `model_full_integer_quant.tflite`: int8 throughout, int8 (or uint8) in and out.
    FullIntegerQuant,
    /// `model_integer_quant.tflite`: int8 inside, float in and out, the vector tail float.
    IntegerQuant,
    /// `model_integer_quant_with_int16_act.tflite`: int16 activations, int8 weights.
    IntegerQuantInt16,
}

impl Variant {
    /// The file name suffix onnx2tf gives the variant.
    pub fn suffix(self) -> &'static str {
        match self {
            Self::Float32 => "float32",
            Self::Float16 => "float16",
            Self::FullIntegerQuant => "full_integer_quant",
            Self::IntegerQuant => "integer_quant",
            Self::IntegerQuantInt16 => "integer_quant_with_int16_act",
        }
    }

    /// The quantization the variant asks for, if any.
    fn quantization(self) -> Option<QuantOptions> {
        let (precision, integer_io, float_fallback) = match self {
            Self::Float32 | Self::Float16 => return None,
            Self::FullIntegerQuant => (Precision::Int8, true, false),
            Self::IntegerQuant => (Precision::Int8, false, true),
            Self::IntegerQuantInt16 => (Precision::Int16x8, false, true),
        };
        Some(QuantOptions {
            precision,
            integer_io,
            float_fallback,
        })
    }
}

/// One written file.
#[derive(Debug, Clone, PartialEq)]
pub struct TfliteFile {
    /// Which variant.
    pub variant: Variant,
    /// Where.
    pub path: PathBuf,
    /// Its size.
    pub bytes: u64,
    /// Its operator count.
    pub ops: usize,
    /// Largest difference from the float32 file on the check batch (0 for float32 itself).
    pub max_diff: f32,
    /// Median tract latency at batch 1.
    pub latency: Duration,
}

/// The NME of one file on the val split.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct AccuracyRow {
    /// The file name.
    pub file: String,
    /// Mean NME.
    pub nme: f64,
    /// NME minus the float32 file's.
    pub delta: f64,
    /// Mean NME per head-pose bucket.
    pub pose_buckets: Vec<BucketStats>,
}

/// The accuracy report of the quantized files, written as JSON beside them.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct AccuracyReport {
    /// The data YAML.
    pub data: String,
    /// Val images the activation ranges were calibrated on.
    pub calib_images: usize,
    /// Annotated val faces the NMEs are measured on.
    pub eval_faces: usize,
    /// The float32 file first, then each quantized file.
    pub rows: Vec<AccuracyRow>,
    /// Where the report is.
    #[serde(skip)]
    pub path: PathBuf,
}

/// What [`export_tflite`] wrote and measured.
#[derive(Debug, Clone, PartialEq)]
pub struct TfliteSummary {
    /// The weights it was exported from.
    pub checkpoint: PathBuf,
    /// Largest difference between the float32 file (in tract) and the burn model.
    pub max_diff: f32,
    /// The files, float32 first.
    pub files: Vec<TfliteFile>,
    /// The quantized files' NME against float, when any was written.
    pub accuracy: Option<AccuracyReport>,
}

impl fmt::Display for TfliteSummary {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(f, "exported TFLite (from {})", self.checkpoint.display())?;
        writeln!(
            f,
            "  tract check: max |float32 - burn| = {:.2e}",
            self.max_diff
        )?;
        writeln!(
            f,
            "  {:<48} {:>9} {:>5} {:>13} {:>11}",
            "file", "KiB", "ops", "max |d| f32", "tract ms"
        )?;
        for file in &self.files {
            writeln!(
                f,
                "  {:<48} {:>9.1} {:>5} {:>13.2e} {:>11.3}",
                file.path.display().to_string(),
                file.bytes as f64 / 1024.0,
                file.ops,
                file.max_diff,
                file.latency.as_secs_f64() * 1e3
            )?;
        }
        if let Some(a) = &self.accuracy {
            writeln!(
                f,
                "  NME on {} val faces (calibrated on {} images; {}):",
                a.eval_faces,
                a.calib_images,
                a.path.display()
            )?;
            for row in &a.rows {
                let buckets: Vec<String> = row
                    .pose_buckets
                    .iter()
                    .map(|b| {
                        let nme = b.nme_mean.map_or("-".into(), |v| format!("{v:.4}"));
                        format!("{}-{}: {nme}", b.lo, b.hi)
                    })
                    .collect();
                writeln!(
                    f,
                    "  {:<40} {:.4} ({:+.4})  [{}]",
                    row.file,
                    row.nme,
                    row.delta,
                    buckets.join(", ")
                )?;
            }
        }
        Ok(())
    }
}

/// `weights/model_float32.tflite` -> `weights/model_<suffix>.tflite`.
pub fn variant_path(float32: &Path, variant: Variant) -> PathBuf {
    float32.with_file_name(format!("{}_{}.tflite", prefix(float32), variant.suffix()))
}

/// `model_float32.tflite` -> `model`: the name the files share.
fn prefix(float32: &Path) -> String {
    let stem = float32
        .file_stem()
        .map_or_else(|| "model".into(), |s| s.to_string_lossy().into_owned());
    stem.strip_suffix("_float32").unwrap_or(&stem).to_string()
}

/// Writes the TFLite files of `cfg.checkpoint` (see [`crate::export`]): float32 and float16
/// always; with `export_int8` the full-integer and integer int8 files, with
/// `export_int16x8` the int16x8 one, each scored on the val split of `data` against float32
/// (the report beside the files), failing when one drifts further than
/// `export_int8_max_nme_delta`.
pub fn export_tflite(cfg: &Config) -> Result<TfliteSummary, ExportError> {
    let prepared = Prepared::new(cfg)?;
    let path = cfg.export_path.as_ref().map_or_else(
        || prepared.run.join("weights").join("model_float32.tflite"),
        PathBuf::from,
    );
    let options = onnx_options(cfg, &prepared.checkpoint);
    let layout = options.graph.input;
    let float = to_tflite(&prepared.model, &options)?;
    let sample = SampleBatch::noise(CHECK_BATCH, cfg.imgsz, CHECK_SEED);

    let (float_file, float_runner) =
        write_checked(&float, &path, Variant::Float32, None, &sample, cfg.imgsz)?;
    let max_diff = check_against_burn(
        &prepared.model,
        &prepared.device,
        &float_runner,
        &path,
        layout,
        &sample,
    )?;
    let mut files = vec![float_file];
    let half = to_float16(&float);
    let reference = Some(&float_runner);
    let (half_file, _) = write_checked(
        &half,
        &variant_path(&path, Variant::Float16),
        Variant::Float16,
        reference,
        &sample,
        cfg.imgsz,
    )?;
    files.push(half_file);

    let mut variants = Vec::new();
    if cfg.export_int8 {
        variants.extend([Variant::FullIntegerQuant, Variant::IntegerQuant]);
    }
    if cfg.export_int16x8 {
        variants.push(Variant::IntegerQuantInt16);
    }
    let quantized: Vec<(Variant, QuantOptions)> = variants
        .into_iter()
        .filter_map(|v| v.quantization().map(|q| (v, q)))
        .collect();
    let mut accuracy = None;
    if let (Some(data), false) = (&prepared.data, quantized.is_empty()) {
        let split = ValSplit::open(cfg, data)?;
        let calibration = split.images(cfg.export_calib)?;
        let calib_images = calibration.iter().map(|b| b.n).sum();
        println!(
            "quantization: calibrating on {calib_images} of {} val images",
            split.len()
        );
        let ranges = calibrate(&float, calibration.iter().map(|b| b.input(layout)))?;
        let mut runners = vec![(float_runner.clone(), path.clone())];
        for (variant, options) in quantized {
            let mut graph = tflite::quantize(&float, &ranges, options)?;
            graph.metadata.push((
                "quantization".into(),
                format!(
                    "{}: calibrated (min/max) on {calib_images} val images of {}",
                    variant.suffix(),
                    data.source.display()
                ),
            ));
            let file_path = variant_path(&path, variant);
            let (file, runner) =
                write_checked(&graph, &file_path, variant, reference, &sample, cfg.imgsz)?;
            files.push(file);
            runners.push((runner, file_path));
        }
        let report = score(&split, &runners, layout, calib_images, &data.source, &path)?;
        accuracy = Some(report);
    }
    let summary = TfliteSummary {
        checkpoint: prepared.checkpoint,
        max_diff,
        files,
        accuracy,
    };
    print!("{summary}");
    if let (Some(max), Some(report)) = (cfg.export_int8_max_nme_delta, &summary.accuracy) {
        let float = report.rows[0].nme;
        if let Some(row) = report.rows.iter().skip(1).find(|r| r.delta > max) {
            return Err(ExportError::NmeDrift {
                path: path.with_file_name(&row.file),
                float,
                quantized: row.nme,
                max,
            });
        }
    }
    Ok(summary)
}

/// Writes `graph` as `variant` at `path`, reads it back, and measures it against the float32
/// runner (when given) on `sample` and its tract latency; returns the file's summary and the
/// runner of what was read back.
fn write_checked(
    graph: &Graph,
    path: &Path,
    variant: Variant,
    reference: Option<&OnnxRunner>,
    sample: &SampleBatch,
    size: usize,
) -> Result<(TfliteFile, OnnxRunner), ExportError> {
    let bytes = write_tflite(graph, path)?;
    let written = tflite::read_tflite(path)?;
    let (model, layout) = tflite::runnable_onnx(&written)?;
    let runner = OnnxRunner::from_model(&model, path)?;
    let max_diff = match reference {
        Some(reference) => {
            max_abs_diff(
                &reference.run(sample.input(layout))?,
                &runner.run(sample.input(layout))?,
            )
            .0
        }
        None => 0.0,
    };
    let file = TfliteFile {
        variant,
        path: path.to_path_buf(),
        bytes,
        ops: written.ops.len(),
        max_diff,
        latency: latency(&model, path, layout, size)?,
    };
    Ok((file, runner))
}

/// The NME of each runner on the split, written as `<prefix>_quantization_report.json` beside
/// the float32 file.
fn score(
    split: &ValSplit<'_>,
    runners: &[(OnnxRunner, PathBuf)],
    layout: crate::InputLayout,
    calib_images: usize,
    data: &Path,
    float32: &Path,
) -> Result<AccuracyReport, ExportError> {
    let models: Vec<_> = runners.iter().map(|(r, _)| (r, layout)).collect();
    let (reports, eval_faces) = split.nme(&models)?;
    let float = reports[0].nme_mean;
    let rows = reports
        .iter()
        .zip(runners)
        .map(|(report, (_, path))| AccuracyRow {
            file: path
                .file_name()
                .map_or_else(String::new, |n| n.to_string_lossy().into_owned()),
            nme: report.nme_mean,
            delta: report.nme_mean - float,
            pose_buckets: report.pose_buckets.clone(),
        })
        .collect();
    let path = float32.with_file_name(format!("{}_quantization_report.json", prefix(float32)));
    let report = AccuracyReport {
        data: data.display().to_string(),
        calib_images,
        eval_faces,
        rows,
        path,
    };
    let json = serde_json::to_vec_pretty(&report).map_err(|e| ExportError::Io {
        action: "write",
        path: report.path.clone(),
        source: std::io::Error::other(e),
    })?;
    crate::onnx_model::write_file(&report.path, &json)?;
    Ok(report)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn files_are_named_as_onnx2tf_names_them() {
        let base = Path::new("runs/a/weights/model_float32.tflite");
        assert_eq!(
            variant_path(base, Variant::FullIntegerQuant),
            PathBuf::from("runs/a/weights/model_full_integer_quant.tflite")
        );
        assert_eq!(
            variant_path(Path::new("lw.tflite"), Variant::IntegerQuantInt16),
            PathBuf::from("lw_integer_quant_with_int16_act.tflite")
        );
    }
}
