//! The kernels against burn's own operations: outputs and every gradient within 1e-5, on odd
//! shapes (a whole training step of both models on both routes is `fdfat-models`'
//! `tests/train_kernels.rs`).

use super::*;
use burn::module::Param;
use burn::nn::conv::Conv2dConfig;
use burn::nn::{BatchNormConfig, PaddingConfig2d};
use burn::tensor::{Device, Distribution, Tensor, TensorData};

const TOLERANCE: f64 = 1e-5;

fn device() -> Device {
    Device::flex().autodiff()
}

/// Fixed random values (the same for both routes).
fn data(shape: [usize; 4], low: f64, high: f64) -> TensorData {
    Tensor::<4>::random(shape, Distribution::Uniform(low, high), &Device::flex()).into_data()
}

fn close(what: &str, expected: Tensor<4>, got: Tensor<4>) {
    let (expected, got) = (expected.into_data(), got.into_data());
    assert_eq!(expected.shape(), got.shape(), "{what}: shapes differ");
    let diff = expected
        .iter::<f32>()
        .zip(got.iter::<f32>())
        .map(|(a, b)| (a - b).abs() / a.abs().max(1.0))
        .fold(0.0f32, f32::max);
    assert!(
        f64::from(diff) <= TOLERANCE,
        "{what}: max difference {diff}"
    );
}

/// Output and input gradient of `op` on `x`, on the reference route or the kernels, with a
/// random upstream gradient; `extra` reads parameter gradients from the gradients.
fn run<R>(
    reference: bool,
    x: &TensorData,
    upstream: &TensorData,
    op: impl FnOnce(Tensor<4>) -> Tensor<4>,
    extra: impl FnOnce(&burn::tensor::Gradients) -> R,
) -> (Tensor<4>, Tensor<4>, R) {
    let device = device();
    let x = Tensor::<4>::from_data(x.clone(), &device).require_grad();
    let upstream = Tensor::<4>::from_data(upstream.clone(), &device);
    let y = if reference {
        with_reference_ops(|| op(x.clone()))
    } else {
        assert!(kernels_take(&x), "the kernels must take this input");
        op(x.clone())
    };
    let grads = (y.clone() * upstream).sum().backward();
    let dx = x.grad(&grads).expect("input gradient");
    let r = extra(&grads);
    (y.detach(), dx.detach(), r)
}

#[test]
fn depthwise_convolution_matches_burn() {
    // (batch, channels, multiplier, height, width, kernel, stride, padding)
    let cases = [
        (1, 3, 1, 7, 5, 3, 1, 1),
        (3, 5, 1, 9, 6, 3, 2, 1),
        (2, 4, 2, 8, 8, 3, 2, 1),
        (3, 6, 1, 5, 7, 3, 1, 0),
        (1, 7, 1, 6, 9, 5, 2, 2),
        (2, 2, 3, 4, 4, 1, 1, 0),
    ];
    for (n, c, m, h, w, k, s, p) in cases {
        let conv = Conv2dConfig::new([c, c * m], [k, k])
            .with_stride([s, s])
            .with_groups(c)
            .with_padding(PaddingConfig2d::Explicit(p, p, p, p))
            .with_bias(false)
            .init(&device());
        let ho = (h + 2 * p - k) / s + 1;
        let wo = (w + 2 * p - k) / s + 1;
        let x = data([n, c, h, w], -1.0, 1.0);
        let up = data([n, c * m, ho, wo], -1.0, 1.0);
        let weight_grad = |g: &burn::tensor::Gradients| conv.weight.val().grad(g).expect("dw");
        let (y0, dx0, dw0) = run(true, &x, &up, |x| conv.forward(x), weight_grad);
        let (y1, dx1, dw1) = run(false, &x, &up, |x| conv2d(&conv, x), weight_grad);
        let case = format!("n{n} c{c} m{m} {h}x{w} k{k} s{s} p{p}");
        close(&format!("{case} output"), y0, y1);
        close(&format!("{case} input grad"), dx0, dx1);
        close(&format!("{case} weight grad"), dw0, dw1);
    }
}

/// Gamma and beta gradients of `bn`, as `[1, c, 1, 1]`.
fn affine_grads(bn: &BatchNorm, grads: &burn::tensor::Gradients) -> (Tensor<4>, Tensor<4>) {
    let dg = bn.gamma.val().grad(grads).expect("gamma grad");
    let db = bn.beta.val().grad(grads).expect("beta grad");
    let c = dg.dims()[0];
    (dg.reshape([1, c, 1, 1]), db.reshape([1, c, 1, 1]))
}

