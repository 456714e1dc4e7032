//! End-to-end tests of `fdfat --task train`: learning on the toy dataset, resume after a kill,
//! determinism across loader threads, stage 2 leaving landmarks untouched, run outputs.

use burn::tensor::{Device, Tensor, TensorData};
use fdfat_models::{LandmarkModel, load_checkpoint};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::time::{Duration, Instant};

fn fdfat() -> Command {
    Command::new(env!("CARGO_BIN_EXE_fdfat"))
}

fn run(args: &[&str]) -> Output {
    let out = fdfat().args(args).output().expect("fdfat runs");
    assert!(
        out.status.success(),
        "fdfat {args:?} failed:\n{}\n{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    out
}

/// Renders a toy dataset of `count` faces into `dir` and returns its data YAML.
fn toy(dir: &Path, count: usize) -> PathBuf {
    let out = dir.join("toy");
    run(&[
        "--task",
        "synth",
        "--synth_out",
        out.to_str().unwrap(),
        "--synth_count",
        &count.to_string(),
        "--save",
        "false",
    ]);
    out.join("data.yaml")
}

/// Flags of a small, fast training run.
fn small_run<'a>(project: &'a str, name: &'a str, data: &'a str, epochs: &'a str) -> Vec<&'a str> {
    vec![
        "--task",
        "train",
        "--project",
        project,
        "--name",
        name,
        "--data",
        data,
        "--epoch",
        epochs,
        "--imgsz",
        "64",
        "--batch_size",
        "8",
        "--workers",
        "2",
    ]
}

/// The model described by a run's saved configuration, with a checkpoint loaded.
fn load(run_dir: &Path, checkpoint: &str) -> LandmarkModel {
    let cfg = fdfat_config::load_file(&run_dir.join("config.yaml")).unwrap();
    let model = LandmarkModel::new(&cfg, &Device::default()).unwrap();
    load_checkpoint(model, run_dir.join("weights").join(checkpoint))
        .unwrap()
        .0
}

/// Outputs of `model` on a fixed input, computed rather than drawn from the device's random
/// generator, which the tests running in parallel share.
fn outputs(model: &LandmarkModel, imgsz: usize) -> Vec<f32> {
    let values: Vec<f32> = (0..4 * 3 * imgsz * imgsz)
        .map(|i| ((i as f32) * 0.618_034).sin())
        .collect();
    let x = Tensor::<4>::from_data(
        TensorData::new(values, [4, 3, imgsz, imgsz]),
        &Device::default(),
    );
    model.forward(x).into_data().try_into_vec::<f32>().unwrap()
}

/// One column of a run's `log.csv`, one value per epoch.
fn log_column(run_dir: &Path, name: &str) -> Vec<f64> {
    let csv = std::fs::read_to_string(run_dir.join("log.csv")).unwrap();
    let mut lines = csv.lines();
    let header: Vec<&str> = lines.next().unwrap().split(',').collect();
    let col = header
        .iter()
        .position(|h| *h == name)
        .unwrap_or_else(|| panic!("log.csv has no `{name}` column: {header:?}"));
    lines
        .map(|l| l.split(',').nth(col).unwrap().parse().unwrap())
        .collect()
}

fn csv_rows(path: &Path) -> usize {
    std::fs::read_to_string(path)
        .map(|t| t.lines().count().saturating_sub(1))
        .unwrap_or(0)
}

#[test]
fn toy_training_beats_the_mean_shape_baseline() {
    let dir = tempfile::tempdir().unwrap();
    let data = toy(dir.path(), 240);
    let project = dir.path().to_str().unwrap();
    let mut args = small_run(project, "learn", data.to_str().unwrap(), "16");
    args.extend(["--aug", "0"]);
    let out = run(&args);
    let stdout = String::from_utf8_lossy(&out.stdout);
    let baseline: f64 = stdout
        .lines()
        .find_map(|l| l.strip_prefix("mean-shape baseline: val NME "))
        .and_then(|l| l.split_whitespace().next()?.parse().ok())
        .expect("the trainer prints the mean-shape baseline");
    let run_dir = dir.path().join("learn");
    let last = *log_column(&run_dir, "val_nme").last().unwrap();
    assert!(
        baseline > 0.15,
        "the toy set should be hard for a mean shape: {baseline}"
    );
    assert!(
        last < 0.7 * baseline,
        "val NME {last} is not well below the mean-shape baseline {baseline}\n{stdout}"
    );
    for file in [
        "config.yaml",
        "log.csv",
        "log.png",
        "train_batch0.png",
        "weights/last.bpk",
        "weights/best.bpk",
    ] {
        assert!(run_dir.join(file).exists(), "missing {file}");
    }
    assert_eq!(csv_rows(&run_dir.join("log.csv")), 16);
}

/// Starts a run and kills it as soon as its first epoch is checkpointed.
fn kill_after_first_epoch(args: &[&str], run_dir: &Path) {
    let mut child: Child = fdfat()
        .args(args)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let csv = run_dir.join("log.csv");
    let started = Instant::now();
    while csv_rows(&csv) < 1 {
        assert!(
            started.elapsed() < Duration::from_secs(600),
            "the first epoch never finished"
        );
        assert!(
            child.try_wait().unwrap().is_none(),
            "the run ended before it was killed"
        );
        std::thread::sleep(Duration::from_millis(10));
    }
    // the log row is written after the epoch's checkpoints: kill now, early in epoch 2
    child.kill().unwrap();
    child.wait().unwrap();
    assert_eq!(
        csv_rows(&csv),
        1,
        "the run got past epoch 2 before the kill; the test could not interrupt it"
    );
}

#[test]
fn a_killed_run_resumes_to_the_same_weights() {
    let dir = tempfile::tempdir().unwrap();
    let data = toy(dir.path(), 48);
    let project = dir.path().to_str().unwrap();
    let data = data.to_str().unwrap();
    run(&small_run(project, "whole", data, "3"));
    let interrupted = small_run(project, "killed", data, "3");
    kill_after_first_epoch(&interrupted, &dir.path().join("killed"));
    let mut resumed = interrupted.clone();
    resumed.extend(["--resume", "true"]);
    let out = run(&resumed);
    assert!(String::from_utf8_lossy(&out.stdout).contains("resuming"));
    assert_eq!(csv_rows(&dir.path().join("killed/log.csv")), 3);
    let whole = load(&dir.path().join("whole"), "last.bpk");
    let killed = load(&dir.path().join("killed"), "last.bpk");
    assert_eq!(
        outputs(&whole, 64),
        outputs(&killed, 64),
        "resumed weights differ from the uninterrupted run"
    );
}

#[test]
fn training_is_deterministic_whatever_the_loader_threads() {
    let dir = tempfile::tempdir().unwrap();
    let data = toy(dir.path(), 32);
    let project = dir.path().to_str().unwrap();
    let data = data.to_str().unwrap();
    let mut one = small_run(project, "one", data, "1");
    one.extend(["--workers", "1"]);
    let mut three = small_run(project, "three", data, "1");
    three.extend(["--workers", "3"]);
    run(&one);
    run(&three);
    let a = load(&dir.path().join("one"), "last.bpk");
    let b = load(&dir.path().join("three"), "last.bpk");
    assert_eq!(outputs(&a, 64), outputs(&b, 64));
}

#[test]
fn stage_two_trains_the_face_head_and_keeps_landmarks() {
    let Some(wider) = fdfat_config::fixtures::shared_path("data/widerface_yolo/val") else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let data = toy(dir.path(), 24);
    let project = dir.path().to_str().unwrap();
    run(&small_run(project, "stage1", data.to_str().unwrap(), "1"));
    let crops = dir.path().join("crops");
    run(&[
        "--task",
        "facecrops",
        "--input",
        wider.to_str().unwrap(),
        "--facecrops_out",
        crops.to_str().unwrap(),
    ]);
    let stage1 = dir.path().join("stage1/weights/best.bpk");
    let crops_yaml = crops.join("data.yaml");
    let mut args = small_run(project, "stage2", crops_yaml.to_str().unwrap(), "2");
    args.extend([
        "--face_cls",
        "true",
        "--freeze_landmark",
        "true",
        "--checkpoint",
        stage1.to_str().unwrap(),
    ]);
    let out = run(&args);
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(stdout.contains("face acc"), "{stdout}");
    let before = load(&dir.path().join("stage1"), "best.bpk");
    let after = load(&dir.path().join("stage2"), "last.bpk");
    let (b, a) = (outputs(&before, 64), outputs(&after, 64));
    let landmarks = |v: &[f32], width: usize| {
        v.chunks(width)
            .flat_map(|r| r[..140].to_vec())
            .collect::<Vec<_>>()
    };
    assert_eq!(
        landmarks(&b, 140),
        landmarks(&a, 141),
        "stage 2 changed the landmark outputs"
    );
    let csv = std::fs::read_to_string(dir.path().join("stage2/log.csv")).unwrap();
    assert!(
        csv.lines().next().unwrap().contains("val_face_acc"),
        "{csv}"
    );
}

#[test]
fn resume_without_a_checkpoint_is_a_clear_error() {
    let dir = tempfile::tempdir().unwrap();
    let out = fdfat()
        .args([
            "--task",
            "train",
            "--project",
            dir.path().to_str().unwrap(),
            "--name",
            "nothing",
            "--resume",
            "true",
        ])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("last.bpk") && err.contains("nothing"), "{err}");
}

