//! [`export`]: `--task export` — the checkpoint's model written as TFLite
//! ([`crate::export_tflite`]) or ONNX ([`export_onnx`]), checked in tract against the burn
//! model, and optionally quantized.

use crate::error::ExportError;
use crate::export_tflite::{TfliteSummary, export_tflite};
use crate::lower::{GraphOptions, InputLayout};
use crate::onnx_model::{OnnxOptions, to_onnx, write_onnx};
use crate::quantize::{calibrate, quantize};
use crate::runtime::{OnnxInfo, OnnxRunner, read_model};
use crate::valset::ValSplit;
use crate::verify::{SampleBatch, check_against_burn, max_abs_diff};
use fdfat_config::{Config, DataConfig, DeviceSpec};
use fdfat_models::{LandmarkModel, load_checkpoint};
use std::fmt;
use std::path::{Path, PathBuf};
use std::time::Duration;

/// Images in the self-check batch (more than one, so the free batch axis is exercised).
pub(crate) const CHECK_BATCH: usize = 2;
/// Seed of the self-check images.
pub(crate) const CHECK_SEED: u64 = 22;
/// Timed runs of a latency measurement (batch 1).
const LATENCY_RUNS: usize = 100;

/// What [`export`] wrote and measured.
#[derive(Debug, Clone, PartialEq)]
pub struct ExportSummary {
    /// The ONNX file.
    pub path: PathBuf,
    /// The weights it was exported from.
    pub checkpoint: PathBuf,
    /// Nodes, operators, opset, input and output of the file.
    pub info: OnnxInfo,
    /// File size in bytes.
    pub bytes: u64,
    /// Largest difference between the file (run in tract) and the burn model on the check batch.
    pub max_diff: f32,
    /// Median tract latency at batch 1.
    pub latency: Duration,
    /// The int8 model, when `export_int8`.
    pub int8: Option<Int8Summary>,
}

/// What the int8 export wrote and measured.
#[derive(Debug, Clone, PartialEq)]
pub struct Int8Summary {
    /// The int8 ONNX file.
    pub path: PathBuf,
    /// Its node count.
    pub nodes: usize,
    /// Its size in bytes.
    pub bytes: u64,
    /// Median tract latency at batch 1.
    pub latency: Duration,
    /// Largest difference from the float file on the check batch.
    pub max_diff: f32,
    /// Val images the activation ranges were calibrated on.
    pub calib_images: usize,
    /// Annotated val faces the NMEs are measured on.
    pub eval_faces: usize,
    /// Mean NME of the float file on the val split.
    pub nme_float: f64,
    /// Mean NME of the int8 file on the val split.
    pub nme_int8: f64,
}

impl fmt::Display for ExportSummary {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let input = self.info.inputs.first().map(|(_, d)| d.join("x"));
        let output = self.info.outputs.first().map(|(_, d)| d.join("x"));
        writeln!(
            f,
            "exported {} (from {})",
            self.path.display(),
            self.checkpoint.display()
        )?;
        writeln!(
            f,
            "  opset {}, {} nodes, {:.1} KiB, input [{}], output [{}]",
            self.info.opset,
            self.info.nodes,
            self.bytes as f64 / 1024.0,
            input.unwrap_or_default(),
            output.unwrap_or_default()
        )?;
        writeln!(
            f,
            "  tract check: max |onnx - burn| = {:.2e}; latency {:.3} ms (batch 1, median)",
            self.max_diff,
            self.latency.as_secs_f64() * 1e3
        )?;
        if let Some(q) = &self.int8 {
            writeln!(
                f,
                "int8 {}: {} nodes, {:.1} KiB, latency {:.3} ms, max |int8 - float| = {:.3}",
                q.path.display(),
                q.nodes,
                q.bytes as f64 / 1024.0,
                q.latency.as_secs_f64() * 1e3,
                q.max_diff
            )?;
            writeln!(
                f,
                "  NME on {} val faces (calibrated on {} images): float {:.4}, int8 {:.4}",
                q.eval_faces, q.calib_images, q.nme_float, q.nme_int8
            )?;
        }
        Ok(())
    }
}

/// What [`export`] wrote.
#[derive(Debug, Clone, PartialEq)]
pub enum Exported {
    /// `export_format: onnx`.
    Onnx(ExportSummary),
    /// `export_format: tflite`.
    Tflite(TfliteSummary),
}

