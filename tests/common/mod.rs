//! Helpers shared by the end-to-end tests of the `fdfat` binary.

#![allow(dead_code, reason = "each test binary uses a subset")]

use std::path::Path;
use std::process::{Command, Output};

/// Runs `fdfat` with `args` and returns what it printed and its status.
pub fn fdfat(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_fdfat"))
        .args(args)
        .output()
        .expect("the fdfat binary runs")
}

/// Captured output as text.
pub fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

/// A JSON file the binary wrote.
pub fn json(path: &Path) -> serde_json::Value {
    serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap()
}