#[test]
fn a_missing_data_yaml_names_the_path() {
    let out = fdfat()
        .args([
            "--task",
            "train",
            "--data",
            "/nonexistent/data.yaml",
            "--save",
            "false",
        ])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stderr).contains("/nonexistent/data.yaml"));
}

#[test]
fn a_diverging_loss_stops_the_run_with_a_clear_message() {
    let dir = tempfile::tempdir().unwrap();
    let data = toy(dir.path(), 16);
    let mut args = small_run(
        dir.path().to_str().unwrap(),
        "nan",
        data.to_str().unwrap(),
        "2",
    );
    args.extend(["--lr", "1e30", "--optimizer", "SGD"]);
    let out = fdfat().args(&args).output().unwrap();
    assert_eq!(out.status.code(), Some(1));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("loss became NaN") || err.contains("loss became inf"),
        "{err}"
    );
    assert!(err.contains("last good checkpoint"), "{err}");
}

/// Trains the small toy run `name` on `device` and returns its run directory and what it
/// printed; `None`, with a printed notice, where this build or machine cannot use that device (the backend's cargo
/// feature not built in, or no such device present).
fn train_on(device: &str, dir: &Path, data: &Path, name: &str) -> Option<(PathBuf, String)> {
    let project = dir.to_str().unwrap();
    let mut args = small_run(project, name, data.to_str().unwrap(), "3");
    args.extend(["--device", device, "--aug", "0"]);
    let out = fdfat().args(&args).output().expect("fdfat runs");
    let err = String::from_utf8_lossy(&out.stderr);
    let unavailable = [
        "needs a build with",
        "no graphics adapter",
        "no CUDA device",
    ];
    if let Some(line) = err
        .lines()
        .find(|l| unavailable.iter().any(|u| l.contains(u)))
    {
        eprintln!("notice: device `{device}` skipped: {line}");
        return None;
    }
    assert!(
        out.status.success(),
        "training on {device} failed:\n{}\n{err}",
        String::from_utf8_lossy(&out.stdout)
    );
    Some((
        dir.join(name),
        String::from_utf8_lossy(&out.stdout).into_owned(),
    ))
}