#[test]
fn dense_convolution_matches_burn() {
    // (batch, in, out, height, width, kernel, stride, padding)
    let cases = [
        (1, 3, 5, 9, 7, 3, 2, 1),
        (3, 5, 7, 6, 8, 3, 1, 1),
        (3, 4, 6, 5, 5, 1, 1, 0),
        (2, 7, 3, 8, 5, 3, 2, 0),
        (1, 6, 9, 7, 7, 5, 1, 2),
    ];
    for (n, c_in, c_out, h, w, k, s, p) in cases {
        let conv = Conv2dConfig::new([c_in, c_out], [k, k])
            .with_stride([s, s])
            .with_padding(PaddingConfig2d::Explicit(p, p, p, p))
            .with_bias(false)
            .init(&device());
        let ho = (h + 2 * p - k) / s + 1;
        let wo = (w + 2 * p - k) / s + 1;
        let x = data([n, c_in, h, w], -1.0, 1.0);
        let up = data([n, c_out, ho, wo], -1.0, 1.0);
        let weight_grad = |g: &burn::tensor::Gradients| conv.weight.val().grad(g).expect("dw");
        let (y0, dx0, dw0) = run(true, &x, &up, |x| conv.forward(x), weight_grad);
        let (y1, dx1, dw1) = run(false, &x, &up, |x| conv2d(&conv, x), weight_grad);
        let case = format!("n{n} {c_in}->{c_out} {h}x{w} k{k} s{s} p{p}");
        close(&format!("{case} output"), y0, y1);
        close(&format!("{case} input grad"), dx0, dx1);
        close(&format!("{case} weight grad"), dw0, dw1);
    }
}

#[test]
fn batch_norm_matches_burn() {
    let shapes = [(1, 3, 5, 7), (3, 5, 4, 3), (2, 9, 2, 1), (3, 4, 6, 6)];
    let acts = [None, Some(NormAct::Relu6), Some(NormAct::Silu)];
    for ((n, c, h, w), act) in shapes.into_iter().flat_map(|s| acts.map(|a| (s, a))) {
        let make = || {
            let bn = BatchNormConfig::new(c).with_momentum(0.03).init(&device());
            // Gamma and beta away from their initial ones and zeros.
            let gamma = Tensor::<1>::random([c], Distribution::Uniform(0.5, 1.5), &Device::flex());
            let beta = Tensor::<1>::random([c], Distribution::Uniform(-0.5, 0.5), &Device::flex());
            (gamma.into_data(), beta.into_data(), bn)
        };
        let (gamma, beta, bn0) = make();
        let set = |bn: BatchNorm| BatchNorm {
            gamma: Param::from_tensor(Tensor::from_data(gamma.clone(), &device())),
            beta: Param::from_tensor(Tensor::from_data(beta.clone(), &device())),
            ..bn
        };
        let (bn0, bn1) = (set(bn0.clone()), set(bn0));
        let x = data([n, c, h, w], -2.0, 3.0);
        let up = data([n, c, h, w], -1.0, 1.0);
        let apply = |bn: &BatchNorm, x| match act {
            None => batch_norm(bn, x),
            Some(act) => batch_norm_act(bn, x, act),
        };
        let (y0, dx0, (dg0, db0)) =
            run(true, &x, &up, |x| apply(&bn0, x), |g| affine_grads(&bn0, g));
        let (y1, dx1, (dg1, db1)) = run(
            false,
            &x,
            &up,
            |x| apply(&bn1, x),
            |g| affine_grads(&bn1, g),
        );
        let case = format!("BatchNorm {n}x{c}x{h}x{w} then {act:?}");
        close(&format!("{case} output"), y0, y1);
        close(&format!("{case} input grad"), dx0, dx1);
        close(&format!("{case} gamma grad"), dg0, dg1);
        close(&format!("{case} beta grad"), db0, db1);
        let stats = |bn: &BatchNorm| {
            let mean = bn.running_mean.value().reshape([1, c, 1, 1]);
            let var = bn.running_var.value().reshape([1, c, 1, 1]);
            (mean, var)
        };
        let ((m0, v0), (m1, v1)) = (stats(&bn0), stats(&bn1));
        close(&format!("{case} running mean"), m0, m1);
        close(&format!("{case} running var"), v0, v1);
    }
}

