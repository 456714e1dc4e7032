//! Reading the original fdfat `best.pt`: a zip pickle of the whole `nn.Module` under the key
//! `model`, float16. Its state-dict names are translated to this crate's tensor paths, linear
//! weights transposed to burn's `[in, out]` layout and every tensor cast to float32.

use super::source::{Entry, Skipped, Source};
use crate::error::ModelError;
use crate::spec::ModelSpec;
use burn::store::bridge;
use burn::store::pytorch_reader::{PytorchError, PytorchReader};
use burn::tensor::{DType, TensorData};
use fdfat_config::{Activation, ModelKind};
use std::collections::BTreeSet;
use std::path::Path;

/// The checkpoint key holding the module (`torch.save({'model': ..., ...})`).
const MODEL_KEY: &str = "model";

/// The pickled module path of `torch.nn` activation classes.
const ACTIVATION_MODULE: &[u8] = b"torch.nn.modules.activation";

/// Reads the tensors of the original checkpoint at `path` for a model of `spec`.
pub fn read(path: &Path, spec: &ModelSpec) -> Result<Source, ModelError> {
    let bytes = std::fs::read(path).map_err(|source| ModelError::Io {
        path: path.to_path_buf(),
        source,
    })?;
    let activation = block_activation(spec.kind, &pickled_activations(&bytes));
    let reader = match PytorchReader::with_top_level_key(path, MODEL_KEY) {
        Err(PytorchError::KeyNotFound(_)) => PytorchReader::new(path),
        other => other,
    }
    .map_err(|e| match e {
        PytorchError::Io(source) => ModelError::Io {
            path: path.to_path_buf(),
            source,
        },
        other => ModelError::Format {
            path: path.to_path_buf(),
            message: other.to_string(),
        },
    })?;
    let mut tensors: Vec<_> = reader.into_tensors().into_iter().collect();
    tensors.sort_by(|a, b| a.0.cmp(&b.0));

    let mut source = Source {
        activation,
        ..Source::default()
    };
    for (name, tensor) in tensors {
        let target = match translate(&name, spec) {
            Translation::Tensor(target) => target,
            Translation::Skip(why) => {
                source.skipped.push((name, why));
                continue;
            }
        };
        let shape = tensor.shape().to_vec();
        let read_error = |e: &dyn std::fmt::Display| ModelError::Format {
            path: path.to_path_buf(),
            message: format!("tensor `{name}`: {e}"),
        };
        let data = bridge::into_data(bridge::from_pytorch(tensor))
            .map_err(|e| read_error(&format!("{e:?}")))?;
        if !data.dtype().is_float() {
            return Err(read_error(&format!(
                "expected floats, found {:?}",
                data.dtype()
            )));
        }
        let data = data.convert_dtype(DType::F32);
        let transposed = is_linear_weight(&target) && shape.len() == 2;
        let data = if transposed {
            transpose(data, &shape).map_err(|e| read_error(&e))?
        } else {
            data
        };
        source.entries.push(Entry {
            tensor: bridge::from_data(data, target.clone(), None),
            source: name,
            target,
            shape,
            transposed,
        });
    }
    Ok(source)
}

/// The `torch.nn` activation classes a whole-module pickle references (`ReLU6`, `Tanh`, ...).
/// `torch.save` stores its pickle uncompressed, so the class references appear in the file's
/// bytes, after the module path in protocol 2 (`c<module>\n<name>\n`) and later ones.
fn pickled_activations(bytes: &[u8]) -> BTreeSet<String> {
    let mut found = BTreeSet::new();
    let mut rest = bytes;
    while let Some(at) = find(rest, ACTIVATION_MODULE) {
        rest = &rest[at + ACTIVATION_MODULE.len()..];
        let name: String = rest
            .iter()
            .skip_while(|b| !b.is_ascii_alphanumeric())
            .take_while(|b| b.is_ascii_alphanumeric())
            .map(|&b| b as char)
            .collect();
        found.insert(name);
    }
    found
}

fn find(haystack: &[u8], needle: &[u8]) -> Option<usize> {
    haystack.windows(needle.len()).position(|w| w == needle)
}

/// The activation of the blocks of a `kind` model whose pickle references the `pickled`
/// activation classes, when it can be told: the landmark head's Tanh, the face head's Sigmoid
/// and the LWModel stem's PReLU are set aside, and exactly one activation class must remain.
fn block_activation(kind: ModelKind, pickled: &BTreeSet<String>) -> Option<String> {
    let fixed: &[&str] = match kind {
        ModelKind::LwModel => &["Tanh", "Sigmoid", "PReLU"],
        ModelKind::LwCspModel => &["Tanh", "Sigmoid"],
    };
    let mut candidates = pickled
        .iter()
        .filter(|name| Activation::NAMES.contains(&name.as_str()))
        .filter(|name| !fixed.contains(&name.as_str()));
    match (candidates.next(), candidates.next()) {
        (Some(only), None) => Some(only.clone()),
        _ => None,
    }
}

