//! The fdfat facial-landmark networks on burn, their architecture and checkpoints: LWModel
//! (~429K parameters) and LWCSPModel (~482K) for 96x96 crops, exact to the published PyTorch
//! models, with their heads (landmarks, face score, head pose), freezing for stage-2 training,
//! the per-block cost table, and weight import from the original `best.pt` files and the
//! project's own burnpack checkpoints.
//!
//! The blocks run their training-step operations through `fdfat-kernels`; `fdfat-infer`
//! compiles a model into a fused CPU inference engine, reading its layers through
//! [`LandmarkModel`]'s accessors and the [`blocks`], [`lw`] and [`lwcsp`] modules.
//!
//! ```no_run
//! use fdfat_models::{LandmarkModel, device_for, load_checkpoint};
//!
//! let cfg = fdfat_config::resolve(None, &[("face_cls".into(), "true".into())]).unwrap();
//! let (device, _warning) = device_for(&fdfat_config::DeviceSpec::Cpu);
//! let model = LandmarkModel::new(&cfg, &device).unwrap();
//! let (model, report) = load_checkpoint(model, "best.pt").unwrap();
//! println!("{report}");
//! let scores = model.forward(burn::tensor::Tensor::zeros([1, 3, 96, 96], &device));
//! assert_eq!(scores.dims(), [1, 141]);
//! ```
#![warn(missing_docs)]

pub mod blocks;
mod checkpoint;
mod cost;
mod device;
mod error;
pub mod lw;
pub mod lwcsp;
mod model;
pub mod npy;
mod spec;
mod summary;

pub use checkpoint::{
    CheckpointFormat, LoadReport, checkpoint_metadata, load_checkpoint, save_weights,
    save_weights_with,
};
pub use device::{device_for, device_for_config, training_devices_for_config};
pub use error::ModelError;
pub use model::{Backbone, LandmarkModel, Mainstream};
pub use spec::{MAX_MULTIPLIER, ModelSpec};
pub use summary::{BlockRow, ModelSummary, model_summary};
