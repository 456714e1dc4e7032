//! Helpers shared by the integration tests.
#![allow(dead_code)]

use fdfat_config::{Config, DataConfig, resolve_flags};
use std::path::Path;

/// Writes `dir/data.yaml` with the given body and loads it.
pub fn data_yaml(dir: &Path, body: &str) -> DataConfig {
    let path = dir.join("data.yaml");
    std::fs::write(&path, body).unwrap();
    DataConfig::load(&path).unwrap()
}

/// The default configuration with `key value` overrides.
pub fn config(overrides: &[(&str, &str)]) -> Config {
    resolve_flags(overrides).unwrap()
}

/// Landmarks of a FaceSynthetics `_ldmks.txt`.
pub fn read_ldmks(path: &Path) -> Vec<[f32; 2]> {
    std::fs::read_to_string(path)
        .unwrap()
        .lines()
        .filter(|l| !l.trim().is_empty())
        .map(|l| {
            let v: Vec<f32> = l.split_whitespace().map(|x| x.parse().unwrap()).collect();
            [v[0], v[1]]
        })
        .collect()
}
