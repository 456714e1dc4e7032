//! Benchmark (not a test) of both models on the default CPU backend: batch-1 inference latency
//! and a batch-64 training step (forward, backward and an Adam step on an L1 loss), as medians.
//!
//! `cargo bench -p fdfat-models --bench models` (add `-- --quick` for fewer repetitions,
//! `-- --train-only` for the training step alone, printed as `MODEL step_ms=.. img_per_s=..`
//! lines as `scripts/torch_train_reference.py` prints them). `FDFAT_REFERENCE_OPS=1` times
//! burn's own operations instead of the training kernels (`fdfat-kernels`).

use burn::module::Module;
use burn::optim::{AdamConfig, GradientsParams};
use burn::tensor::{Device, Distribution, Tensor};
use common::{config, median};
use fdfat_config::DeviceSpec;
use fdfat_models::{LandmarkModel, device_for};
use std::time::Duration;

mod common;

/// The `fdfat` binary's allocator and setting (`fdfat_kernels::alloc`), so that the benchmark
/// times what the binary runs.
#[global_allocator]
static ALLOCATOR: fdfat_kernels::alloc::MiMalloc = fdfat_kernels::alloc::MiMalloc;

fn inference(cfg: &fdfat_config::Config, device: &Device, runs: usize) -> Duration {
    let model = LandmarkModel::new(cfg, device)
        .expect("model builds")
        .valid();
    let x = Tensor::<4>::random([1, 3, 96, 96], Distribution::Uniform(-1.0, 1.0), device);
    median(10, runs, || {
        let out = model.forward(x.clone()).into_data();
        std::hint::black_box(out);
    })
}

fn train_step(cfg: &fdfat_config::Config, device: &Device, runs: usize) -> Duration {
    let device = device.clone().autodiff();
    let mut model = Some(LandmarkModel::new(cfg, &device).expect("model builds"));
    let mut optimizer = AdamConfig::new().init();
    let x = Tensor::<4>::random([64, 3, 96, 96], Distribution::Uniform(-1.0, 1.0), &device);
    let target = Tensor::<2>::random([64, 141], Distribution::Uniform(-0.5, 0.5), &device);
    median(2, runs, || {
        let Some(current) = model.take() else {
            return;
        };
        let loss = (current.forward(x.clone()) - target.clone()).abs().mean();
        let grads = GradientsParams::from_grads(loss.backward(), &current);
        let next = optimizer.step(2e-3, current, grads);
        std::hint::black_box(loss.into_data());
        model = Some(next);
    })
}

fn main() {
    fdfat_kernels::alloc::keep_freed_memory();
    let quick = std::env::args().any(|a| a == "--quick");
    let train_only = std::env::args().any(|a| a == "--train-only");
    let (inference_runs, train_runs) = if quick { (20, 3) } else { (200, 10) };
    let (device, warning) = device_for(&DeviceSpec::Cpu);
    if let Some(warning) = warning {
        eprintln!("warning: {warning}");
    }
    if train_only {
        for (model, activation) in [("LWModel", "ReLU6"), ("LWCSPModel", "SiLU")] {
            let step = train_step(&config(model, activation), &device, train_runs);
            let ms = step.as_secs_f64() * 1e3;
            println!("{model} step_ms={ms:.1} img_per_s={:.1}", 64e3 / ms);
        }
        return;
    }
    println!("device: {device:?}");
    println!(
        "{:<11} {:>22} {:>26} {:>8}",
        "model", "inference b1 (median)", "train step b64 (median)", "img/s"
    );
    for (model, activation) in [("LWModel", "ReLU6"), ("LWCSPModel", "SiLU")] {
        let cfg = config(model, activation);
        let infer = inference(&cfg, &device, inference_runs);
        let step = train_step(&cfg, &device, train_runs);
        println!(
            "{model:<11} {:>19.2} ms {:>23.1} ms {:>8.0}",
            infer.as_secs_f64() * 1e3,
            step.as_secs_f64() * 1e3,
            64.0 / step.as_secs_f64()
        );
    }
}
