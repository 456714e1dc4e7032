//! The project's own checkpoint format: a burnpack file (burn's native container) holding
//! every parameter and BatchNorm running statistic as float32 under the model's tensor paths
//! (`backbone.conv21.conv1.bn.gamma`, ...), with the model's configuration in its metadata.

use super::source::{Entry, Source};
use crate::error::ModelError;
use crate::model::LandmarkModel;
use crate::spec::ModelSpec;
use burn::module::Module;
use burn::store::ModuleSnapshot;
use burn::store::burn_pack::{Reader, Writer};
use std::collections::BTreeMap;
use std::path::Path;

/// Metadata key naming the producer; its value is [`PRODUCER`].
const PRODUCER_KEY: &str = "producer";
/// The producer value of fdfat-rs checkpoints.
const PRODUCER: &str = "fdfat-rs";

/// Writes `model`'s tensors to `path` atomically (a scratch file renamed over the destination).
/// `valid()` first folds the BatchNorm running statistics' pending training update in.
/// `extra` metadata (e.g. the trainer's state) is stored beside the model's own keys.
pub fn write(
    model: &LandmarkModel,
    path: &Path,
    extra: &BTreeMap<String, String>,
) -> Result<(), ModelError> {
    let mut writer = Writer::new(model.valid().collect(None, None, true));
    for (key, value) in extra {
        writer = writer.with_metadata(key, value);
    }
    writer = writer.with_metadata(PRODUCER_KEY, PRODUCER);
    for (key, value) in describe(model.spec()) {
        writer = writer.with_metadata(key, &value);
    }
    writer
        .auto_extension(false)
        .overwrite(true)
        .write_to_file(path)
        .map_err(|e| ModelError::Save {
            path: path.to_path_buf(),
            message: e.to_string(),
        })
}

/// The configuration keys a checkpoint records, with their values.
fn describe(spec: &ModelSpec) -> [(&'static str, String); 6] {
    [
        ("model", spec.kind.to_string()),
        ("activation", spec.activation.to_string()),
        ("muliplier", spec.multiplier.to_string()),
        ("lmk_num", spec.points.to_string()),
        ("face_cls", spec.face_cls.to_string()),
        ("aux_pose", spec.aux_pose.to_string()),
    ]
}

/// The metadata of a burnpack checkpoint.
pub fn metadata(path: &Path) -> Result<BTreeMap<String, String>, ModelError> {
    let reader = Reader::from_file_exact(path).map_err(|e| ModelError::Format {
        path: path.to_path_buf(),
        message: e.to_string(),
    })?;
    Ok(reader.metadata().clone())
}

/// Reads a burnpack checkpoint for a model of `spec`. A checkpoint written by fdfat-rs for
/// another `model`, `activation`, `muliplier` or `lmk_num` is refused, naming the key to set;
/// differing heads (`face_cls`, `aux_pose`) are left to the tensor comparison.
pub fn read(path: &Path, spec: &ModelSpec) -> Result<Source, ModelError> {
    let format_error = |e: burn::store::burn_pack::Error| ModelError::Format {
        path: path.to_path_buf(),
        message: e.to_string(),
    };
    let reader = Reader::from_file_exact(path).map_err(format_error)?;
    check_configuration(path, spec, reader.metadata())?;
    let tensors = reader.into_tensors().map_err(format_error)?;
    let entries = tensors
        .into_iter()
        .map(|tensor| Entry {
            source: tensor.name.clone(),
            target: tensor.name.clone(),
            shape: tensor.shape.iter().copied().collect(),
            transposed: false,
            tensor,
        })
        .collect();
    Ok(Source {
        entries,
        ..Source::default()
    })
}

fn check_configuration(
    path: &Path,
    spec: &ModelSpec,
    metadata: &BTreeMap<String, String>,
) -> Result<(), ModelError> {
    if metadata.get(PRODUCER_KEY).map(String::as_str) != Some(PRODUCER) {
        return Ok(());
    }
    for (key, expected) in describe(spec).into_iter().take(4) {
        let Some(found) = metadata.get(key) else {
            continue;
        };
        let same = match key {
            "muliplier" => found.parse::<f64>().ok() == expected.parse::<f64>().ok(),
            _ => *found == expected,
        };
        if !same {
            return Err(ModelError::WrongArchitecture {
                path: path.to_path_buf(),
                found: format!("`{key}: {found}`"),
                expected: format!("`{key}: {expected}`"),
                hint: format!(" (set `{key}: {found}` to load it)"),
            });
        }
    }
    Ok(())
}
