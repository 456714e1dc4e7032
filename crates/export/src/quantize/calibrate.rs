//! Calibration: the range (and per-channel spread) each activation tensor reaches when the
//! float model runs on sample inputs.

use super::targets::activation_targets;
use crate::error::ExportError;
use crate::proto;
use crate::runtime::{Input, OnnxRunner};
use std::collections::HashMap;
use std::path::Path;
use tract_onnx::pb;
use tract_onnx::pb::tensor_proto::DataType;

/// Largest ratio between a tensor's largest per-channel maximum |value| and its median one
/// for the tensor to be quantized per tensor (beyond it, the median channel would get under
/// 4 of the 255 levels).
pub const MAX_CHANNEL_SPREAD: f32 = 64.0;

/// What calibration saw of one tensor.
#[derive(Debug, Clone, PartialEq)]
struct Stats {
    lo: f32,
    hi: f32,
    /// Maximum |value| per channel (axis 1; one channel for rank 0 and 1).
    channel_max: Vec<f32>,
}

/// The observed range and per-channel maxima of each calibrated tensor.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Ranges {
    stats: HashMap<String, Stats>,
}

impl Ranges {
    /// The (min, max) seen for `tensor`.
    pub fn get(&self, tensor: &str) -> Option<(f32, f32)> {
        self.stats.get(tensor).map(|s| (s.lo, s.hi))
    }

    /// The largest per-channel maximum |value| of `tensor` over the median one (channels
    /// that never left 0 aside); `None` when nothing non-zero was seen.
    pub fn channel_spread(&self, tensor: &str) -> Option<f32> {
        let mut maxima: Vec<f32> = self
            .stats
            .get(tensor)?
            .channel_max
            .iter()
            .copied()
            .filter(|&m| m > 0.0)
            .collect();
        maxima.sort_by(f32::total_cmp);
        let median = *maxima.get(maxima.len() / 2)?;
        Some(maxima[maxima.len() - 1] / median)
    }

    /// Widens the statistics of `tensor` to cover `values` of shape `dims` (non-finite values
    /// are ignored).
    pub fn observe(&mut self, tensor: &str, values: &[f32], dims: &[usize]) {
        let channels = dims
            .get(1)
            .copied()
            .filter(|_| dims.len() >= 2)
            .unwrap_or(1)
            .max(1);
        let inner: usize = dims.iter().skip(2).product::<usize>().max(1);
        let stats = self.stats.entry(tensor.to_string()).or_insert(Stats {
            lo: f32::INFINITY,
            hi: f32::NEG_INFINITY,
            channel_max: vec![0.0; channels],
        });
        if stats.channel_max.len() != channels {
            stats.channel_max = vec![stats.channel_max.iter().fold(0.0, |a, &b| a.max(b))];
        }
        let channels = stats.channel_max.len();
        for (i, &v) in values.iter().enumerate().filter(|(_, v)| v.is_finite()) {
            stats.lo = stats.lo.min(v);
            stats.hi = stats.hi.max(v);
            let c = (i / inner) % channels;
            stats.channel_max[c] = stats.channel_max[c].max(v.abs());
        }
        if stats.lo > stats.hi {
            self.stats.remove(tensor);
        }
    }

    /// Number of calibrated tensors.
    pub fn len(&self) -> usize {
        self.stats.len()
    }

    /// Whether no tensor was calibrated.
    pub fn is_empty(&self) -> bool {
        self.stats.is_empty()
    }
}

/// The statistics of every tensor [`activation_targets`] names, over `batches` run through
/// `model` in tract (the tensors become extra outputs of a copy of the model).
pub fn calibrate<'a>(
    model: &pb::ModelProto,
    batches: impl IntoIterator<Item = Input<'a>>,
) -> Result<Ranges, ExportError> {
    let graph = model.graph.as_ref().ok_or_else(no_graph)?;
    let names: Vec<String> = activation_targets(graph).into_keys().collect();
    calibrate_tensors(model, &names, batches)
}

fn no_graph() -> ExportError {
    ExportError::Onnx {
        path: "<calibration>".into(),
        message: "the model has no graph".into(),
    }
}

/// The statistics of the tensors `names` of `model` over `batches` (graph inputs observed
/// from the batches themselves, other tensors as extra outputs of a copy of the model).
pub fn calibrate_tensors<'a>(
    model: &pb::ModelProto,
    names: &[String],
    batches: impl IntoIterator<Item = Input<'a>>,
) -> Result<Ranges, ExportError> {
    let mut probe = model.clone();
    let graph = probe.graph.as_mut().ok_or_else(no_graph)?;
    let inputs: Vec<String> = graph.input.iter().map(|i| i.name.clone()).collect();
    let (mut fed, mut names): (Vec<String>, Vec<String>) = names
        .iter()
        .cloned()
        .partition(|name| inputs.contains(name));
    names.sort();
    fed.sort();
    for name in &names {
        graph
            .output
            .push(proto::value_info_unshaped(name, DataType::Float));
    }
    let first = graph.output.len() - names.len();
    let runner = OnnxRunner::from_model(&probe, Path::new("<calibration model>"))?;
    let mut ranges = Ranges::default();
    for batch in batches {
        if let Input::F32(values, dims) = batch {
            for name in &fed {
                ranges.observe(name, values, &dims);
            }
        }
        let outputs = runner.run_all(batch)?;
        for (name, output) in names.iter().zip(&outputs[first..]) {
            ranges.observe(name, &output.values, &output.dims);
        }
    }
    Ok(ranges)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ranges_ignore_non_finite_values() {
        let mut ranges = Ranges::default();
        ranges.observe("x", &[1.0, f32::NAN, -2.0], &[3]);
        ranges.observe("x", &[3.0, f32::INFINITY], &[2]);
        ranges.observe("y", &[f32::NAN], &[1]);
        assert_eq!(ranges.get("x"), Some((-2.0, 3.0)));
        assert_eq!(ranges.get("y"), None);
        assert_eq!(ranges.len(), 1);
    }

    #[test]
    fn channel_spread_compares_the_largest_channel_with_the_median() {
        let mut ranges = Ranges::default();
        // [N = 1, C = 4, 2 values each]: channel maxima 1, 2, 0 (dead), 100
        ranges.observe(
            "x",
            &[1.0, -0.5, 2.0, 0.0, 0.0, 0.0, 7.0, -100.0],
            &[1, 4, 2],
        );
        assert_eq!(ranges.channel_spread("x"), Some(50.0));
        ranges.observe(
            "x",
            &[0.0, 0.0, 0.0, 0.0, 80.0, 0.0, 0.0, 0.0],
            &[1, 4, 1, 2],
        );
        assert_eq!(ranges.channel_spread("x"), Some(100.0 / 80.0));
        ranges.observe("z", &[0.0; 4], &[2, 2]);
        assert_eq!(ranges.channel_spread("z"), None);
    }
}
