//! The model's tensors by path (the names of its checkpoints, e.g.
//! `backbone.conv21.conv1.bn.running_var`), and the folding of a BatchNorm into the convolution
//! before it.

use crate::error::ExportError;
use burn::store::ModuleSnapshot;
use burn::store::burn_pack::DType;
use fdfat_models::LandmarkModel;
use std::collections::HashMap;

/// BatchNorm epsilon of every BatchNorm in both architectures (the original's
/// `initialize_weights` sets 1e-5; burn stores it in the module, not in the weights).
pub const BN_EPSILON: f64 = 1e-5;

/// A float32 tensor of the model.
#[derive(Debug, Clone, PartialEq)]
pub struct Named {
    /// Dimensions, outermost first.
    pub dims: Vec<usize>,
    /// Values in row-major order.
    pub values: Vec<f32>,
}

/// Every tensor of a model (parameters and BatchNorm running statistics) by path.
#[derive(Debug, Clone)]
pub struct Weights {
    tensors: HashMap<String, Named>,
}

impl Weights {
    /// The tensors of `model`, read back from its device as float32.
    pub fn of(model: &LandmarkModel) -> Result<Self, ExportError> {
        let mut tensors = HashMap::new();
        for tensor in model.collect(None, None, true) {
            let name = tensor.name.clone();
            let bad = |reason: String| ExportError::Weights {
                path: name.clone(),
                reason,
            };
            if tensor.dtype != DType::F32 {
                return Err(bad(format!("expected float32, found {:?}", tensor.dtype)));
            }
            let dims: Vec<usize> = tensor.shape.iter().copied().collect();
            let (_, _, _, _, bytes) = tensor.into_parts().map_err(|e| bad(e.to_string()))?;
            let values: Vec<f32> = bytes
                .chunks_exact(4)
                .map(|b| f32::from_le_bytes([b[0], b[1], b[2], b[3]]))
                .collect();
            if values.len() != dims.iter().product::<usize>() {
                return Err(bad(format!("{} values for shape {dims:?}", values.len())));
            }
            tensors.insert(name, Named { dims, values });
        }
        Ok(Self { tensors })
    }

    /// Whether the model has a tensor at `path`.
    pub fn contains(&self, path: &str) -> bool {
        self.tensors.contains_key(path)
    }

    /// The tensor at `path`, which must have `rank` dimensions.
    pub fn get(&self, path: &str, rank: usize) -> Result<&Named, ExportError> {
        let tensor = self.tensors.get(path).ok_or_else(|| ExportError::Weights {
            path: path.to_string(),
            reason: "the model has no such tensor (the exporter and fdfat-models disagree on \
                     the architecture)"
                .into(),
        })?;
        if tensor.dims.len() != rank {
            return Err(ExportError::Weights {
                path: path.to_string(),
                reason: format!("expected rank {rank}, found shape {:?}", tensor.dims),
            });
        }
        Ok(tensor)
    }

    /// The per-channel vector at `path`, which must have `channels` values.
    pub fn vector(&self, path: &str, channels: usize) -> Result<&[f32], ExportError> {
        let tensor = self.get(path, 1)?;
        if tensor.dims[0] != channels {
            return Err(ExportError::Weights {
                path: path.to_string(),
                reason: format!("expected {channels} values, found {}", tensor.dims[0]),
            });
        }
        Ok(&tensor.values)
    }

    /// The convolution at `conv` (`<conv>.weight`, optional `<conv>.bias`) with the BatchNorm
    /// at `bn` (`gamma`, `beta`, `running_mean`, `running_var`).
    pub fn conv_bn(&self, conv: &str, bn: &str) -> Result<ConvBn, ExportError> {
        let weight = self.get(&format!("{conv}.weight"), 4)?;
        let c_out = weight.dims[0];
        let bias_path = format!("{conv}.bias");
        let bias = if self.contains(&bias_path) {
            Some(self.vector(&bias_path, c_out)?.to_vec())
        } else {
            None
        };
        let vector = |name: &str| {
            self.vector(&format!("{bn}.{name}"), c_out)
                .map(<[f32]>::to_vec)
        };
        Ok(ConvBn {
            dims: [
                weight.dims[0],
                weight.dims[1],
                weight.dims[2],
                weight.dims[3],
            ],
            weight: weight.values.clone(),
            bias,
            gamma: vector("gamma")?,
            beta: vector("beta")?,
            mean: vector("running_mean")?,
            var: vector("running_var")?,
        })
    }
}

/// A convolution and the BatchNorm after it, as stored.
#[derive(Debug, Clone, PartialEq)]
pub struct ConvBn {
    /// `[c_out, c_in / groups, kh, kw]`.
    pub dims: [usize; 4],
    /// Convolution weight.
    pub weight: Vec<f32>,
    /// Convolution bias, when it has one.
    pub bias: Option<Vec<f32>>,
    /// BatchNorm scale.
    pub gamma: Vec<f32>,
    /// BatchNorm shift.
    pub beta: Vec<f32>,
    /// BatchNorm running mean.
    pub mean: Vec<f32>,
    /// BatchNorm running variance.
    pub var: Vec<f32>,
}

impl ConvBn {
    /// The single convolution equal to this one followed by the BatchNorm in inference mode:
    /// `w' = w * g / sqrt(v + eps)` per output channel and `b' = (b - m) * g / sqrt(v + eps) +
    /// beta`, computed in float64.
    pub fn folded(&self) -> (Vec<f32>, Vec<f32>) {
        let c_out = self.dims[0];
        let per_channel = self.weight.len() / c_out;
        let mut weight = Vec::with_capacity(self.weight.len());
        let mut bias = Vec::with_capacity(c_out);
        for c in 0..c_out {
            let scale = f64::from(self.gamma[c]) / (f64::from(self.var[c]) + BN_EPSILON).sqrt();
            let w = &self.weight[c * per_channel..(c + 1) * per_channel];
            weight.extend(w.iter().map(|&v| (f64::from(v) * scale) as f32));
            let b = self.bias.as_ref().map_or(0.0, |b| f64::from(b[c]));
            bias.push(((b - f64::from(self.mean[c])) * scale + f64::from(self.beta[c])) as f32);
        }
        (weight, bias)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn folding_matches_convolution_then_batchnorm() {
        // a 1x1 convolution of 2 input channels to 2 output channels, on one input pixel
        let conv = ConvBn {
            dims: [2, 2, 1, 1],
            weight: vec![0.5, -1.0, 2.0, 0.25],
            bias: Some(vec![0.1, -0.2]),
            gamma: vec![1.5, 0.5],
            beta: vec![0.3, -0.4],
            mean: vec![0.2, 1.0],
            var: vec![4.0, 0.25],
        };
        let x = [0.7f64, -1.3];
        let (w, b) = conv.folded();
        for c in 0..2 {
            let y = f64::from(conv.weight[2 * c]) * x[0]
                + f64::from(conv.weight[2 * c + 1]) * x[1]
                + f64::from(conv.bias.as_ref().unwrap()[c]);
            let bn = (y - f64::from(conv.mean[c])) / (f64::from(conv.var[c]) + BN_EPSILON).sqrt()
                * f64::from(conv.gamma[c])
                + f64::from(conv.beta[c]);
            let folded =
                f64::from(w[2 * c]) * x[0] + f64::from(w[2 * c + 1]) * x[1] + f64::from(b[c]);
            assert!((bn - folded).abs() < 1e-6, "channel {c}: {bn} vs {folded}");
        }
    }
}