/// Exports `cfg.checkpoint` (default: the run's `weights/best.bpk`) in `export_format`:
/// `tflite` ([`export_tflite`]) or `onnx` ([`export_onnx`]).
pub fn export(cfg: &Config) -> Result<Exported, ExportError> {
    match cfg.export_format.to_ascii_lowercase().as_str() {
        "onnx" => export_onnx(cfg).map(Exported::Onnx),
        "tflite" => export_tflite(cfg).map(Exported::Tflite),
        _ => Err(ExportError::Config {
            key: "export_format",
            value: cfg.export_format.clone(),
            reason: "fdfat-rs exports tflite or onnx (set --export_format tflite or onnx)".into(),
        }),
    }
}

/// What both formats start from: the run folder, the checkpoint loaded into its model on the
/// CPU, and the data YAML when the export quantizes.
pub(crate) struct Prepared {
    /// `<project>/<name>`.
    pub run: PathBuf,
    /// The weights file.
    pub checkpoint: PathBuf,
    /// The model with those weights.
    pub model: LandmarkModel,
    /// The CPU device it lives on.
    pub device: burn::tensor::Device,
    /// The data YAML, when `export_int8` or `export_int16x8` calibrates on it.
    pub data: Option<DataConfig>,
}

impl Prepared {
    /// Resolves and loads what `cfg` names; a clear error for a missing checkpoint or data.
    pub fn new(cfg: &Config) -> Result<Self, ExportError> {
        let run = PathBuf::from(
            cfg.project
                .as_deref()
                .unwrap_or(fdfat_config::DEFAULT_PROJECT),
        )
        .join(&cfg.name);
        let checkpoint = cfg
            .checkpoint
            .as_ref()
            .map_or_else(|| run.join("weights").join("best.bpk"), PathBuf::from);
        if !checkpoint.exists() {
            return Err(ExportError::Config {
                key: "checkpoint",
                value: checkpoint.display().to_string(),
                reason: "no such file (set `checkpoint`, or `project` and `name` of a trained run)"
                    .into(),
            });
        }
        let quantizes = cfg.export_int8 || cfg.export_int16x8;
        let data = match (&cfg.data, quantizes) {
            (Some(data), true) => Some(DataConfig::load(Path::new(data))?),
            (None, true) => {
                return Err(ExportError::Config {
                    key: "data",
                    value: "(unset)".into(),
                    reason: "quantization calibrates on the val split of a data YAML: set `data`"
                        .into(),
                });
            }
            (_, false) => None,
        };
        let (device, _) = fdfat_models::device_for(&DeviceSpec::Cpu);
        let model = LandmarkModel::new(cfg, &device)?;
        let (model, load) = load_checkpoint(model, &checkpoint)?;
        println!("{load}");
        Ok(Self {
            run,
            checkpoint,
            model,
            device,
            data,
        })
    }
}

/// The ONNX options `cfg` asks for, with the checkpoint, configuration and input layout as
/// metadata.
pub(crate) fn onnx_options(cfg: &Config, checkpoint: &Path) -> OnnxOptions {
    let layout = if cfg.export_nhwc_uint8 {
        InputLayout::NhwcU8
    } else {
        InputLayout::NchwF32
    };
    OnnxOptions {
        graph: GraphOptions {
            fold_batchnorm: cfg.export_simplify,
            input: layout,
        },
        opset: cfg.export_opset,
        metadata: vec![
            ("checkpoint".into(), checkpoint.display().to_string()),
            ("config".into(), fdfat_config::to_yaml(cfg)),
            ("input_layout".into(), describe_input(layout, cfg.imgsz)),
        ],
    }
}

/// Writes the ONNX file of `cfg.checkpoint` as configured (`export_path`, `export_opset`,
/// `export_simplify`, `export_nhwc_uint8`, `export_int8` with `export_calib` and `data`),
/// checks it in tract against the burn model on the CPU (an error above 1e-4), prints and
/// returns the summary.
///
/// The default file is `<project>/<name>/weights/model.onnx`; the int8 model is written beside
/// it with an `_int8` suffix.
pub fn export_onnx(cfg: &Config) -> Result<ExportSummary, ExportError> {
    let Prepared {
        run,
        checkpoint,
        model,
        device,
        data,
    } = Prepared::new(cfg)?;
    let path = cfg
        .export_path
        .as_ref()
        .map_or_else(|| run.join("weights").join("model.onnx"), PathBuf::from);
    let options = onnx_options(cfg, &checkpoint);
    let layout = options.graph.input;
    let onnx = to_onnx(&model, &options)?;
    let bytes = write_onnx(&onnx, &path)?;
    let written = read_model(&path)?;
    let runner = OnnxRunner::from_model(&written, &path)?;
    let sample = SampleBatch::noise(CHECK_BATCH, cfg.imgsz, CHECK_SEED);
    let max_diff = check_against_burn(&model, &device, &runner, &path, layout, &sample)?;
    let latency = latency(&written, &path, layout, cfg.imgsz)?;
    let int8 = match (data, cfg.export_int8) {
        (Some(data), true) => Some(export_int8(
            cfg, &data, &written, &runner, &path, layout, &sample,
        )?),
        _ => None,
    };
    let summary = ExportSummary {
        path,
        checkpoint,
        info: OnnxInfo::of(&written),
        bytes,
        max_diff,
        latency,
        int8,
    };
    print!("{summary}");
    Ok(summary)
}

