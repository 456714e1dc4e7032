//! Helpers shared by the end-to-end tests of the `fdfat` binary.

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
