//! The fused CPU inference engine for the fdfat models: the eval-mode forward pass of a
//! `fdfat-models` [`LandmarkModel`] (both architectures) with every BatchNorm folded into its
//! convolution, activations applied in the kernels' epilogues, C2f concatenations and pyramid
//! pools written into channel ranges instead of copied, NHWC feature maps in a few reused
//! buffers, and matrix products in the `gemm` crate (through [`fdfat_kernels::sgemm`]).
//! Single-threaded; nothing is allocated per call once a batch size was seen.
//!
//! ```no_run
//! use fdfat_infer::FusedModel;
//! use fdfat_models::LandmarkModel;
//!
//! let cfg = fdfat_config::resolve(None, &[]).unwrap();
//! let model = LandmarkModel::new(&cfg, &burn::tensor::Device::default()).unwrap();
//! let engine = FusedModel::from_model(&model).unwrap();
//! let image = vec![0.0f32; engine.input_len()]; // 3 x 96 x 96, NCHW, `pixel / 127.5 - 1`
//! let row = engine.run(&image, 1).unwrap();
//! assert_eq!(row.len(), engine.output_len());
//! ```
#![warn(missing_docs)]

mod activation;
mod kernels;
mod lower;
mod plan;

use fdfat_models::{LandmarkModel, ModelError};
use plan::{Kernel, Plan, Workspace};
use std::sync::{Mutex, PoisonError};
use std::time::Duration;

/// The eval-mode forward pass of a [`LandmarkModel`], compiled for the CPU.
#[derive(Debug)]
pub struct FusedModel {
    plan: Plan,
    workspace: Mutex<Workspace>,
}

/// The time one layer of a [`FusedModel`] took.
#[derive(Debug, Clone, PartialEq)]
pub struct LayerTime {
    /// The layer's module path (`mainstream.convp1.conv1`, `mainstream.pool0`).
    pub name: String,
    /// How it is computed (`gemm 1x1`, `im2col+gemm 3x3/2`, `direct 3x3/1`,
    /// `depthwise 3x3/1`, `stem 3x3/2`, `pool`).
    pub kind: String,
    /// Median time per call.
    pub median: Duration,
    /// Fastest call: the layer's own cost where other processes share the CPU.
    pub fastest: Duration,
}

impl FusedModel {
    /// The engine computing `model` (its current weights, as in eval mode).
    pub fn from_model(model: &LandmarkModel) -> Result<Self, ModelError> {
        Ok(Self {
            plan: lower::lower(model)?,
            workspace: Mutex::new(Workspace::default()),
        })
    }

    /// Values of one input image: `3 x imgsz x imgsz`.
    pub fn input_len(&self) -> usize {
        self.plan.input.len()
    }

    /// Values of one output row, as [`LandmarkModel::output_len`].
    pub fn output_len(&self) -> usize {
        self.plan.output.channels
    }

    /// The instruction set the hand-written kernels use on this CPU (`AVX-512`, `AVX2`,
    /// `baseline`).
    pub fn instruction_set(&self) -> &'static str {
        self.plan.isa.name()
    }

    /// The output rows (`n x output_len()`) for `n` images in `input`, laid out as the
    /// model's input tensor `[n, 3, imgsz, imgsz]`.
    pub fn run(&self, input: &[f32], n: usize) -> Result<Vec<f32>, ModelError> {
        let mut output = vec![0.0; n * self.output_len()];
        self.run_into(input, n, &mut output)?;
        Ok(output)
    }

    /// As [`Self::run`], into `output` (`n x output_len()` values), allocating nothing once
    /// a batch of `n` or more was run.
    pub fn run_into(&self, input: &[f32], n: usize, output: &mut [f32]) -> Result<(), ModelError> {
        self.check(input, n, output)?;
        let mut ws = self
            .workspace
            .lock()
            .unwrap_or_else(PoisonError::into_inner);
        self.plan.run(&mut ws, input, n, output, None);
        Ok(())
    }

    /// The median and fastest time of each layer over `runs` calls on `input` (`n` images),
    /// after one untimed call.
    pub fn profile(
        &self,
        input: &[f32],
        n: usize,
        runs: usize,
    ) -> Result<Vec<LayerTime>, ModelError> {
        let mut output = vec![0.0; n * self.output_len()];
        self.run_into(input, n, &mut output)?;
        let steps = self.plan.steps.len();
        let mut samples = vec![Vec::with_capacity(runs); steps];
        let mut ws = self
            .workspace
            .lock()
            .unwrap_or_else(PoisonError::into_inner);
        for _ in 0..runs.max(1) {
            let mut times = vec![Duration::ZERO; steps];
            self.plan
                .run(&mut ws, input, n, &mut output, Some(&mut times));
            for (sample, time) in samples.iter_mut().zip(times) {
                sample.push(time);
            }
        }
        Ok(self
            .plan
            .steps
            .iter()
            .zip(samples)
            .map(|(step, mut times)| {
                times.sort();
                LayerTime {
                    name: step.name.clone(),
                    kind: describe(&step.kernel),
                    median: times[times.len() / 2],
                    fastest: times[0],
                }
            })
            .collect())
    }

    /// An error unless `input` holds `n >= 1` images and `output` `n` rows.
    fn check(&self, input: &[f32], n: usize, output: &[f32]) -> Result<(), ModelError> {
        let shape = self.plan.input;
        let dims = [n, shape.c, shape.h, shape.w];
        let invalid = |reason: String| ModelError::InvalidInput { dims, reason };
        if n == 0 {
            return Err(invalid("the batch is empty".into()));
        }
        if input.len() != n * shape.len() {
            return Err(invalid(format!(
                "expected {} values ({n} x {} x {} x {}), got {}",
                n * shape.len(),
                shape.c,
                shape.h,
                shape.w,
                input.len()
            )));
        }
        if output.len() != n * self.output_len() {
            return Err(invalid(format!(
                "the output buffer has {} values, expected {n} rows of {}",
                output.len(),
                self.output_len()
            )));
        }
        Ok(())
    }
}

