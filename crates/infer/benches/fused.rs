//! Benchmark (not a test): batch-1 latency of each model, side by side, in burn (flex), in the
//! fused engine and in onnxruntime at 1 thread on the same weights; the fused engine and
//! onnxruntime interleaved round by round so that load on the machine affects both alike
//! (burn, for reference, before them); medians, and fused / onnxruntime.
//!
//! `cargo bench -p fdfat-infer --bench fused [-- --quick] [-- --profile]`
//!
//! The published `best.pt` weights and their ONNX files (`model.onnx` for LWModel,
//! `model_reexported.onnx` for LWCSPModel) come from the shared fixtures; onnxruntime runs in
//! `scripts/ort_timer.py` (python3 with numpy and onnxruntime). Without the fixtures the models
//! get random weights and onnxruntime is left out. `--profile` adds the fused engine's time per
//! layer.

use burn::tensor::{Device, Distribution, Tensor, TensorData};
use common::{config, median_of, ms, timings};
use fdfat_config::DeviceSpec;
use fdfat_config::fixtures::shared_path;
use fdfat_infer::FusedModel;
use fdfat_models::{LandmarkModel, device_for, load_checkpoint};
use std::io::{BufRead, BufReader, Write};
use std::path::{Path, PathBuf};
use std::process::{Child, ChildStdin, ChildStdout, Command, Stdio};
use std::time::Duration;

#[path = "../../models/benches/common/mod.rs"]
mod common;

/// onnxruntime timing one file in a child process.
struct Ort {
    child: Child,
    stdin: ChildStdin,
    stdout: BufReader<ChildStdout>,
    version: String,
}

impl Ort {
    /// Starts `scripts/ort_timer.py` on `model`; `None` (with the reason printed) when it
    /// cannot run.
    fn spawn(model: &Path) -> Option<Self> {
        let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../scripts/ort_timer.py");
        let child = Command::new("python3")
            .arg(&script)
            .arg(model)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .spawn();
        let mut child = match child {
            Ok(child) => child,
            Err(e) => {
                println!("onnxruntime left out: cannot start python3: {e}");
                return None;
            }
        };
        let stdin = child.stdin.take()?;
        let mut stdout = BufReader::new(child.stdout.take()?);
        let mut line = String::new();
        if stdout.read_line(&mut line).is_err() || !line.starts_with("ready") {
            println!("onnxruntime left out: {} did not start", script.display());
            let _ = child.kill();
            return None;
        }
        let version = line.trim_start_matches("ready").trim().to_string();
        Some(Self {
            child,
            stdin,
            stdout,
            version,
        })
    }

    /// Latencies of `runs` calls.
    fn round(&mut self, runs: usize) -> Option<Vec<Duration>> {
        writeln!(self.stdin, "{runs}").ok()?;
        self.stdin.flush().ok()?;
        let mut line = String::new();
        self.stdout.read_line(&mut line).ok()?;
        line.split_whitespace()
            .map(|t| t.parse::<f64>().ok().map(Duration::from_secs_f64))
            .collect()
    }
}

