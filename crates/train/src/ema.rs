//! [`Ema`]: an exponential moving average of the model's weights (`ema`, `ema_decay`), as
//! ultralytics' `ModelEMA` keeps it: after every optimizer step each float tensor (parameters
//! and BatchNorm running statistics) moves to `d * ema + (1 - d) * live`, the decay ramping up
//! as `d = ema_decay * (1 - exp(-updates / 2000))` so that the average follows the fast early
//! changes. The average is what is validated and saved as `best`; `last_ema.bpk` beside
//! `last.bpk` (the live weights) lets a killed run resume it exactly.

use burn::module::{Module, ModuleMapper, ModuleVisitor, Param, ParamId};
use burn::tensor::Tensor;
use fdfat_models::LandmarkModel;
use std::collections::HashMap;

/// Updates over which the decay ramps up.
const RAMP: f64 = 2000.0;

/// The moving average of a model's weights.
#[derive(Debug, Clone)]
pub struct Ema {
    model: LandmarkModel,
    decay: f64,
    updates: u64,
}

impl Ema {
    /// An average starting at `model`'s weights after `updates` updates (0 for a new run).
    pub fn new(model: &LandmarkModel, decay: f64, updates: u64) -> Self {
        Self {
            model: model.clone(),
            decay,
            updates,
        }
    }

    /// The averaged model.
    pub fn model(&self) -> &LandmarkModel {
        &self.model
    }

    /// Updates made so far.
    pub fn updates(&self) -> u64 {
        self.updates
    }

    /// The decay of the next update.
    pub fn next_decay(&self) -> f64 {
        self.decay * (1.0 - (-((self.updates + 1) as f64) / RAMP).exp())
    }

    /// Moves the average towards `live` (the model after an optimizer step).
    pub fn update(&mut self, live: &LandmarkModel) {
        let decay = self.next_decay();
        let mut values = Values(HashMap::new());
        live.visit(&mut values);
        let mut blend = Blend {
            live: values.0,
            decay,
        };
        self.model = self.model.clone().map(&mut blend);
        self.updates += 1;
    }
}

/// Collects every float tensor of a model, flattened, by parameter id.
struct Values(HashMap<ParamId, Tensor<1>>);

impl ModuleVisitor for Values {
    fn visit_float<const D: usize>(&mut self, param: &Param<Tensor<D>>) {
        let value = param.val().detach();
        let n = value.shape().num_elements();
        self.0.insert(param.id, value.reshape([n]));
    }
}

/// `decay * average + (1 - decay) * live`, tensor by tensor (same ids: the average started
/// as a clone of the live model).
struct Blend {
    live: HashMap<ParamId, Tensor<1>>,
    decay: f64,
}

impl ModuleMapper for Blend {
    fn map_float<const D: usize>(&mut self, param: Param<Tensor<D>>) -> Param<Tensor<D>> {
        let (id, average, mapper) = param.consume();
        let Some(live) = self.live.remove(&id) else {
            return Param::from_mapped_value(id, average, mapper);
        };
        let shape = average.shape();
        let blended = average.detach().mul_scalar(self.decay)
            + live.reshape(shape).mul_scalar(1.0 - self.decay);
        Param::from_mapped_value(id, blended, mapper)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use burn::tensor::Device;

    fn model(seed: u64) -> LandmarkModel {
        let device = Device::default();
        device.seed(seed);
        let cfg = fdfat_config::resolve_flags(&[("imgsz", "64")]).unwrap();
        LandmarkModel::new(&cfg, &device).unwrap()
    }

    fn first_weights(m: &LandmarkModel) -> Vec<f32> {
        let mut values = Values(HashMap::new());
        m.visit(&mut values);
        let mut all: Vec<(ParamId, Tensor<1>)> = values.0.into_iter().collect();
        all.sort_by_key(|(id, _)| *id);
        all[0].1.clone().into_data().try_to_vec::<f32>().unwrap()
    }

    #[test]
    fn the_average_moves_by_one_minus_the_ramped_decay() {
        let start = model(1);
        let mut ema = Ema::new(&start, 0.9999, 0);
        // a "live" model with other values but the same parameter ids
        let other = model(2);
        let mut shifted = Values(HashMap::new());
        other.visit(&mut shifted);
        let live = start.clone().map(&mut Blend {
            live: shifted.0,
            decay: 0.0,
        });
        let d = ema.next_decay();
        assert!((d - 0.9999 * (1.0 - (-1.0f64 / 2000.0).exp())).abs() < 1e-12);
        ema.update(&live);
        assert_eq!(ema.updates(), 1);
        let (a, l, e) = (
            first_weights(&start),
            first_weights(&live),
            first_weights(ema.model()),
        );
        for ((a, l), e) in a.iter().zip(&l).zip(&e) {
            let want = d as f32 * a + (1.0 - d as f32) * l;
            assert!((e - want).abs() < 1e-6, "{e} vs {want}");
        }
        // late in a run the decay approaches ema_decay
        assert!(Ema::new(&start, 0.9999, 100_000).next_decay() > 0.9998);
    }
}