/// Trains the same toy run on the CPU and on `device`: the loss curves must agree (the same
/// mathematics on another backend), and the checkpoint `device` wrote must load on the CPU.
fn follows_the_cpu_run(device: &str) {
    let dir = tempfile::tempdir().unwrap();
    let data = toy(dir.path(), 48);
    let Some((on_device, _)) = train_on(device, dir.path(), &data, "device") else {
        return;
    };
    let (on_cpu, _) = train_on("cpu", dir.path(), &data, "cpu").unwrap();
    let (cpu, gpu) = (
        log_column(&on_cpu, "train_total"),
        log_column(&on_device, "train_total"),
    );
    assert!(gpu.last() < gpu.first(), "no learning on {device}: {gpu:?}");
    for (epoch, (c, g)) in cpu.iter().zip(&gpu).enumerate() {
        assert!(
            (c - g).abs() <= 0.05 * c.abs(),
            "epoch {}: train loss {g} on {device} against {c} on the CPU",
            epoch + 1
        );
    }
    let model = load(&on_device, "last.bpk");
    assert!(outputs(&model, 64).iter().all(|v| v.is_finite()));
}

#[test]
fn training_on_wgpu_follows_the_cpu_run() {
    follows_the_cpu_run("wgpu");
}

#[test]
fn training_on_cuda_follows_the_cpu_run() {
    follows_the_cpu_run("cuda:0");
}