/// What a state-dict name becomes.
#[derive(Debug, PartialEq)]
enum Translation {
    /// The model tensor path it loads into.
    Tensor(String),
    /// A tensor with no burn counterpart.
    Skip(Skipped),
}

/// Maps an original state-dict name onto this crate's tensor path.
///
/// `nn.Sequential` indices become named fields (`logit.stack.2` -> `logit.layers.1`,
/// `classifier.4` -> `classifier.fc`, `aux.stack1.3` -> `aux.convs.1.conv`), BatchNorm
/// `weight`/`bias` become `gamma`/`beta` and PReLU `weight` becomes `alpha`. Every other
/// name is kept.
fn translate(name: &str, spec: &ModelSpec) -> Translation {
    if name.ends_with(".num_batches_tracked") {
        return Translation::Skip(Skipped::BatchCounter);
    }
    let (module, param) = name.rsplit_once('.').unwrap_or(("", name));
    let segments: Vec<&str> = module.split('.').collect();

    if segments.last() == Some(&"act") {
        return prelu(module, param, spec);
    }
    let (module, is_norm) = match segments.as_slice() {
        ["logit", "stack", i] => (indexed("logit.layers", i, 2), false),
        ["classifier", "0", rest @ ..] => (join("classifier.conv1", rest), is_bn(rest)),
        ["classifier", "1", rest @ ..] => (join("classifier.conv2", rest), is_bn(rest)),
        ["classifier", "4"] => ("classifier.fc".to_string(), false),
        ["aux", "stack1", i] => aux_conv(i),
        ["aux", "stack2", i] => (indexed("aux.head.layers", i, 2), false),
        _ => (module.to_string(), segments.last() == Some(&"bn")),
    };
    let param = match (is_norm, param) {
        (true, "weight") => "gamma",
        (true, "bias") => "beta",
        (_, other) => other,
    };
    Translation::Tensor(format!("{module}.{param}"))
}

/// The model-level activation (`act.weight`) and the LWModel stem's PReLU load; the copies of
/// the shared activation that `state_dict()` repeats under every block are skipped.
fn prelu(module: &str, param: &str, spec: &ModelSpec) -> Translation {
    let stem = spec.kind == ModelKind::LwModel && module == "backbone.conv11.act";
    if param == "weight" && stem {
        return Translation::Tensor("backbone.conv11.act.alpha".into());
    }
    if param == "weight" && module == "act" {
        return Translation::Tensor("act.alpha".into());
    }
    if spec.activation == Activation::Prelu && param == "weight" {
        return Translation::Skip(Skipped::SharedCopy);
    }
    Translation::Tensor(format!("{module}.{param}"))
}

/// `prefix.(index / step)`, or the untranslated name when the index is not a multiple of step.
fn indexed(prefix: &str, index: &str, step: usize) -> String {
    match index.parse::<usize>() {
        Ok(i) if i.is_multiple_of(step) => format!("{prefix}.{}", i / step),
        _ => format!("{prefix}.{index}"),
    }
}

/// `aux.stack1.{0,3,6,9}` are convolutions and `{1,4,7,10}` their BatchNorms.
fn aux_conv(index: &str) -> (String, bool) {
    match index.parse::<usize>() {
        Ok(i) if i.is_multiple_of(3) => (format!("aux.convs.{}.conv", i / 3), false),
        Ok(i) if i % 3 == 1 => (format!("aux.convs.{}.bn", i / 3), true),
        _ => (format!("aux.stack1.{index}"), false),
    }
}

fn join(prefix: &str, rest: &[&str]) -> String {
    std::iter::once(prefix)
        .chain(rest.iter().copied())
        .collect::<Vec<_>>()
        .join(".")
}

fn is_bn(rest: &[&str]) -> bool {
    rest.last() == Some(&"bn")
}

/// Whether a tensor path is the weight of a linear layer (stored `[out, in]` by PyTorch).
fn is_linear_weight(path: &str) -> bool {
    path.ends_with(".weight")
        && (path.starts_with("logit.layers.")
            || path.starts_with("aux.head.layers.")
            || path == "classifier.fc.weight")
}