#[test]
fn activations_match_burn() {
    // Values on both sides of ReLU6's kinks, and exactly on them.
    let mut x = data([3, 5, 7, 9], -10.0, 10.0);
    let mut values: Vec<f32> = x.try_to_vec::<f32>().expect("f32 values");
    values[..4].copy_from_slice(&[0.0, 6.0, -0.0, 6.000_001]);
    x = TensorData::new(values, [3, 5, 7, 9]);
    let up = data([3, 5, 7, 9], -1.0, 1.0);
    for (name, f) in [
        ("relu6", relu6::<4> as fn(Tensor<4>) -> Tensor<4>),
        ("silu", silu::<4>),
    ] {
        let (y0, dx0, ()) = run(true, &x, &up, f, |_| ());
        let (y1, dx1, ()) = run(false, &x, &up, f, |_| ());
        close(&format!("{name} output"), y0, y1);
        close(&format!("{name} input grad"), dx0, dx1);
    }
}

#[test]
fn prelu_matches_burn() {
    for slopes in [1, 5] {
        let prelu = burn::nn::PReluConfig::new()
            .with_num_parameters(slopes)
            .with_alpha(0.2)
            .init(&device());
        let x = data([3, 5, 4, 7], -2.0, 2.0);
        let up = data([3, 5, 4, 7], -1.0, 1.0);
        let slope_grad = |g: &burn::tensor::Gradients| {
            let da = prelu.alpha.val().grad(g).expect("slope grad");
            da.reshape([1, slopes, 1, 1])
        };
        let (y0, dx0, da0) = run(true, &x, &up, |x| prelu.forward(x), slope_grad);
        let (y1, dx1, da1) = run(false, &x, &up, |x| super::prelu(&prelu, x), slope_grad);
        close(&format!("prelu x{slopes} output"), y0, y1);
        close(&format!("prelu x{slopes} input grad"), dx0, dx1);
        close(&format!("prelu x{slopes} slope grad"), da0, da1);
    }
}

#[test]
fn pointwise_matmul_matches_the_convolution() {
    let device = device();
    for bias in [false, true] {
        let conv = Conv2dConfig::new([6, 10], [1, 1])
            .with_bias(bias)
            .init(&device);
        let x = Tensor::<4>::random([3, 6, 5, 7], Distribution::Uniform(-1.0, 1.0), &device);
        let expected = conv.forward(x.clone());
        close("pointwise", expected, conv2d(&conv, x));
    }
}

#[test]
fn inference_and_other_devices_keep_burns_operations() {
    let x = Tensor::<4>::zeros([1, 2, 3, 3], &Device::flex());
    assert!(!kernels_take(&x), "inference takes burn's operations");
    let x = Tensor::<4>::zeros([1, 2, 3, 3], &device());
    assert!(kernels_take(&x));
    assert!(!with_reference_ops(|| kernels_take(&x)));
    assert!(
        kernels_take(&x),
        "the reference choice ends with the closure"
    );
}

#[test]
fn weight_gradients_do_not_depend_on_the_threads() {
    use crate::cpu::dense::{Dense, dense_weight_grad};
    let values = |len: usize, seed: f32| -> Vec<f32> {
        (0..len).map(|i| (i as f32 * 0.37 + seed).sin()).collect()
    };
    for stride in [1, 2] {
        let g = Dense {
            n: 9,
            c_in: 5,
            c_out: 6,
            h: 11,
            w: 10,
            k: 3,
            stride,
            pad: 1,
        };
        let (ho, wo) = g.out_hw().expect("output");
        let x = values(g.n * g.c_in * g.h * g.w, 0.1);
        let grad = values(g.n * g.c_out * ho * wo, 0.7);
        let with_threads = |threads: usize| {
            let pool = rayon::ThreadPoolBuilder::new()
                .num_threads(threads)
                .build()
                .expect("thread pool");
            pool.install(|| dense_weight_grad(&x, &grad, &g))
        };
        let one = with_threads(1);
        for threads in [2, 3, 5] {
            assert_eq!(
                one,
                with_threads(threads),
                "stride {stride}, {threads} threads"
            );
        }
    }
}
