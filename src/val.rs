//! `--task val`: evaluates a checkpoint, or an exported `.onnx` (float or int8) or `.tflite`
//! file run in tract, on a split with the reference protocol (the fixed eval crop,
//! predictions mapped back to original-image pixels) and writes the report of
//! `fdfat-eval` (JSON at `val_report`, default `<project>/<name>/val_<split>.json`, with the CED
//! plot and the per-landmark picture beside it), printing its table.

use anyhow::{Context, anyhow, bail};
use burn::tensor::{Tensor, TensorData};
use fdfat_config::{Config, DataConfig, LandmarkScheme};
use fdfat_data::{Dataset, Loader, LoaderMode};
use fdfat_eval::{Evaluator, FaceScore, Sample};
use fdfat_export::{ExportedModel, Format, OutputLayout, SampleBatch};
use fdfat_models::{LandmarkModel, load_checkpoint};
use indicatif::{ProgressBar, ProgressStyle};
use std::path::{Path, PathBuf};
use std::sync::Arc;

/// Evaluates `cfg.checkpoint` (default: the run's `weights/best.bpk`) on `cfg.validation`.
pub fn run(cfg: &Config, data: &DataConfig) -> anyhow::Result<()> {
    let run = run_folder(cfg);
    let checkpoint = match &cfg.checkpoint {
        Some(path) => PathBuf::from(path),
        None => run.join("weights").join("best.bpk"),
    };
    if !checkpoint.exists() {
        bail!(
            "checkpoint `{}` does not exist (set `checkpoint`, or `project` and `name` of a trained run)",
            checkpoint.display()
        );
    }
    let model = Forward::load(cfg, &checkpoint)?;
    let model_scheme = LandmarkScheme::for_points(cfg.lmk_num).ok_or_else(|| {
        anyhow!(
            "lmk_num = {}: no built-in landmark scheme has that many points",
            cfg.lmk_num
        )
    })?;

    let dataset = Arc::new(Dataset::open(data, cfg.validation, cfg)?);
    let mut evaluator = Evaluator::new(&model_scheme, dataset.scheme())?;
    println!(
        "val: {} samples of split `{}` ({}); {}",
        dataset.len(),
        cfg.validation,
        dataset.scheme().name,
        evaluator.layout().describe()
    );
    let loader = Loader::new(
        dataset.clone(),
        cfg,
        LoaderMode::Eval,
        cfg.batch_size,
        cfg.workers,
    )?;
    let bar = progress(dataset.len());
    for batch in loader {
        let batch = batch?;
        let n = batch.len();
        let mut images = batch.images;
        if !cfg.pre_norm {
            // the original normalises in the loop when the loader does not
            images.iter_mut().for_each(|v| *v = *v / 127.5 - 1.0);
        }
        let outputs = model.forward(images, n, cfg.imgsz)?;
        let width = outputs.len() / n.max(1);
        let layout = OutputLayout::for_width(width, cfg.lmk_num).ok_or_else(|| {
            anyhow!(
                "`{}` gives {width} outputs per face, which does not fit `lmk_num: {}` \
                 ({} landmark values, plus 1 face score and/or 3 pose values)",
                checkpoint.display(),
                cfg.lmk_num,
                2 * cfg.lmk_num
            )
        })?;
        for (k, (&index, crop)) in batch.indices.iter().zip(&batch.crops).enumerate() {
            let row = &outputs[k * width..(k + 1) * width];
            let sample = &dataset.samples()[index];
            let image = sample.image.to_string_lossy().into_owned();
            let face = layout.face_score.map(|i| FaceScore {
                score: f64::from(row[i]),
                is_face: sample.is_face,
            });
            if !sample.has_landmarks() {
                if let Some(face) = face {
                    evaluator.push_face_score(&image, face)?;
                }
                continue;
            }
            let pred = row[..2 * layout.points]
                .chunks_exact(2)
                .map(|c| crop.to_image([c[0], c[1]]).map(f64::from))
                .collect();
            let gt = sample.landmarks.iter().map(|p| p.map(f64::from)).collect();
            let [w, h] = sample.image_size;
            let mut measured = Sample::new(image, (w, h), pred, gt);
            measured.face = face;
            measured.attributes = sample.attributes;
            evaluator.push(measured)?;
        }
        bar.inc(n as u64);
    }
    bar.finish_and_clear();

    let mut report = evaluator.finish(cfg)?;
    report.checkpoint = Some(checkpoint.display().to_string());
    print!("{report}");
    let target = cfg
        .val_report
        .as_ref()
        .map_or_else(|| run.join(report.default_file_name()), PathBuf::from);
    let files = report
        .write(Path::new(&target))
        .context("cannot write the val report")?;
    println!(
        "report: {} (plots {} and {})",
        files.json.display(),
        files.ced_png.display(),
        files.landmarks_png.display()
    );
    Ok(())
}

/// The run directory `project/name` the val reports go to by default (not numbered).
pub fn run_folder(cfg: &Config) -> PathBuf {
    PathBuf::from(
        cfg.project
            .as_deref()
            .unwrap_or(fdfat_config::DEFAULT_PROJECT),
    )
    .join(&cfg.name)
}

/// What `--task val` runs: a checkpoint in burn on the configured device, or an exported
/// file in tract.
enum Forward {
    Checkpoint {
        model: Box<LandmarkModel>,
        device: burn::tensor::Device,
    },
    Exported(Box<ExportedModel>),
}

impl Forward {
    /// Loads `path`: an exported model by its `.onnx` / `.tflite` extension, else a checkpoint
    /// into the model `cfg` describes.
    fn load(cfg: &Config, path: &Path) -> anyhow::Result<Self> {
        if Format::of(path).is_some() {
            let model = ExportedModel::load(path)?;
            println!(
                "loaded {} model `{}` (run in tract, input {:?})",
                model.format(),
                path.display(),
                model.input_layout()
            );
            return Ok(Self::Exported(Box::new(model)));
        }
        let device = fdfat_models::device_for_config(&cfg.device)?;
        let model = LandmarkModel::new(cfg, &device)?;
        let (model, load) = load_checkpoint(model, path)?;
        println!("{load}");
        Ok(Self::Checkpoint {
            model: Box::new(model),
            device,
        })
    }

    /// The output rows of `n` normalised `[n, 3, size, size]` images, flattened.
    fn forward(&self, images: Vec<f32>, n: usize, size: usize) -> anyhow::Result<Vec<f32>> {
        match self {
            Self::Checkpoint { model, device } => {
                let input =
                    Tensor::<4>::from_data(TensorData::new(images, [n, 3, size, size]), device);
                model
                    .forward(input)
                    .into_data()
                    .try_into_vec::<f32>()
                    .map_err(|e| anyhow!("cannot read the model output: {e:?}"))
            }
            Self::Exported(model) => Ok(model.run(&SampleBatch::from_normalised(n, size, images))?),
        }
    }
}

fn progress(len: usize) -> ProgressBar {
    let bar = ProgressBar::new(len as u64);
    bar.set_style(
        ProgressStyle::with_template("val [{bar:30}] {pos}/{len} ({per_sec}, eta {eta})")
            .unwrap_or_else(|_| ProgressStyle::default_bar())
            .progress_chars("=> "),
    );
    bar
}
