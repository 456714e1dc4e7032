//! Configuration of fdfat-rs: the typed keys of `configs/default.yaml` (the original fdfat keys
//! and defaults plus fdfat-rs additions), their resolution from defaults, a YAML file and
//! command-line flags, the data YAML, landmark schemes, device specs and run directories.
//!
//! ```
//! let cfg = fdfat_config::resolve(None, &[("lr".into(), "0.01".into())]).unwrap();
//! assert_eq!(cfg.lr, 0.01);
//! assert_eq!(cfg.batch_size, 64);
//! ```
#![warn(missing_docs)]

mod config;
mod data;
mod device;
mod error;
pub mod fixtures;
pub mod keys;
mod load;
mod options;
mod run_dir;
mod scheme;
mod validate;
mod yaml_doc;

pub use config::Config;
pub use data::{DataConfig, DataFormat};
pub use device::DeviceSpec;
pub use error::{ConfigError, Origin, closest};
pub use load::{ConfigLoader, load_file, resolve, resolve_flags};
pub use options::{
    Activation, BestMetric, FaceLossKind, LossKind, LrSchedule, ModelKind, NmeNorm, OptimizerKind,
    Smoother, Split, Task,
};
pub use run_dir::{DEFAULT_PROJECT, create_run_dir, run_dir, save_config, to_yaml, write_atomic};
pub use scheme::{BUILTIN_SCHEMES, LandmarkScheme, Part};
pub use yaml_doc::{YamlDoc, describe};
