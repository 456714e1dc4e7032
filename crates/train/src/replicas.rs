//! Model replicas, one per training device.
//!
//! One device trains in the calling thread. Several devices (`device: cuda:0,1` or `cuda:all`)
//! train data-parallel with burn's own distributed machinery (`burn::tensor::distributed`, what
//! `burn::train`'s DDP strategy runs on): every replica starts as a copy of the same model, takes
//! a contiguous shard of every batch in a thread of its own, and marks its trainable parameters
//! distributed, so that burn all-reduces (averages) their gradients across the devices during the
//! backward pass. Each replica then applies the same optimizer step to the same gradients, so the
//! replicas stay equal and the first one is the model that is validated and checkpointed.
//!
//! As in PyTorch's DDP without SyncBatchNorm, BatchNorm normalises by the statistics of each
//! replica's shard; the running statistics saved are those of the first replica.

use crate::error::TrainError;
use crate::objective::BatchFigures;
use burn::module::{Module, ModuleMapper, Param};
use burn::optim::{GradientsParams, ModuleOptimizer};
use burn::tensor::Device;
use burn::tensor::Tensor;
use burn::tensor::distributed::{DistributedConfig, DistributedContext, ReduceOperation};
use fdfat_data::Batch;
use fdfat_models::LandmarkModel;

/// What a replica computes on its shard before the backward pass: the loss and its figures.
/// It cannot fail: a replica that stopped before its backward pass would leave the others
/// waiting in the all-reduce. (A non-finite loss is the caller's to check in the figures.)
pub(crate) type Forward<'a> =
    dyn Fn(&LandmarkModel, &Batch, &Device) -> (Tensor<1>, BatchFigures) + Sync + 'a;

/// One model, its optimizer and its device.
struct Replica {
    /// The autodiff device the replica trains on.
    device: Device,
    /// `None` only while an optimizer step owns it.
    model: Option<LandmarkModel>,
    optim: ModuleOptimizer,
}

/// The training replicas.
pub(crate) struct Replicas {
    replicas: Vec<Replica>,
    /// Keeps burn's communication server alive while several replicas train (dropped after
    /// the replicas, as fields drop in order).
    _context: Option<DistributedContext>,
}

impl Replicas {
    /// Replicas of `model` (built on the autodiff version of `devices[0]`) on each of
    /// `devices`, each with an optimizer from `optimizer`.
    pub(crate) fn new(
        model: LandmarkModel,
        devices: &[Device],
        optimizer: impl Fn() -> Result<ModuleOptimizer, TrainError>,
    ) -> Result<Self, TrainError> {
        if devices.len() <= 1 {
            let device = devices.first().cloned().unwrap_or_default().autodiff();
            return Ok(Self {
                replicas: vec![Replica {
                    device,
                    model: Some(model),
                    optim: optimizer()?,
                }],
                _context: None,
            });
        }
        let context = DistributedContext::init(
            devices.to_vec(),
            DistributedConfig {
                all_reduce_op: ReduceOperation::Mean,
            },
        );
        let replicas = devices
            .iter()
            .map(|device| {
                let device = device.clone().autodiff();
                let copy = model.clone().fork(&device).map(&mut SyncGradients);
                Ok(Replica {
                    device,
                    model: Some(copy),
                    optim: optimizer()?,
                })
            })
            .collect::<Result<_, TrainError>>()?;
        Ok(Self {
            replicas,
            _context: Some(context),
        })
    }

    /// How many replicas train.
    pub(crate) fn len(&self) -> usize {
        self.replicas.len()
    }

    /// The first replica's model: the one validated and saved.
    pub(crate) fn model(&self) -> &LandmarkModel {
        self.replicas[0]
            .model
            .as_ref()
            .expect("a replica owns its model between steps")
    }

    /// The first replica's optimizer: the one saved.
    pub(crate) fn optimizer(&self) -> &ModuleOptimizer {
        &self.replicas[0].optim
    }

    /// One optimisation step at learning rate `lr` on `batch`, each replica on its shard; the
    /// figures of each shard. A batch smaller than the number of replicas is skipped (every
    /// replica must take part in the gradient all-reduce).
    pub(crate) fn step(
        &mut self,
        batch: &Batch,
        lr: f64,
        forward: &Forward<'_>,
    ) -> Vec<BatchFigures> {
        if self.replicas.len() == 1 {
            return vec![self.replicas[0].step(batch, lr, forward)];
        }
        let shards = batch.shards(self.replicas.len());
        if shards.len() < self.replicas.len() {
            return Vec::new();
        }
        std::thread::scope(|scope| {
            let running: Vec<_> = self
                .replicas
                .iter_mut()
                .zip(&shards)
                .map(|(replica, shard)| scope.spawn(move || replica.step(shard, lr, forward)))
                .collect();
            running
                .into_iter()
                .map(|thread| {
                    thread
                        .join()
                        .unwrap_or_else(|panic| std::panic::resume_unwind(panic))
                })
                .collect()
        })
    }
}

impl Replica {
    fn step(&mut self, batch: &Batch, lr: f64, forward: &Forward<'_>) -> BatchFigures {
        let model = self
            .model
            .take()
            .expect("a replica owns its model between steps");
        let (loss, figures) = forward(&model, batch, &self.device);
        let grads = GradientsParams::from_grads(loss.backward(), &model);
        self.model = Some(self.optim.step(lr, model, grads));
        figures
    }
}

/// Marks every trainable parameter distributed: burn then averages its gradient over the
/// replicas during the backward pass (`burn::train`'s DDP does the same to its model).
struct SyncGradients;

impl ModuleMapper for SyncGradients {
    fn map_float<const D: usize>(&mut self, param: Param<Tensor<D>>) -> Param<Tensor<D>> {
        let (id, tensor, mapper) = param.consume();
        let tensor = if tensor.is_require_grad() {
            tensor.set_distributed(id)
        } else {
            tensor
        };
        Param::from_mapped_value(id, tensor, mapper)
    }
}
