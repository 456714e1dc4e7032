//! The per-block table of `fdfat --task info`: parameters and multiply-adds of each block at
//! the configured input size, and the totals.

use crate::cost::{Feature, Walk};
use crate::error::ModelError;
use crate::model::LandmarkModel;
use crate::spec::ModelSpec;
use burn::module::Module;
use burn::store::ModuleSnapshot;
use burn::tensor::Device;
use fdfat_config::Config;
use std::fmt;

/// One block of the table.
#[derive(Debug, Clone, PartialEq)]
pub struct BlockRow {
    /// Block path, as in checkpoints (`backbone.conv21`, `logit`).
    pub name: String,
    /// Output of one image: `CxHxW` for feature maps, the vector length for heads.
    pub output: String,
    /// Trainable parameters.
    pub params: usize,
    /// Multiply-adds of the convolutions and linear layers for one image.
    pub macs: u64,
}

/// Parameters and multiply-adds of a model, per block and in total.
#[derive(Debug, Clone, PartialEq)]
pub struct ModelSummary {
    /// What the model is.
    pub spec: ModelSpec,
    /// The blocks in execution order.
    pub rows: Vec<BlockRow>,
    /// Trainable parameters (what PyTorch's `parameters()` counts).
    pub params: usize,
    /// Parameters frozen by `freeze_landmark` (included in `params`).
    pub frozen_params: usize,
    /// BatchNorm running means and variances (buffers, not parameters).
    pub running_stats: usize,
    /// Multiply-adds per image.
    pub macs: u64,
}

/// The summary of the model `cfg` describes, built on the default device.
pub fn model_summary(cfg: &Config) -> Result<ModelSummary, ModelError> {
    LandmarkModel::new(cfg, &Device::default())?.summary()
}

/// Trainable parameters and BatchNorm running statistics of a module, in elements.
pub(crate) fn count_elements<M: Module>(module: &M) -> (usize, usize) {
    let mut trainable = 0;
    let mut running = 0;
    for tensor in module.collect(None, None, true) {
        let n: usize = tensor.shape.iter().product();
        if is_running_stat(&tensor.name) {
            running += n;
        } else {
            trainable += n;
        }
    }
    (trainable, running)
}

/// Whether a tensor path names a BatchNorm running statistic.
pub(crate) fn is_running_stat(path: &str) -> bool {
    path.ends_with("running_mean") || path.ends_with("running_var")
}

/// Collects [`BlockRow`]s while walking feature shapes through a model.
#[derive(Debug)]
pub(crate) struct Rows {
    /// The rows so far.
    pub rows: Vec<BlockRow>,
    /// Whether rows count their block's parameters (not needed to check shapes).
    count_params: bool,
}

/// A block that cannot take its input: its name and why.
#[derive(Debug)]
pub(crate) struct BlockError {
    pub block: String,
    pub reason: String,
}

impl Rows {
    /// Rows with parameter counts, for the summary.
    pub fn with_params() -> Self {
        Self {
            rows: Vec::new(),
            count_params: true,
        }
    }

    /// Rows without parameter counts, to check that shapes fit.
    pub fn shapes_only() -> Self {
        Self {
            rows: Vec::new(),
            count_params: false,
        }
    }

    /// Records `module` named `name` with the result of walking it; returns its output shape.
    pub fn feature<M: Module>(
        &mut self,
        name: &str,
        module: &M,
        walk: Walk,
    ) -> Result<Feature, BlockError> {
        let (output, macs) = walk.map_err(|reason| BlockError {
            block: name.to_string(),
            reason,
        })?;
        self.push(name, module, output.to_string(), macs);
        Ok(output)
    }

    /// Records a head `name` producing a vector of `len` values with `macs` multiply-adds.
    pub fn head<M: Module>(&mut self, name: &str, module: &M, len: usize, macs: u64) {
        self.push(name, module, format!("{len}"), macs);
    }

    fn push<M: Module>(&mut self, name: &str, module: &M, output: String, macs: u64) {
        self.rows.push(BlockRow {
            name: name.to_string(),
            output,
            params: if self.count_params {
                count_elements(module).0
            } else {
                0
            },
            macs,
        });
    }
}

/// `1234567` as `1,234,567`.
fn grouped(n: u64) -> String {
    let digits = n.to_string();
    let mut out = String::new();
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    out
}

impl fmt::Display for ModelSummary {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(f, "{}", self.spec)?;
        let name_width = self
            .rows
            .iter()
            .map(|r| r.name.len())
            .max()
            .unwrap_or(5)
            .max(5);
        writeln!(
            f,
            "{:<name_width$}  {:>12}  {:>10}  {:>12}",
            "block", "output", "params", "mult-adds"
        )?;
        for row in &self.rows {
            writeln!(
                f,
                "{:<name_width$}  {:>12}  {:>10}  {:>12}",
                row.name,
                row.output,
                grouped(row.params as u64),
                grouped(row.macs)
            )?;
        }
        writeln!(
            f,
            "total: {} trainable parameters{}, {} BatchNorm running statistics, {} multiply-adds \
             ({:.1} M) per {}x{} image",
            grouped(self.params as u64),
            if self.frozen_params > 0 {
                format!(" ({} frozen)", grouped(self.frozen_params as u64))
            } else {
                String::new()
            },
            grouped(self.running_stats as u64),
            grouped(self.macs),
            self.macs as f64 / 1e6,
            self.spec.imgsz,
            self.spec.imgsz
        )
    }
}

#[cfg(test)]
mod tests {
    use super::grouped;

    #[test]
    fn thousands_are_grouped() {
        assert_eq!(grouped(0), "0");
        assert_eq!(grouped(999), "999");
        assert_eq!(grouped(429_206), "429,206");
        assert_eq!(grouped(33_206_880), "33,206,880");
    }
}
