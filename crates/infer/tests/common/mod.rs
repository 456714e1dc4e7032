//! Helpers shared by the integration tests.

/// The default configuration with `flags` applied (`("face_cls", "true")`, ...).
pub fn config(flags: &[(&str, &str)]) -> fdfat_config::Config {
    let flags: Vec<(String, String)> = flags
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
    fdfat_config::resolve(None, &flags).unwrap()
}
