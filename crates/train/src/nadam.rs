//! NAdam (Adam with Nesterov momentum) with PyTorch's `torch.optim.NAdam` semantics, the
//! original fdfat's default optimizer. burn 0.22 has no NAdam; this plugs into burn's
//! [`ModuleOptimizer`] like its own optimizers.
//!
//! For step `t` (1-based), with `psi` the momentum decay (0.004):
//! ```text
//! mu_t      = beta1 * (1 - 0.5 * 0.96^(t * psi))
//! mu_next   = beta1 * (1 - 0.5 * 0.96^((t + 1) * psi))
//! prod_t    = prod_{t-1} * mu_t                      (prod_0 = 1)
//! m_t       = beta1 * m_{t-1} + (1 - beta1) * g
//! v_t       = beta2 * v_{t-1} + (1 - beta2) * g^2
//! m_hat     = mu_next * m_t / (1 - prod_t * mu_next) + (1 - mu_t) * g / (1 - prod_t)
//! v_hat     = v_t / (1 - beta2^t)
//! theta_t   = theta_{t-1} - lr * m_hat / (sqrt(v_hat) + eps)
//! ```
//! Weight decay, when set, adds `weight_decay * theta` to the gradient first (PyTorch's
//! non-decoupled default).

use burn::optim::{ModuleOptimizer, Optimizer, RecordState, StateSink, StateSource};
use burn::tensor::{Device, Tensor};
use burn_pack::Scalar;

/// NAdam hyper-parameters (PyTorch defaults).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct NAdamConfig {
    /// First-moment decay.
    pub beta_1: f64,
    /// Second-moment decay.
    pub beta_2: f64,
    /// Denominator term for numerical stability.
    pub epsilon: f64,
    /// L2 penalty added to the gradient.
    pub weight_decay: f64,
    /// Momentum decay `psi`.
    pub momentum_decay: f64,
}

impl Default for NAdamConfig {
    fn default() -> Self {
        Self {
            beta_1: 0.9,
            beta_2: 0.999,
            epsilon: 1e-8,
            weight_decay: 0.0,
            momentum_decay: 0.004,
        }
    }
}

impl NAdamConfig {
    /// A module optimizer applying NAdam to every parameter.
    pub fn init(self) -> ModuleOptimizer {
        ModuleOptimizer::from(NAdam { config: self })
    }
}

/// The NAdam update rule (see the module documentation).
#[derive(Debug, Clone)]
pub struct NAdam {
    config: NAdamConfig,
}

/// Per-parameter NAdam state.
#[derive(Clone)]
pub struct NAdamState<const D: usize> {
    /// Steps taken.
    pub time: usize,
    /// Product of the momentum coefficients `mu_1 ... mu_t`.
    pub mu_product: f64,
    /// First moment.
    pub moment_1: Tensor<D>,
    /// Second moment.
    pub moment_2: Tensor<D>,
}

impl NAdam {
    fn mu(&self, t: usize) -> f64 {
        let c = &self.config;
        c.beta_1 * (1.0 - 0.5 * 0.96f64.powf(t as f64 * c.momentum_decay))
    }
}

impl Optimizer for NAdam {
    type State<const D: usize> = NAdamState<D>;

    fn step<const D: usize>(
        &self,
        lr: f64,
        tensor: Tensor<D>,
        mut grad: Tensor<D>,
        state: Option<Self::State<D>>,
    ) -> (Tensor<D>, Option<Self::State<D>>) {
        let c = &self.config;
        if c.weight_decay != 0.0 {
            grad = grad + tensor.clone().mul_scalar(c.weight_decay);
        }
        let (time, mu_product, m, v) = match state {
            Some(s) => (s.time, s.mu_product, s.moment_1, s.moment_2),
            None => (0, 1.0, grad.zeros_like(), grad.zeros_like()),
        };
        let t = time + 1;
        let mu_t = self.mu(t);
        let mu_next = self.mu(t + 1);
        let mu_product = mu_product * mu_t;
        let moment_1 = m.mul_scalar(c.beta_1) + grad.clone().mul_scalar(1.0 - c.beta_1);
        let moment_2 = v.mul_scalar(c.beta_2) + grad.clone().square().mul_scalar(1.0 - c.beta_2);
        let bias_2 = 1.0 - c.beta_2.powi(t as i32);
        let denom = moment_2
            .clone()
            .div_scalar(bias_2)
            .sqrt()
            .add_scalar(c.epsilon);
        let m_hat = moment_1
            .clone()
            .mul_scalar(mu_next / (1.0 - mu_product * mu_next))
            + grad.mul_scalar((1.0 - mu_t) / (1.0 - mu_product));
        let updated = tensor - m_hat.div(denom).mul_scalar(lr);
        let state = NAdamState {
            time: t,
            mu_product,
            moment_1,
            moment_2,
        };
        (updated, Some(state))
    }