/// A row-major `[rows, cols]` float32 matrix as `[cols, rows]`.
fn transpose(data: TensorData, shape: &[usize]) -> Result<TensorData, String> {
    let (rows, cols) = (shape[0], shape[1]);
    let values = data.try_into_vec::<f32>().map_err(|e| format!("{e:?}"))?;
    let mut out = vec![0.0f32; values.len()];
    for r in 0..rows {
        for c in 0..cols {
            out[c * rows + r] = values[r * cols + c];
        }
    }
    Ok(TensorData::new(out, [cols, rows]))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn spec(kind: ModelKind, activation: Activation) -> ModelSpec {
        let mut cfg = fdfat_config::resolve(None, &[]).unwrap();
        cfg.model = kind;
        cfg.activation = activation;
        ModelSpec::from_config(&cfg).unwrap()
    }

    fn tr(name: &str) -> Translation {
        translate(name, &spec(ModelKind::LwModel, Activation::Relu6))
    }

    fn to(path: &str) -> Translation {
        Translation::Tensor(path.into())
    }

    #[test]
    fn block_names_are_kept_and_batchnorm_renamed() {
        let name = "backbone.conv21.conv1.conv.weight";
        assert_eq!(tr(name), to(name));
        assert_eq!(
            tr("backbone.c2f1.m.0.cv1.bn.weight"),
            to("backbone.c2f1.m.0.cv1.bn.gamma")
        );
        assert_eq!(
            tr("mainstream.convp3.conv3.bn.bias"),
            to("mainstream.convp3.conv3.bn.beta")
        );
        let stat = "mainstream.conv11.conv2.bn.running_var";
        assert_eq!(tr(stat), to(stat));
        assert_eq!(
            tr("backbone.conv11.bn.num_batches_tracked"),
            Translation::Skip(Skipped::BatchCounter)
        );
    }

    #[test]
    fn sequential_indices_become_fields() {
        assert_eq!(tr("logit.stack.0.weight"), to("logit.layers.0.weight"));
        assert_eq!(tr("logit.stack.2.bias"), to("logit.layers.1.bias"));
        assert_eq!(
            tr("classifier.0.conv.weight"),
            to("classifier.conv1.conv.weight")
        );
        assert_eq!(
            tr("classifier.1.bn.weight"),
            to("classifier.conv2.bn.gamma")
        );
        assert_eq!(tr("classifier.4.weight"), to("classifier.fc.weight"));
        assert_eq!(tr("aux.stack1.3.bias"), to("aux.convs.1.conv.bias"));
        assert_eq!(tr("aux.stack1.10.weight"), to("aux.convs.3.bn.gamma"));
        assert_eq!(
            tr("aux.stack1.10.running_mean"),
            to("aux.convs.3.bn.running_mean")
        );
        assert_eq!(tr("aux.stack2.2.weight"), to("aux.head.layers.1.weight"));
        assert!(is_linear_weight("aux.head.layers.1.weight"));
        assert!(!is_linear_weight("aux.convs.1.conv.weight"));
    }

    #[test]
    fn prelu_slopes_load_once() {
        assert_eq!(
            tr("backbone.conv11.act.weight"),
            to("backbone.conv11.act.alpha")
        );
        let prelu = spec(ModelKind::LwCspModel, Activation::Prelu);
        assert_eq!(translate("act.weight", &prelu), to("act.alpha"));
        assert_eq!(
            translate("backbone.conv11.act.weight", &prelu),
            Translation::Skip(Skipped::SharedCopy)
        );
        assert_eq!(
            translate("mainstream.conv12.cv1.act.weight", &prelu),
            Translation::Skip(Skipped::SharedCopy)
        );
    }

    #[test]
    fn pickled_activation_classes_are_found() {
        let protocol2 = b"..ctorch.nn.modules.activation\nReLU6\nq\x01..\
            ctorch.nn.modules.activation\nTanh\nq\x02";
        let protocol4 = b"\x8c\x1btorch.nn.modules.activation\x94\x8c\x04SiLU\x94\x93";
        let names = |bytes: &[u8]| pickled_activations(bytes).into_iter().collect::<Vec<_>>();
        assert_eq!(names(protocol2), ["ReLU6", "Tanh"]);
        assert_eq!(names(protocol4), ["SiLU"]);
    }

    #[test]
    fn the_block_activation_is_told_when_unambiguous() {
        let set = |names: &[&str]| names.iter().map(|n| n.to_string()).collect();
        let lw = ModelKind::LwModel;
        let told = block_activation(lw, &set(&["PReLU", "ReLU6", "Tanh", "Sigmoid"]));
        assert_eq!(told.as_deref(), Some("ReLU6"));
        let told = block_activation(ModelKind::LwCspModel, &set(&["SiLU", "Tanh", "Sigmoid"]));
        assert_eq!(told.as_deref(), Some("SiLU"));
        // Blocks using Tanh cannot be told from the heads, nor PReLU from the LWModel stem.
        assert_eq!(block_activation(lw, &set(&["PReLU", "Tanh"])), None);
        let csp = ModelKind::LwCspModel;
        assert_eq!(
            block_activation(csp, &set(&["PReLU", "ReLU6", "Tanh"])),
            None
        );
    }

    #[test]
    fn transposes_row_major_matrices() {
        let data = TensorData::new(vec![1.0f32, 2.0, 3.0, 4.0, 5.0, 6.0], [2, 3]);
        let t = transpose(data, &[2, 3]).unwrap();
        assert_eq!(t.shape().as_slice(), &[3, 2]);
        assert_eq!(
            t.try_into_vec::<f32>().unwrap(),
            vec![1.0, 4.0, 2.0, 5.0, 3.0, 6.0]
        );
    }
}