/// How a step is computed, for [`LayerTime::kind`].
fn describe(kernel: &Kernel) -> String {
    match kernel {
        Kernel::Stem(k) => format!("stem {0}x{0}/{1}", k.window.kernel, k.window.stride),
        Kernel::Pointwise(k) if k.residual.is_some() => "gemm 1x1 + residual".into(),
        Kernel::Pointwise(_) => "gemm 1x1".into(),
        Kernel::Dense(k) => format!("im2col+gemm {0}x{0}/{1}", k.window.kernel, k.window.stride),
        Kernel::Direct(k) => format!("direct {0}x{0}/{1}", k.window.kernel, k.window.stride),
        Kernel::Depthwise(k) => format!("depthwise {0}x{0}/{1}", k.window.kernel, k.window.stride),
        Kernel::Pool(_) => "pool".into(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use burn::module::Module;
    use burn::tensor::{Device, Distribution, Tensor};

    fn engine(flags: &[(&str, &str)]) -> FusedModel {
        let cfg = fdfat_config::resolve_flags(flags).unwrap();
        let model = LandmarkModel::new(&cfg, &Device::default()).unwrap();
        FusedModel::from_model(&model.no_grad()).unwrap()
    }

    fn input(n: usize) -> Vec<f32> {
        Tensor::<4>::random(
            [n, 3, 96, 96],
            Distribution::Uniform(-1.0, 1.0),
            &Device::default(),
        )
        .into_data()
        .try_into_vec::<f32>()
        .unwrap()
    }

    #[test]
    fn every_instruction_set_gives_the_same_outputs() {
        for flags in [
            &[
                ("model", "LWModel"),
                ("face_cls", "true"),
                ("muliplier", "0.75"),
            ][..],
            &[
                ("model", "LWCSPModel"),
                ("activation", "SiLU"),
                ("aux_pose", "true"),
            ][..],
        ] {
            let mut engine = engine(flags);
            let x = input(2);
            let best = engine.run(&x, 2).unwrap();
            for isa in fdfat_simd::Isa::supported() {
                engine.plan.isa = isa;
                let got = engine.run(&x, 2).unwrap();
                let worst = got
                    .iter()
                    .zip(&best)
                    .map(|(a, b)| (a - b).abs())
                    .fold(0.0f32, f32::max);
                assert!(worst < 1e-5, "{isa:?}: max abs difference {worst}");
            }
        }
    }

    #[test]
    fn buffers_are_shared_and_reused_across_batch_sizes() {
        let engine = engine(&[("model", "LWCSPModel"), ("face_cls", "true")]);
        // every C2f, stage and head writes fresh values, yet a handful of buffers hold them
        assert!(
            engine.plan.buffers() <= 6,
            "{} buffers",
            engine.plan.buffers()
        );
        let x = input(3);
        let len = engine.input_len();
        let one = engine.run(&x[..len], 1).unwrap();
        let three = engine.run(&x, 3).unwrap();
        let again = engine.run(&x[..len], 1).unwrap();
        assert_eq!(one, again);
        assert_eq!(one, three[..engine.output_len()]);
    }
}