    fn to_device<const D: usize>(state: Self::State<D>, device: &Device) -> Self::State<D> {
        NAdamState {
            moment_1: state.moment_1.to_device(device),
            moment_2: state.moment_2.to_device(device),
            ..state
        }
    }
}

impl<const D: usize> RecordState for NAdamState<D> {
    fn state_flatten(&self, prefix: &str, out: &mut StateSink) {
        out.push_scalar(prefix, "time", Scalar::from(self.time as u64));
        out.push_scalar(prefix, "mu_product", Scalar::from(self.mu_product));
        out.push_tensor(prefix, "moment_1", self.moment_1.to_data());
        out.push_tensor(prefix, "moment_2", self.moment_2.to_data());
    }

    fn state_unflatten(prefix: &str, src: &mut StateSource, device: &Device) -> Option<Self> {
        let time = u64::try_from(src.take_scalar(prefix, "time")?).ok()? as usize;
        let mu_product = f64::try_from(src.take_scalar(prefix, "mu_product")?).ok()?;
        let moment_1 = Tensor::from_data(src.take_tensor(prefix, "moment_1")?, device);
        let moment_2 = Tensor::from_data(src.take_tensor(prefix, "moment_2")?, device);
        Some(Self {
            time,
            mu_product,
            moment_1,
            moment_2,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use burn::tensor::TensorData;

    fn tensor(values: &[f32]) -> Tensor<1> {
        Tensor::from_data(TensorData::from(values), &Device::default())
    }

    fn values(t: &Tensor<1>) -> Vec<f32> {
        t.clone().try_into_vec_as().unwrap()
    }

    /// Reference values computed from the definition (PyTorch NAdam, defaults, lr 0.1) in f64.
    fn reference(theta: f64, grads: &[f64], lr: f64) -> f64 {
        let (b1, b2, eps, psi) = (0.9f64, 0.999f64, 1e-8f64, 0.004f64);
        let mu = |t: f64| b1 * (1.0 - 0.5 * 0.96f64.powf(t * psi));
        let (mut m, mut v, mut prod, mut theta) = (0.0, 0.0, 1.0, theta);
        for (i, g) in grads.iter().enumerate() {
            let t = (i + 1) as f64;
            let (mu_t, mu_next) = (mu(t), mu(t + 1.0));
            prod *= mu_t;
            m = b1 * m + (1.0 - b1) * g;
            v = b2 * v + (1.0 - b2) * g * g;
            let m_hat = mu_next * m / (1.0 - prod * mu_next) + (1.0 - mu_t) * g / (1.0 - prod);
            let v_hat = v / (1.0 - b2.powf(t));
            theta -= lr * m_hat / (v_hat.sqrt() + eps);
        }
        theta
    }

    #[test]
    fn first_step_matches_the_definition() {
        let nadam = NAdam {
            config: NAdamConfig::default(),
        };
        let (theta, _) = nadam.step(
            0.1,
            tensor(&[1.0, -2.0, 0.5]),
            tensor(&[0.3, -0.1, 2.0]),
            None,
        );
        let got = values(&theta);
        // Hand value for theta=1, g=0.3: mu1=0.9*(1-0.5*0.96^0.004)=0.45007347,
        // mu2=0.45014694; m_hat=0.45014694*0.03/(1-0.45007347*0.45014694)+0.54992653*0.3/0.54992653
        // = 0.0169355+0.3 = 0.3169355, v_hat = 0.09, theta = 1 - 0.1*0.3169355/0.3 = 0.8943548.
        assert!((got[0] - 0.894_354_8).abs() < 1e-6, "{got:?}");
        for (i, (t0, g)) in [(1.0, 0.3), (-2.0, -0.1), (0.5, 2.0)]
            .into_iter()
            .enumerate()
        {
            assert!((got[i] as f64 - reference(t0, &[g], 0.1)).abs() < 1e-6);
        }
    }

    #[test]
    fn several_steps_carry_state_like_the_definition() {
        let nadam = NAdam {
            config: NAdamConfig::default(),
        };
        let grads = [0.3, -0.2, 0.05, 0.4];
        let mut theta = tensor(&[1.0]);
        let mut state = None;
        for g in grads {
            let (next, s) = nadam.step(0.01, theta, tensor(&[g as f32]), state);
            theta = next;
            state = s;
        }
        let expected = reference(1.0, &grads, 0.01);
        assert!((values(&theta)[0] as f64 - expected).abs() < 1e-6);
        let state = state.unwrap();
        let mut sink = StateSink::default();
        state.state_flatten("p", &mut sink);
        let mut source = StateSource::new(sink.scalars.into_iter().collect());
        for (name, data) in sink.tensors {
            source.insert_tensor(name, data);
        }
        let back = NAdamState::<1>::state_unflatten("p", &mut source, &Device::default()).unwrap();
        assert_eq!((back.time, back.mu_product), (4, state.mu_product));
        assert_eq!(values(&back.moment_2), values(&state.moment_2));
    }
}