impl Drop for Ort {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// One benchmarked model: its burn form, fused form and ONNX file.
struct Case {
    label: &'static str,
    model: LandmarkModel,
    onnx: Option<PathBuf>,
}

fn case(label: &'static str, activation: &str, dir: &str, onnx: &str, device: &Device) -> Case {
    let cfg = config(label, activation);
    let model = LandmarkModel::new(&cfg, device).expect("model builds");
    let dir = shared_path(&format!("data/reference_checkpoints/{dir}"));
    match dir {
        Some(dir) => {
            let (model, _) = load_checkpoint(model, dir.join("best.pt")).expect("best.pt loads");
            Case {
                label,
                model,
                onnx: Some(dir.join(onnx)),
            }
        }
        None => Case {
            label,
            model,
            onnx: None,
        },
    }
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let quick = args.iter().any(|a| a == "--quick");
    let profile = args.iter().any(|a| a == "--profile");
    let (rounds, runs) = if quick { (3, 50) } else { (10, 200) };
    let (device, _) = device_for(&DeviceSpec::Cpu);
    let cases = [
        case(
            "LWModel",
            "ReLU6",
            "LWModel_ReLU6_affine_cls",
            "model.onnx",
            &device,
        ),
        case(
            "LWCSPModel",
            "SiLU",
            "LWCSPModel_SiLU_affine_facecls",
            "model_reexported.onnx",
            &device,
        ),
    ];
    println!("batch 1, {rounds} interleaved rounds x {runs} calls each, median latency");
    println!(
        "{:<11} {:>10} {:>10} {:>12} {:>15}",
        "model", "burn flex", "fused", "onnxruntime", "fused / ort"
    );
    for case in &cases {
        let engine = FusedModel::from_model(&case.model).expect("the fused engine builds");
        let input = Tensor::<4>::random([1, 3, 96, 96], Distribution::Uniform(-1.0, 1.0), &device)
            .into_data()
            .try_into_vec::<f32>()
            .expect("float input");
        let x = Tensor::<4>::from_data(TensorData::new(input.clone(), [1, 3, 96, 96]), &device);
        let mut output = vec![0.0; engine.output_len()];
        let mut ort = case.onnx.as_deref().and_then(Ort::spawn);
        let burn_call = || {
            std::hint::black_box(case.model.forward(x.clone()).into_data());
        };
        let mut fused_call = || {
            engine
                .run_into(&input, 1, &mut output)
                .expect("valid input");
            std::hint::black_box(&output);
        };
        // burn flex first and apart: its rayon workers keep spinning for a while after a
        // call, which would slow whichever engine ran next on a small machine
        for _ in 0..20 {
            burn_call();
        }
        let burn: Vec<Duration> = (0..rounds).flat_map(|_| timings(runs, burn_call)).collect();
        std::thread::sleep(Duration::from_millis(200));
        for _ in 0..20 {
            fused_call();
        }
        let (mut fused, mut onnx) = (Vec::new(), Vec::new());
        for _ in 0..rounds {
            fused.extend(timings(runs, &mut fused_call));
            if let Some(times) = ort.as_mut().and_then(|o| o.round(runs)) {
                onnx.extend(times);
            }
        }
        let (burn, fused) = (median_of(burn), median_of(fused));
        let (ort_ms, ratio) = if onnx.is_empty() {
            ("-".to_string(), "-".to_string())
        } else {
            let o = median_of(onnx);
            (
                format!("{:.3} ms", ms(o)),
                format!("{:.3}", fused.as_secs_f64() / o.as_secs_f64()),
            )
        };
        println!(
            "{:<11} {:>7.3} ms {:>7.3} ms {:>12} {:>15}",
            case.label,
            ms(burn),
            ms(fused),
            ort_ms,
            ratio
        );
        if let Some(ort) = &ort {
            println!("{:<11} ({}, 1 thread)", "", ort.version);
        }
    }
    println!(
        "fused kernels: {}",
        FusedModel::from_model(&cases[0].model)
            .expect("the fused engine builds")
            .instruction_set()
    );
    if profile {
        for case in &cases {
            print_profile(case, if quick { 100 } else { 1000 });
        }
    }
}

/// The fused engine's time per layer on one image: median and fastest call.
fn print_profile(case: &Case, runs: usize) {
    let engine = FusedModel::from_model(&case.model).expect("the fused engine builds");
    let input: Vec<f32> = (0..engine.input_len())
        .map(|i| ((i * 7919) % 2000) as f32 / 1000.0 - 1.0)
        .collect();
    let layers = engine.profile(&input, 1, runs).expect("valid input");
    let median: Duration = layers.iter().map(|l| l.median).sum();
    let fastest: Duration = layers.iter().map(|l| l.fastest).sum();
    let mut output = vec![0.0; engine.output_len()];
    let whole = median_of(timings(runs, || {
        engine
            .run_into(&input, 1, &mut output)
            .expect("valid input");
    }));
    println!(
        "\n{} per layer over {runs} calls: sum of medians {:.3} ms, of fastest {:.3} ms \
         (whole calls: median {:.3} ms)",
        case.label,
        ms(median),
        ms(fastest),
        ms(whole)
    );
    println!(
        "  {:<30} {:<20} {:>9} {:>9} {:>6}",
        "layer", "kernel", "median", "fastest", "share"
    );
    for layer in layers {
        println!(
            "  {:<30} {:<20} {:>6.1} us {:>6.1} us {:>5.1}%",
            layer.name,
            layer.kind,
            layer.median.as_secs_f64() * 1e6,
            layer.fastest.as_secs_f64() * 1e6,
            100.0 * layer.fastest.as_secs_f64() / fastest.as_secs_f64()
        );
    }
}
