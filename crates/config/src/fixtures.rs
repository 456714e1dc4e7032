//! Where the shared third-party fixtures live (`../shared` beside the checkout), for tests,
//! benchmarks and scripts. `FDFAT_SHARED` overrides the folder.
//!
//! Tests call [`shared_path`]: when the folder is absent it prints a notice and returns `None`
//! (the test then returns early), except under `CI=true`, where absence is a failure.

use std::path::PathBuf;

/// The environment variable that overrides the shared folder.
pub const SHARED_ENV: &str = "FDFAT_SHARED";

/// The shared folder (`$FDFAT_SHARED`, else `<workspace>/../shared`), whether or not it exists.
pub fn shared_root() -> PathBuf {
    if let Some(dir) = std::env::var_os(SHARED_ENV) {
        return PathBuf::from(dir);
    }
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../../shared")
}

/// A path under the shared folder (e.g. `data/300w`), or `None` with a printed notice when it is
/// missing. Panics under `CI=true`, where every fixture must be present.
pub fn shared_path(relative: &str) -> Option<PathBuf> {
    let path = shared_root().join(relative);
    if path.exists() {
        return Some(path);
    }
    let message = format!(
        "shared fixture `{}` is missing (set {SHARED_ENV} to the shared folder)",
        path.display()
    );
    if std::env::var("CI").is_ok_and(|v| v == "true") {
        panic!("{message}; under CI=true this is a failure");
    }
    eprintln!("SKIPPED: {message}");
    None
}
