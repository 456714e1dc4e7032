//! Dispatch of `--task` onto the library crates.

use anyhow::{Context, bail};
use fdfat_config::{Config, DataConfig, Task};
use std::path::{Path, PathBuf};

/// Runs the configured task.
pub fn run(cfg: &Config) -> anyhow::Result<()> {
    print_config(cfg);
    match cfg.task {
        Task::Train => train(cfg),
        Task::Info => info(cfg),
        Task::Synth => synth(cfg),
        Task::Facecrops => facecrops(cfg),
        Task::Val => match cfg.data.as_deref().map(Path::new).filter(|d| d.is_dir()) {
            Some(sequences) => crate::val_sequences::run(cfg, sequences),
            None => crate::val::run(cfg, &data_config(cfg)?),
        },
        Task::Predict => Ok(crate::predict::run(cfg)?),
        Task::Track => Ok(crate::track::run(cfg)?),
        Task::Export => export(cfg),
    }
}

/// Prints the resolved configuration, as the original does before it starts.
fn print_config(cfg: &Config) {
    println!("{}", fdfat_config::to_yaml(cfg).trim_end());
}

/// Folder of the embedded toy dataset used when `data` is unset.
const TOY_DATA: &str = "toy_data";

/// The data YAML of `cfg`, or the embedded toy dataset (rendered once into
/// `<project>/toy_data`) when `data` is unset.
fn data_config(cfg: &Config) -> anyhow::Result<DataConfig> {
    if let Some(data) = &cfg.data {
        return Ok(DataConfig::load(Path::new(data))?);
    }
    let project = PathBuf::from(
        cfg.project
            .as_deref()
            .unwrap_or(fdfat_config::DEFAULT_PROJECT),
    );
    let dir = project.join(TOY_DATA);
    let yaml = dir.join("data.yaml");
    if !yaml.exists() {
        println!(
            "data: none given; rendering the embedded toy dataset ({} faces) into {}",
            cfg.synth_count,
            dir.display()
        );
        fdfat_data::synth::generate(&dir, cfg.synth_count, cfg.seed, 256, cfg.workers.max(1))?;
    } else {
        println!(
            "data: none given; using the toy dataset in {}",
            dir.display()
        );
    }
    Ok(DataConfig::load(&yaml)?)
}

fn train(cfg: &Config) -> anyhow::Result<()> {
    let data = data_config(cfg)?;
    let run_dir = if cfg.resume {
        let dir = fdfat_config::run_dir(cfg);
        if !dir.join("weights").join("last.bpk").exists() {
            bail!(
                "resume: no checkpoint to resume in {} (expected weights/last.bpk); set `project` and `name` of the run",
                dir.display()
            );
        }
        dir
    } else {
        fdfat_config::create_run_dir(cfg).context("cannot create the run directory")?
    };
    println!("run directory: {}", run_dir.display());
    fdfat_train::train(cfg, &data, &run_dir)?;
    Ok(())
}

fn info(cfg: &Config) -> anyhow::Result<()> {
    let summary = fdfat_models::model_summary(cfg)?;
    println!("{summary}");
    Ok(())
}

/// `--task export`: the checkpoint as TFLite or ONNX, checked in tract (see `fdfat_export::export`).
fn export(cfg: &Config) -> anyhow::Result<()> {
    fdfat_export::export(cfg)?;
    Ok(())
}

fn synth(cfg: &Config) -> anyhow::Result<()> {
    let Some(out) = &cfg.synth_out else {
        bail!("`synth_out` must be set for --task synth (the folder to write the toy dataset to)");
    };
    if cfg.synth_sequences > 0 {
        let spec = fdfat_data::synth::SequenceSpec {
            count: cfg.synth_sequences,
            frames: cfg.synth_frames,
            width: cfg.synth_frame_width,
            height: cfg.synth_frame_height,
            fps: cfg.track_input_fps,
            seed: cfg.seed,
            threads: cfg.workers.max(1),
        };
        let dirs = fdfat_data::synth::generate_sequences(Path::new(out), &spec)?;
        println!(
            "wrote {} toy sequence(s) of {} frames at {}x{}, {} fps, in the 300-VW layout under {out} \
             (evaluate with --task val --data {out})",
            dirs.len(),
            spec.frames,
            spec.width,
            spec.height,
            spec.fps
        );
        return Ok(());
    }
    let yaml = fdfat_data::synth::generate(
        Path::new(out),
        cfg.synth_count,
        cfg.seed,
        256,
        cfg.workers.max(1),
    )?;
    println!(
        "wrote {} toy faces; data YAML: {}",
        cfg.synth_count,
        yaml.display()
    );
    Ok(())
}

fn facecrops(cfg: &Config) -> anyhow::Result<()> {
    let (Some(input), Some(out)) = (&cfg.input, &cfg.facecrops_out) else {
        bail!(
            "`input` (a YOLO folder with images/ and labels/) and `facecrops_out` must be set for --task facecrops"
        );
    };
    let input = Path::new(input);
    let (images, labels) = if input.join("images").is_dir() {
        (input.join("images"), input.join("labels"))
    } else {
        (input.to_path_buf(), input.with_file_name("labels"))
    };
    let summary = fdfat_data::facecrops::generate(&images, &labels, Path::new(out), cfg)?;
    println!(
        "{} face and {} non-face crops from {} images ({} skipped); data YAML: {}",
        summary.faces,
        summary.non_faces,
        summary.images,
        summary.skipped.len(),
        summary.data_yaml.display()
    );
    for skipped in &summary.skipped {
        eprintln!("  skipped {}: {}", skipped.path.display(), skipped.reason);
    }
    Ok(())
}
