//! Loading and saving weights.
//!
//! [`load_checkpoint`] reads two containers, told apart by their first bytes:
//!
//! - **The original fdfat `best.pt`**: a PyTorch zip pickle with the whole `nn.Module` under
//!   the key `model` (a plain state-dict file also works), float16. Names such as
//!   `backbone.conv11.conv.weight`, `logit.stack.0.weight`, `classifier.4.weight` and PReLU
//!   `weight` are translated to this crate's paths, linear weights transposed and values cast
//!   to float32; BatchNorm `num_batches_tracked` counters are counted and dropped.
//! - **fdfat-rs checkpoints**, written by [`save_weights`]: a burnpack file (burn's native
//!   container, conventionally `*.bpk`) of float32 tensors named by the model's paths
//!   (`backbone.conv21.conv1.bn.gamma`, `logit.layers.0.weight` as `[in, out]`, BatchNorm
//!   `running_mean`/`running_var` included) with burn parameter ids, so optimizer state saved
//!   alongside stays matched. Its metadata records `producer: fdfat-rs` and the `model`,
//!   `activation`, `muliplier`, `lmk_num`, `face_cls` and `aux_pose` it was trained with.
//!
//! Either way every tensor loads, or belongs to the face-cls (`classifier.*`) or pose
//! (`aux.*`) head that one side lacks (listed in the [`LoadReport`]: a head the checkpoint
//! lacks keeps its fresh initial values, a head the configuration turns off is ignored), or
//! the load fails naming it: a shape mismatch, a tensor the model does not have, a model
//! tensor the checkpoint lacks, or a checkpoint of the other architecture.

mod burnpack;
mod report;
mod source;
mod torch;
mod transfer;

pub use report::{CheckpointFormat, LoadReport};

use crate::error::ModelError;
use crate::model::LandmarkModel;
use std::collections::BTreeMap;
use std::io::Read;
use std::path::Path;

/// Loads the weights at `path` into `model` (whose configuration decides which heads exist),
/// returning the model and what was transferred.
pub fn load_checkpoint(
    model: LandmarkModel,
    path: impl AsRef<Path>,
) -> Result<(LandmarkModel, LoadReport), ModelError> {
    let path = path.as_ref();
    let format = sniff(path)?;
    let source = match format {
        CheckpointFormat::Burnpack => burnpack::read(path, model.spec())?,
        CheckpointFormat::Pytorch => torch::read(path, model.spec())?,
    };
    transfer::apply(model, path, format, source)
}

/// Saves `model`'s weights to `path` as an fdfat-rs burnpack checkpoint, atomically: a
/// scratch file beside `path` is renamed over it once complete, so a failed save leaves any
/// previous file intact.
pub fn save_weights(model: &LandmarkModel, path: impl AsRef<Path>) -> Result<(), ModelError> {
    burnpack::write(model, path.as_ref(), &BTreeMap::new())
}

/// Like [`save_weights`], with `metadata` (string pairs, e.g. a trainer's epoch and
/// configuration) stored in the file beside the model's own keys.
pub fn save_weights_with(
    model: &LandmarkModel,
    path: impl AsRef<Path>,
    metadata: &BTreeMap<String, String>,
) -> Result<(), ModelError> {
    burnpack::write(model, path.as_ref(), metadata)
}

/// The metadata of an fdfat-rs checkpoint written by [`save_weights`] or
/// [`save_weights_with`].
pub fn checkpoint_metadata(path: impl AsRef<Path>) -> Result<BTreeMap<String, String>, ModelError> {
    burnpack::metadata(path.as_ref())
}

/// Tells the container from the file's first bytes.
fn sniff(path: &Path) -> Result<CheckpointFormat, ModelError> {
    let io = |source| ModelError::Io {
        path: path.to_path_buf(),
        source,
    };
    let mut head = [0u8; 4];
    let mut file = std::fs::File::open(path).map_err(io)?;
    let read = file.read(&mut head).map_err(io)?;
    let head = &head[..read];
    let burnpack = burn::store::burn_pack::MAGIC_NUMBER.to_le_bytes();
    if head == burnpack {
        Ok(CheckpointFormat::Burnpack)
    } else if head.starts_with(b"PK\x03\x04") || head.first() == Some(&0x80) {
        Ok(CheckpointFormat::Pytorch)
    } else {
        Err(ModelError::Format {
            path: path.to_path_buf(),
            message: "neither a PyTorch checkpoint (zip or pickle) nor a burnpack file".into(),
        })
    }
}
