//! Helpers shared by the export tests: the published models imported from `best.pt`, the parity
//! fixtures, and a `.npy` writer for the onnxruntime script.

#![allow(dead_code, reason = "each test binary uses a subset")]

use burn::tensor::Device;
use fdfat_config::fixtures::shared_path;
use fdfat_config::{Config, resolve_flags};
use fdfat_models::npy::{NpyArray, read_f32};
use fdfat_models::{LandmarkModel, load_checkpoint};
use std::path::{Path, PathBuf};
use std::process::Command;

/// A published model: its folder under `reference_checkpoints`, architecture and activation,
/// and the parity output file.
pub struct Published {
    pub dir: &'static str,
    pub model: &'static str,
    pub activation: &'static str,
    pub outputs: &'static str,
}

pub const LW: Published = Published {
    dir: "LWModel_ReLU6_affine_cls",
    model: "LWModel",
    activation: "ReLU6",
    outputs: "lw_outputs.npy",
};

pub const CSP: Published = Published {
    dir: "LWCSPModel_SiLU_affine_facecls",
    model: "LWCSPModel",
    activation: "SiLU",
    outputs: "csp_outputs.npy",
};

impl Published {
    /// The `best.pt` path, or `None` (with a notice) without the shared fixtures.
    pub fn checkpoint(&self) -> Option<PathBuf> {
        shared_path(&format!("data/reference_checkpoints/{}/best.pt", self.dir))
    }

    /// The configuration of this model with `extra` keys.
    pub fn config(&self, extra: &[(&str, &str)]) -> Config {
        let mut flags = vec![
            ("model", self.model),
            ("activation", self.activation),
            ("face_cls", "true"),
        ];
        flags.extend_from_slice(extra);
        resolve_flags(&flags).unwrap()
    }

    /// The model with the published weights, or `None` without the shared fixtures.
    pub fn load(&self) -> Option<(LandmarkModel, Device)> {
        let checkpoint = self.checkpoint()?;
        let device = Device::default();
        let model = LandmarkModel::new(&self.config(&[]), &device).unwrap();
        let (model, _) = load_checkpoint(model, checkpoint).unwrap();
        Some((model, device))
    }

    /// The parity inputs `[6, 3, 96, 96]` and this model's reference outputs `[6, 141]`.
    pub fn parity(&self) -> Option<(NpyArray, NpyArray)> {
        let dir = shared_path("reference/parity")?;
        Some((
            read_f32(dir.join("inputs.npy")).unwrap(),
            read_f32(dir.join(self.outputs)).unwrap(),
        ))
    }
}

/// Writes a little-endian `.npy` array of `descr` (`<f4`, `|u1`) holding `bytes`.
fn write_npy(path: &Path, descr: &str, shape: &[usize], bytes: &[u8]) {
    let dims: Vec<String> = shape.iter().map(usize::to_string).collect();
    let shape = match dims.len() {
        1 => format!("({},)", dims[0]),
        _ => format!("({})", dims.join(", ")),
    };
    let mut header = format!("{{'descr': '{descr}', 'fortran_order': False, 'shape': {shape}, }}");
    // magic (6) + version (2) + header length (2) + header + '\n' is a multiple of 64
    while (10 + header.len() + 1) % 64 != 0 {
        header.push(' ');
    }
    header.push('\n');
    let mut out = b"\x93NUMPY\x01\x00".to_vec();
    out.extend((header.len() as u16).to_le_bytes());
    out.extend(header.as_bytes());
    out.extend(bytes);
    std::fs::write(path, out).unwrap();
}

/// Writes a float32 `.npy` array.
pub fn write_npy_f32(path: &Path, shape: &[usize], values: &[f32]) {
    let bytes: Vec<u8> = values.iter().flat_map(|v| v.to_le_bytes()).collect();
    write_npy(path, "<f4", shape, &bytes);
}

/// Writes a uint8 `.npy` array.
pub fn write_npy_u8(path: &Path, shape: &[usize], values: &[u8]) {
    write_npy(path, "|u1", shape, values);
}

/// The check script `scripts/<name>`, or `None` (with a notice) when python3 cannot import
/// `modules` (`"onnxruntime, numpy"`); under `CI=true`, where `.ci/run` installs them from
/// `scripts/requirements-ci.txt`, that is a failure.
pub fn python_script(name: &str, modules: &str) -> Option<PathBuf> {
    let script = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../../scripts")
        .join(name);
    assert!(script.exists(), "{} is missing", script.display());
    let importable = Command::new("python3")
        .args(["-c", &format!("import {modules}")])
        .output()
        .is_ok_and(|o| o.status.success());
    if importable {
        return Some(script);
    }
    let message =
        format!("python3 cannot import {modules} (pip install -r scripts/requirements-ci.txt)");
    if std::env::var("CI").is_ok_and(|v| v == "true") {
        panic!("{message}; under CI=true this is a failure");
    }
    eprintln!("SKIPPED: {message}");
    None
}

/// Runs `python3 script model inputs expected extra...` (a check script of `scripts/`), prints
/// what it said and panics with it unless it succeeds.
pub fn run_check(script: &Path, [model, inputs, expected]: [&Path; 3], extra: &[&str]) {
    let output = Command::new("python3")
        .arg(script)
        .args([model, inputs, expected])
        .args(extra)
        .output()
        .unwrap();
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
    println!("{text}");
    assert!(output.status.success(), "{}: {text}", model.display());
}