#[test]
fn data_parallel_training_on_every_cuda_device_checkpoints_once() {
    let dir = tempfile::tempdir().unwrap();
    let data = toy(dir.path(), 48);
    let Some((run_dir, stdout)) = train_on("cuda:all", dir.path(), &data, "ddp") else {
        return;
    };
    if !stdout.contains("data-parallel over") {
        eprintln!("notice: data-parallel training skipped: fewer than two CUDA devices");
        return;
    }
    let losses = log_column(&run_dir, "train_total");
    assert!(losses.last() < losses.first(), "no learning: {losses:?}");
    let weights: Vec<_> = std::fs::read_dir(run_dir.join("weights"))
        .unwrap()
        .flatten()
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .filter(|n| n.ends_with(".bpk"))
        .collect();
    assert_eq!(weights.len(), 2, "last and best once each: {weights:?}");
    assert!(
        outputs(&load(&run_dir, "best.bpk"), 64)
            .iter()
            .all(|v| v.is_finite())
    );
}

/// The README's quick start (`--task train --epoch 20` on the embedded toy data, about 2.5
/// minutes of training on 2 cores in release): its best val NME is at most half the mean-shape
/// baseline, the closing summary says so and where the weights and curves are, and the baseline
/// is logged for the NME panel of `log.png`.
#[test]
fn the_quick_start_learns_below_half_the_mean_shape_baseline() {
    let readme =
        std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("README.md")).unwrap();
    assert!(
        readme.contains("cargo run --release -- --task train --epoch 20\n"),
        "the README's quick start changed: update this test"
    );
    let dir = tempfile::tempdir().unwrap();
    let project = dir.path().to_str().unwrap();
    let out = run(&["--task", "train", "--epoch", "20", "--project", project]);
    let stdout = String::from_utf8_lossy(&out.stdout);
    let summary = stdout
        .lines()
        .find(|l| l.trim_start().starts_with("val NME: best"))
        .unwrap_or_else(|| panic!("no closing summary:\n{stdout}"));
    let number_after = |key: &str| -> f64 {
        let rest = &summary[summary.find(key).unwrap() + key.len()..];
        rest.split([',', ' ', ';'])
            .find(|s| !s.is_empty())
            .unwrap()
            .parse()
            .unwrap()
    };
    let (best, baseline) = (number_after("best "), number_after("baseline "));
    println!("{summary}");
    assert!(best <= 0.5 * baseline, "{summary}");
    assert!(
        stdout.contains("weights:") && stdout.contains("log.png"),
        "{stdout}"
    );
    let csv = std::fs::read_to_string(dir.path().join("Landmark/log.csv")).unwrap();
    assert!(
        csv.lines().next().unwrap().contains("baseline_nme"),
        "{csv}"
    );
    assert!(dir.path().join("Landmark/log.png").is_file());
}

