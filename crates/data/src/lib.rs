//! fdfat-data: everything between files on disk and a batch of normalised inputs.
//!
//! - [`Dataset::open`] reads a split of a data YAML in any supported format (FaceSynthetics,
//!   300-W / 300-VW `.pts`, WFLW lists, face crops), caches the parsed annotations and reports
//!   bad samples.
//! - [`Loader`] turns a dataset into [`Batch`]es: face crop from the landmarks, keypoint-aware
//!   augmentation composed into one bilinear warp, photometric augmentation, `x / 127.5 - 1`
//!   NCHW pixels and landmarks in `[-0.5, 0.5]` of the crop, in worker threads, deterministic
//!   for a seed whatever the thread count, optionally from a memory-mapped [`CropCache`].
//! - [`eval_crop`] / [`crop_input`] make the reference evaluation and prediction inputs.
//! - [`sequence::Sequence`] reads video sequences in the 300-VW layout (`imgs/`, `annot/`,
//!   optional `segments.json` labels).
//! - [`synth::generate`] renders a toy dataset, [`synth::generate_sequences`] toy video
//!   sequences with exact landmarks; [`facecrops::generate`] cuts face / non-face
//!   crops from WIDER FACE style YOLO boxes.
//!
//! The crate does not depend on burn: batches are plain `Vec<f32>` buffers.
#![warn(missing_docs)]

pub mod augment;
mod batch;
mod crop;
mod crop_cache;
mod dataset;
mod error;
pub mod facecrops;
mod formats;
mod geometry;
mod image_io;
mod loader;
mod mapping;
mod prepare;
mod progress;
mod rng;
mod sample;
pub mod sequence;
mod split;
pub mod synth;
mod warp;

pub use batch::Batch;
pub use crop::{CropInput, EVAL_SCALE, crop_input, crop_resize_rgb, eval_crop, to_chw};
pub use crop_cache::CropCache;
pub use dataset::{Dataset, POSES_FILE, Skipped};
pub use error::DataError;
pub use geometry::{Affine2, CropBox, CropTransform, extent};
pub use image_io::read_rgb;
pub use loader::{Loader, LoaderMode, loader_threads, model_point_map};
pub use mapping::PointMap;
pub use prepare::{TRAIN_BOX_OFFSET, TRAIN_BOX_SCALE};
pub use sample::{Pose, Sample, WflwAttributes};