/// Quantizes `float` (written at `float_path`, run by `float_runner`) on `export_calib` val
/// images, writes it beside with an `_int8` suffix and measures both on the val split.
fn export_int8(
    cfg: &Config,
    data: &DataConfig,
    float: &tract_onnx::pb::ModelProto,
    float_runner: &OnnxRunner,
    float_path: &Path,
    layout: InputLayout,
    sample: &SampleBatch,
) -> Result<Int8Summary, ExportError> {
    let split = ValSplit::open(cfg, data)?;
    let calibration = split.images(cfg.export_calib)?;
    let calib_images = calibration.iter().map(|b| b.n).sum();
    println!(
        "int8: calibrating on {calib_images} of {} val images",
        split.len()
    );
    let ranges = calibrate(float, calibration.iter().map(|b| b.input(layout)))?;
    let mut int8 = quantize(float, &ranges)?;
    int8.metadata_props.push(crate::proto::entry(
        "quantization",
        &format!(
            "static int8 QDQ: per-channel symmetric weights, per-tensor asymmetric activations \
             calibrated (min/max) on {calib_images} val images of {}",
            data.source.display()
        ),
    ));
    let path = int8_path(float_path);
    let bytes = write_onnx(&int8, &path)?;
    let written = read_model(&path)?;
    let runner = OnnxRunner::from_model(&written, &path)?;
    let (max_diff, _) = max_abs_diff(
        &float_runner.run(sample.input(layout))?,
        &runner.run(sample.input(layout))?,
    );
    let latency = latency(&written, &path, layout, cfg.imgsz)?;
    let (nmes, eval_faces) = split.nme(&[(float_runner, layout), (&runner, layout)])?;
    Ok(Int8Summary {
        path,
        nodes: OnnxInfo::of(&written).nodes,
        bytes,
        latency,
        max_diff,
        calib_images,
        eval_faces,
        nme_float: nmes[0].nme_mean,
        nme_int8: nmes[1].nme_mean,
    })
}

/// Median tract latency of `model` (the file at `path`) on one image, planned for batch 1.
pub(crate) fn latency(
    model: &tract_onnx::pb::ModelProto,
    path: &Path,
    layout: InputLayout,
    size: usize,
) -> Result<Duration, ExportError> {
    let one = SampleBatch::noise(1, size, CHECK_SEED);
    OnnxRunner::for_batch(model, path, 1)?.latency(one.input(layout), LATENCY_RUNS)
}

/// `weights/model.onnx` -> `weights/model_int8.onnx`.
pub fn int8_path(float_path: &Path) -> PathBuf {
    let stem = float_path
        .file_stem()
        .map_or_else(|| "model".into(), |s| s.to_string_lossy().into_owned());
    float_path.with_file_name(format!("{stem}_int8.onnx"))
}

/// The input layout in words, for the file's metadata.
fn describe_input(layout: InputLayout, size: usize) -> String {
    match layout {
        InputLayout::NchwF32 => {
            format!("input [N, 3, {size}, {size}] float32 RGB, normalised as pixel / 127.5 - 1")
        }
        InputLayout::NhwcU8 => {
            format!("input [N, {size}, {size}, 3] uint8 RGB pixels (normalised inside the graph)")
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn int8_files_sit_beside_the_float_file() {
        assert_eq!(
            int8_path(Path::new("runs/a/weights/model.onnx")),
            PathBuf::from("runs/a/weights/model_int8.onnx")
        );
        assert_eq!(
            int8_path(Path::new("out.onnx")),
            PathBuf::from("out_int8.onnx")
        );
    }
}
