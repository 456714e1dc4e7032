//! Matching checkpoint tensors to the model: every tensor either loads, belongs to a head that
//! one side lacks (reported), or is an error naming it.

use super::report::{CheckpointFormat, LoadReport, head_of};
use super::source::{Skipped, Source};
use crate::error::{ModelError, and_more};
use crate::model::LandmarkModel;
use burn::store::ModuleSnapshot;
use fdfat_config::ModelKind;
use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

/// Loads `source` (read from `path`) into `model`.
pub fn apply(
    mut model: LandmarkModel,
    path: &Path,
    format: CheckpointFormat,
    source: Source,
) -> Result<(LandmarkModel, LoadReport), ModelError> {
    let spec = *model.spec();
    let model_shapes: BTreeMap<String, Vec<usize>> = model
        .collect(None, None, true)
        .into_iter()
        .map(|t| (t.name.clone(), t.shape.iter().copied().collect()))
        .collect();

    check_architecture(path, spec.kind, &source)?;
    if let Some(found) = source.activation.as_deref()
        && found != spec.activation.as_str()
    {
        return Err(ModelError::WrongArchitecture {
            path: path.to_path_buf(),
            found: format!("`activation: {found}`"),
            expected: format!("`activation: {}`", spec.activation),
            hint: format!(" (set `activation: {found}` to load it)"),
        });
    }

    let mut unexpected = Vec::new();
    let mut mismatched = Vec::new();
    let mut ignored = Vec::new();
    let mut loads = Vec::new();
    let mut covered = BTreeSet::new();
    for entry in source.entries {
        let burn_shape: Vec<usize> = entry.tensor.shape.iter().copied().collect();
        match model_shapes.get(&entry.target) {
            Some(expected) if *expected == burn_shape => {
                covered.insert(entry.target.clone());
                loads.push(entry.tensor);
            }
            Some(expected) => {
                let mut expected = expected.clone();
                if entry.transposed {
                    expected.reverse();
                }
                mismatched.push((entry.source, entry.shape, expected));
            }
            None if head_of(&entry.target).is_some() => ignored.push(entry.source),
            None => unexpected.push(entry.source),
        }
    }
    if let Some(tensor) = unexpected.first() {
        return Err(ModelError::UnexpectedTensor {
            path: path.to_path_buf(),
            tensor: tensor.clone(),
            model: spec.to_string(),
            more: and_more(unexpected.len() - 1),
        });
    }
    if let Some((tensor, found, expected)) = mismatched.first() {
        return Err(ModelError::ShapeMismatch {
            path: path.to_path_buf(),
            tensor: tensor.clone(),
            found: found.clone(),
            expected: expected.clone(),
            more: and_more(mismatched.len() - 1),
        });
    }
    let (fresh, missing): (Vec<String>, Vec<String>) = model_shapes
        .keys()
        .filter(|name| !covered.contains(*name))
        .cloned()
        .partition(|name| head_of(name).is_some());
    if let Some(tensor) = missing.first() {
        return Err(ModelError::MissingTensor {
            path: path.to_path_buf(),
            tensor: tensor.clone(),
            more: and_more(missing.len() - 1),
        });
    }

    let result = model.apply(loads, None, None, true);
    if let Some(error) = result.errors.first() {
        return Err(ModelError::Format {
            path: path.to_path_buf(),
            message: error.to_string(),
        });
    }
    let count = |kind| source.skipped.iter().filter(|(_, k)| *k == kind).count();
    let report = LoadReport {
        path: path.to_path_buf(),
        format,
        transferred: result.applied.len(),
        model_tensors: model_shapes.len(),
        fresh,
        ignored,
        batch_counters: count(Skipped::BatchCounter),
        shared_copies: count(Skipped::SharedCopy),
    };
    Ok((model, report))
}

/// Refuses a checkpoint whose backbone is the other architecture's.
fn check_architecture(path: &Path, kind: ModelKind, source: &Source) -> Result<(), ModelError> {
    let has = |prefix: &str| source.entries.iter().any(|e| e.target.starts_with(prefix));
    let found = if has("backbone.c2f1.") {
        ModelKind::LwCspModel
    } else if has("backbone.conv21.") {
        ModelKind::LwModel
    } else {
        return Ok(());
    };
    if found == kind {
        return Ok(());
    }
    Err(ModelError::WrongArchitecture {
        path: path.to_path_buf(),
        found: found.to_string(),
        expected: kind.to_string(),
        hint: format!(" (set `model: {found}` to load it)"),
    })
}
