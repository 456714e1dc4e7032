//! Run directories (`project/name`, `name2`, ... as the original numbers them) and the resolved
//! `config.yaml` written into each.

use crate::config::Config;
use std::io::Write;
use std::path::{Path, PathBuf};

/// The project folder used when `project` is unset.
pub const DEFAULT_PROJECT: &str = "runs";

/// The directory a run with `cfg` writes to, without creating it: `project/name` when
/// `override` or `resume` is set or when it does not exist yet, else `project/nameN` with the
/// first free N >= 2.
pub fn run_dir(cfg: &Config) -> PathBuf {
    let project = PathBuf::from(cfg.project.as_deref().unwrap_or(DEFAULT_PROJECT));
    let base = project.join(&cfg.name);
    if cfg.override_ || cfg.resume || !base.exists() {
        return base;
    }
    (2..)
        .map(|n| project.join(format!("{}{n}", cfg.name)))
        .find(|p| !p.exists())
        .expect("an unused run directory name exists")
}

/// Creates the run directory (see [`run_dir`]) and writes the resolved `config.yaml` into it.
pub fn create_run_dir(cfg: &Config) -> std::io::Result<PathBuf> {
    let dir = run_dir(cfg);
    std::fs::create_dir_all(&dir)?;
    save_config(cfg, &dir.join("config.yaml"))?;
    Ok(dir)
}

/// The configuration as YAML text, every key present.
pub fn to_yaml(cfg: &Config) -> String {
    serde_yaml_ng::to_string(cfg).expect("a Config always serialises")
}

/// Writes `cfg` to `path` atomically (temporary file + rename); loading it again gives `cfg`.
pub fn save_config(cfg: &Config, path: &Path) -> std::io::Result<()> {
    write_atomic(path, to_yaml(cfg).as_bytes())
}

/// Writes `bytes` to `path` through a temporary file in the same folder, then renames it, so a
/// reader never sees a partial file and a crash leaves the previous file intact.
pub fn write_atomic(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    let dir = path
        .parent()
        .filter(|d| !d.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    let file_name = path.file_name().and_then(|n| n.to_str()).unwrap_or("file");
    let tmp = dir.join(format!(".{file_name}.{}.tmp", std::process::id()));
    {
        let mut file = std::fs::File::create(&tmp)?;
        file.write_all(bytes)?;
        file.sync_all()?;
    }
    std::fs::rename(&tmp, path)
}
