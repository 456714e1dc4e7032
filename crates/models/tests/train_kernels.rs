//! A whole training step of both models (forward, L1 loss, backward, SGD step) equal on the
//! training kernels of `fdfat-kernels` and on burn's own operations on the CPU
//! ([`fdfat_kernels::with_reference_ops`]): outputs and every weight after the step within
//! 1e-5 for the CPU kernels, 1e-4 for the GPU's (with `--features wgpu`; Mesa's lavapipe where
//! no GPU is present). The kernels' own tests compare each operation alone.

use burn::module::{Module, ModuleVisitor, Param};
use burn::optim::{GradientsParams, SgdConfig};
use burn::tensor::{Device, Distribution, Tensor, TensorData};
use fdfat_kernels::with_reference_ops;
use fdfat_models::LandmarkModel;

/// How far the CPU kernels' step may be from the reference, relative to `max(1, |value|)`.
/// Each kernel stays within 1e-5 of burn's operation (`fdfat-kernels`' tests); through the
/// forty-odd layers of LWCSPModel, with BatchNorm over six samples, the two routes' rounding
/// (different summation orders) reaches about 1e-5 on random inputs, so the whole step gets
/// twice that.
const TOLERANCE: f32 = 2e-5;

/// The flex autodiff device, where the kernels take `f32` tensors.
fn device() -> Device {
    Device::flex().autodiff()
}

/// Fixed random values (the same for both routes).
fn data(shape: [usize; 4], low: f64, high: f64) -> TensorData {
    Tensor::<4>::random(shape, Distribution::Uniform(low, high), &Device::flex()).into_data()
}

/// Every float tensor of a module, flattened, in visiting order.
struct Floats(Vec<Vec<f32>>);

impl ModuleVisitor for Floats {
    fn visit_float<const D: usize>(&mut self, param: &Param<Tensor<D>>) {
        let values = param
            .val()
            .into_data()
            .try_to_vec::<f32>()
            .expect("f32 parameters");
        self.0.push(values);
    }
}

fn floats(model: &LandmarkModel) -> Vec<Vec<f32>> {
    let mut visitor = Floats(Vec::new());
    model.clone().valid().visit(&mut visitor);
    visitor.0
}

/// One training step (forward, L1 loss, backward, SGD step at the configured learning rate
/// `lr`) of `model` on `device` (burn's own operations with `reference`); the outputs and the
/// model after the step. SGD moves each weight by `lr` times its gradient, so equal weights
/// after the step mean equal gradients.
fn train_step(
    model: LandmarkModel,
    x: &TensorData,
    lr: f64,
    (device, reference): (&Device, bool),
) -> (Vec<f32>, LandmarkModel) {
    let model = model.fork(device);
    let x = Tensor::<4>::from_data(x.clone(), device);
    let target = Tensor::<2>::full([x.dims()[0], model.output_len()], 0.1, device);
    let forward = || model.forward(x.clone());
    let out = if reference {
        with_reference_ops(forward)
    } else {
        forward()
    };
    let loss = (out.clone() - target).abs().mean();
    let grads = GradientsParams::from_grads(loss.backward(), &model);
    let model = SgdConfig::new().init().step(lr, model, grads);
    (
        out.into_data().try_to_vec::<f32>().expect("f32 outputs"),
        model,
    )
}

/// Asserts a training step of both models on `device`'s kernels equals the reference step on
/// the CPU within `tolerance`.
fn step_matches_the_reference(device: &Device, tolerance: f32) {
    for (kind, activation) in [("LWModel", "ReLU6"), ("LWCSPModel", "SiLU")] {
        let cfg = fdfat_config::resolve_flags(&[
            ("model", kind),
            ("activation", activation),
            ("face_cls", "true"),
        ])
        .expect("valid configuration");
        let model = LandmarkModel::new(&cfg, &self::device()).expect("model builds");
        // Six samples: BatchNorm over fewer values (3x3 maps at the end of LWCSPModel) turns
        // float rounding into differences near the tolerance.
        let x = data([6, 3, 96, 96], -1.0, 1.0);
        let (out0, model0) = train_step(model.clone(), &x, cfg.lr, (&self::device(), true));
        let (out1, model1) = train_step(model, &x, cfg.lr, (device, false));
        let worst = |a: &[f32], b: &[f32]| {
            a.iter()
                .zip(b)
                .map(|(x, y)| (x - y).abs() / x.abs().max(1.0))
                .fold(0.0f32, f32::max)
        };
        let d = worst(&out0, &out1);
        assert!(d <= tolerance, "{kind} outputs differ by {d}");
        let (w0, w1) = (floats(&model0), floats(&model1));
        assert_eq!(w0.len(), w1.len());
        for (i, (a, b)) in w0.iter().zip(&w1).enumerate() {
            let d = worst(a, b);
            assert!(
                d <= tolerance,
                "{kind} tensor {i} differs by {d} after the step"
            );
        }
    }
}

#[test]
fn a_training_step_equals_the_reference_route() {
    step_matches_the_reference(&device(), TOLERANCE);
}

/// On wgpu (a GPU, or Mesa's lavapipe), with this build's GPU kernels, autotune and fusion;
/// skipped with a notice where there is no adapter, except under `CI=true`.
#[cfg(feature = "wgpu")]
#[test]
fn a_training_step_on_the_gpu_equals_the_reference_route_on_the_cpu() {
    use burn::tensor::{DeviceKind, DeviceType};
    if Device::enumerate(DeviceType::Wgpu).into_vec().is_empty() {
        let notice = "no wgpu adapter (install Mesa's lavapipe: mesa-vulkan-drivers)";
        assert!(std::env::var("CI").as_deref() != Ok("true"), "{notice}");
        eprintln!("skipped: {notice}");
        return;
    }
    step_matches_the_reference(&Device::wgpu(DeviceKind::DefaultDevice).autodiff(), 1e-4);
}