/// Reads a run's `log.csv` as (header, rows of numbers).
fn read_log(run_dir: &Path) -> (Vec<String>, Vec<Vec<f64>>) {
    let text = std::fs::read_to_string(run_dir.join("log.csv")).unwrap();
    let mut lines = text.lines();
    let header = lines.next().unwrap().split(',').map(String::from).collect();
    let rows = lines
        .map(|l| {
            l.split(',')
                .map(|c| c.parse().unwrap_or(f64::NAN))
                .collect()
        })
        .collect();
    (header, rows)
}

#[test]
fn best_by_nme_cosine_warm_up_and_a_time_budget() {
    let dir = tempfile::tempdir().unwrap();
    let data = toy(dir.path(), 24);
    let (project, data) = (dir.path().to_str().unwrap(), data.to_str().unwrap());
    let mut args = small_run(project, "nme", data, "4");
    args.extend([
        "--best_metric",
        "nme",
        "--lr_schedule",
        "cosine",
        "--warmup_epochs",
        "1",
        "--lr",
        "0.004",
    ]);
    run(&args);
    let run_dir = dir.path().join("nme");
    let (header, rows) = read_log(&run_dir);
    let column = |name: &str| header.iter().position(|h| h == name).unwrap();
    let lr: Vec<f64> = rows.iter().map(|r| r[column("lr")]).collect();
    // warm-up to 0.004 over one epoch, then half a cosine to 0.0004 over the other 3
    let expected = [
        0.002,
        0.004,
        0.004 * (0.1 + 0.9 * 0.75),
        0.004 * (0.1 + 0.9 * 0.25),
    ];
    for (got, want) in lr.iter().zip(expected) {
        assert!((got - want).abs() < 1e-9, "{lr:?}");
    }
    let nme: Vec<f64> = rows.iter().map(|r| r[column("val_nme")]).collect();
    let argmin = (0..nme.len())
        .min_by(|&a, &b| nme[a].total_cmp(&nme[b]))
        .unwrap();
    let (best, _) = fdfat_train::Weights::read_state(&run_dir.join("weights/best.bpk")).unwrap();
    assert_eq!(best.best_epoch, argmin + 1, "val NME per epoch {nme:?}");
    assert!((best.best_score - nme[argmin]).abs() < 1e-6);

    // a budget spent by the first epoch stops the run there, its checkpoints written
    let mut args = small_run(project, "budget", data, "5");
    args.extend(["--time", "0.000001"]);
    let out = run(&args);
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        stdout.contains("stopping after epoch 1: the time budget"),
        "{stdout}"
    );
    assert_eq!(read_log(&dir.path().join("budget")).1.len(), 1);
    assert!(dir.path().join("budget/weights/last.bpk").is_file());
}

#[test]
fn the_weight_average_is_validated_saved_as_best_and_resumed() {
    let dir = tempfile::tempdir().unwrap();
    let data = toy(dir.path(), 48);
    let (project, data) = (dir.path().to_str().unwrap(), data.to_str().unwrap());
    let with_ema = |name| {
        let mut args = small_run(project, name, data, "3");
        args.extend(["--ema", "true", "--ema_decay", "0.99"]);
        args
    };
    run(&with_ema("whole"));
    let whole = dir.path().join("whole");
    assert!(whole.join("weights/last_ema.bpk").is_file());
    let (state, _) = fdfat_train::Weights::read_state(&whole.join("weights/best.bpk")).unwrap();
    let average = outputs(&load(&whole, "last_ema.bpk"), 64);
    assert_ne!(
        average,
        outputs(&load(&whole, "last.bpk"), 64),
        "the average is the live weights"
    );
    if state.best_epoch == 3 {
        assert_eq!(outputs(&load(&whole, "best.bpk"), 64), average);
    }

    // killed after epoch 1 and resumed: the same average as the uninterrupted run
    let interrupted = with_ema("killed");
    kill_after_first_epoch(&interrupted, &dir.path().join("killed"));
    let mut resumed = interrupted.clone();
    resumed.extend(["--resume", "true"]);
    run(&resumed);
    assert_eq!(
        outputs(&load(&dir.path().join("killed"), "last_ema.bpk"), 64),
        average,
        "the resumed weight average differs from the uninterrupted run's"
    );
}
