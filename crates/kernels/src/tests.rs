//! The kernels against burn's own operations on the CPU: outputs and every gradient within
//! 1e-5 for the flex kernels and 1e-4 for the GPU kernels (on wgpu, Mesa's lavapipe where no
//! GPU is present), on odd shapes. A whole training step of both models on both routes is
//! `fdfat-models`' `tests/train_kernels.rs`.

use super::*;
use burn::module::{Module, Param};
use burn::nn::conv::Conv2dConfig;
use burn::nn::{BatchNormConfig, PaddingConfig2d};
use burn::tensor::{Device, Distribution, Gradients, Tensor, TensorData};

/// The largest difference the flex kernels may make, relative to `max(1, |reference|)`.
const CPU_TOLERANCE: f32 = 1e-5;

/// The CPU autodiff device: the reference route, and the flex kernels' route.
fn device() -> Device {
    Device::flex().autodiff()
}

/// Fixed random values (the same for both routes).
fn data(shape: [usize; 4], low: f64, high: f64) -> TensorData {
    Tensor::<4>::random(shape, Distribution::Uniform(low, high), &Device::flex()).into_data()
}

/// Asserts `expected` and `got` agree within `tolerance` relative to `max(1, |expected|)`.
fn close(what: &str, expected: Tensor<4>, got: Tensor<4>, tolerance: f32) {
    let (expected, got) = (expected.into_data(), got.into_data());
    assert_eq!(expected.shape(), got.shape(), "{what}: shapes differ");
    let diff = expected
        .iter::<f32>()
        .zip(got.iter::<f32>())
        .map(|(a, b)| (a - b).abs() / a.abs().max(1.0))
        .fold(0.0f32, f32::max);
    assert!(diff <= tolerance, "{what}: max difference {diff}");
}

/// Where an operation runs: burn's own operations on the CPU (the reference), or the kernels on
/// an autodiff device, within a tolerance of the reference.
#[derive(Clone)]
enum Side {
    Reference,
    Kernels(Device, f32),
}

/// The flex kernels' side.
fn cpu_kernels() -> Side {
    Side::Kernels(device(), CPU_TOLERANCE)
}

/// The outputs of `op` run on one side, on CPU values: its output, the input gradient for a
/// random upstream gradient, and what `extra` reads from the gradients and `module` (moved to
/// the side's device first as a copy with its own gradients; the module is returned as it is
/// after the forward pass).
struct Outcome<M, R> {
    output: Tensor<4>,
    input_grad: Tensor<4>,
    extra: R,
    module: M,
}

fn run<M: Module + Clone, R>(
    side: &Side,
    module: &M,
    (x, upstream): (&TensorData, &TensorData),
    op: impl FnOnce(&M, Tensor<4>) -> Tensor<4>,
    extra: impl FnOnce(&M, &Gradients) -> R,
) -> Outcome<M, R> {
    let device = match side {
        Side::Reference => device(),
        Side::Kernels(device, _) => device.clone(),
    };
    let module = module.clone().fork(&device);
    let x = Tensor::<4>::from_data(x.clone(), &device).require_grad();
    let upstream = Tensor::<4>::from_data(upstream.clone(), &device);
    let y = match side {
        Side::Reference => with_reference_ops(|| op(&module, x.clone())),
        Side::Kernels(..) => {
            assert!(route(&x).is_some(), "the kernels must take this input");
            op(&module, x.clone())
        }
    };
    let grads = (y.clone() * upstream).sum().backward();
    let dx = x.grad(&grads).expect("input gradient");
    let extra = extra(&module, &grads);
    let cpu = |t: Tensor<4>| t.detach().to_device(&Device::flex());
    Outcome {
        output: cpu(y),
        input_grad: cpu(dx),
        extra,
        module,
    }
}

/// Asserts the kernels' side of a case matches the reference, named `case`, on tensors read
/// by `pick` from both outcomes.
fn compare<M, R>(
    case: &str,
    tolerance: f32,
    reference: &Outcome<M, R>,
    kernels: &Outcome<M, R>,
    pick: impl Fn(&Outcome<M, R>) -> Vec<(&'static str, Tensor<4>)>,
) {
    close(
        &format!("{case} output"),
        reference.output.clone(),
        kernels.output.clone(),
        tolerance,
    );
    close(
        &format!("{case} input grad"),
        reference.input_grad.clone(),
        kernels.input_grad.clone(),
        tolerance,
    );
    for ((name, a), (_, b)) in pick(reference).into_iter().zip(pick(kernels)) {
        close(&format!("{case} {name}"), a, b, tolerance);
    }
}

/// A parameter (or its gradient) as a `[1, c, 1, 1]` CPU tensor.
fn channels(t: Tensor<1>) -> Tensor<4> {
    let c = t.dims()[0];
    t.to_device(&Device::flex()).reshape([1, c, 1, 1])
}

/// A depth-wise convolution case: (batch, channels, multiplier, height, width, kernel,
/// stride, padding).
type DepthwiseCase = (usize, usize, usize, usize, usize, usize, usize, usize);

/// Depth-wise convolutions of odd shapes, multipliers, strides and paddings.
const DEPTHWISE_CASES: [DepthwiseCase; 6] = [
    (1, 3, 1, 7, 5, 3, 1, 1),
    (3, 5, 1, 9, 6, 3, 2, 1),
    (2, 4, 2, 8, 8, 3, 2, 1),
    (3, 6, 1, 5, 7, 3, 1, 0),
    (1, 7, 1, 6, 9, 5, 2, 2),
    (2, 2, 3, 4, 4, 1, 1, 0),
];

/// The depth-wise convolutions `cases` on `side`.
fn check_depthwise(side: &Side, cases: &[DepthwiseCase]) {
    let Side::Kernels(_, tolerance) = *side else {
        unreachable!("checks run on a kernels side")
    };
    for &(n, c, m, h, w, k, s, p) in cases {
        let conv = Conv2dConfig::new([c, c * m], [k, k])
            .with_stride([s, s])
            .with_groups(c)
            .with_padding(PaddingConfig2d::Explicit(p, p, p, p))
            .with_bias(false)
            .init(&device());
        let ho = (h + 2 * p - k) / s + 1;
        let wo = (w + 2 * p - k) / s + 1;
        let (x, up) = (
            data([n, c, h, w], -1.0, 1.0),
            data([n, c * m, ho, wo], -1.0, 1.0),
        );
        let weight_grad = |conv: &burn::nn::conv::Conv2d, g: &Gradients| {
            conv.weight
                .val()
                .grad(g)
                .expect("dw")
                .to_device(&Device::flex())
        };
        let reference = run(
            &Side::Reference,
            &conv,
            (&x, &up),
            |c, x| c.forward(x),
            weight_grad,
        );
        let kernels = run(side, &conv, (&x, &up), conv2d, weight_grad);
        let case = format!("n{n} c{c} m{m} {h}x{w} k{k} s{s} p{p}");
        compare(&case, tolerance, &reference, &kernels, |o| {
            vec![("weight grad", o.extra.clone())]
        });
    }
}

/// BatchNorm inputs of odd shapes, `[n, c, h, w]`.
const BATCH_NORM_SHAPES: [[usize; 4]; 4] = [[1, 3, 5, 7], [3, 5, 4, 3], [2, 9, 2, 1], [3, 4, 6, 6]];

/// Training-mode BatchNorm alone and with each activation on inputs of `shapes`, on `side`:
/// output, gradients and the running statistics it leaves.
fn check_batch_norm(side: &Side, shapes: &[[usize; 4]]) {
    let Side::Kernels(_, tolerance) = *side else {
        unreachable!("checks run on a kernels side")
    };
    let acts = [None, Some(NormAct::Relu6), Some(NormAct::Silu)];
    for (&[n, c, h, w], act) in shapes.iter().flat_map(|s| acts.map(|a| (s, a))) {
        // Gamma and beta away from their initial ones and zeros.
        let random =
            |low, high| Tensor::<1>::random([c], Distribution::Uniform(low, high), &device());
        let bn = BatchNormConfig::new(c).with_momentum(0.03).init(&device());
        let bn = BatchNorm {
            gamma: Param::from_tensor(random(0.5, 1.5)),
            beta: Param::from_tensor(random(-0.5, 0.5)),
            ..bn
        };
        let (x, up) = (data([n, c, h, w], -2.0, 3.0), data([n, c, h, w], -1.0, 1.0));
        let apply = |bn: &BatchNorm, x| match act {
            None => batch_norm(bn, x),
            Some(act) => batch_norm_act(bn, x, act),
        };
        let affine = |bn: &BatchNorm, g: &Gradients| {
            let dg = bn.gamma.val().grad(g).expect("gamma grad");
            let db = bn.beta.val().grad(g).expect("beta grad");
            (channels(dg), channels(db))
        };
        let reference = run(&Side::Reference, &bn, (&x, &up), apply, affine);
        let kernels = run(side, &bn, (&x, &up), apply, affine);
        let case = format!("BatchNorm {n}x{c}x{h}x{w} then {act:?}");
        compare(&case, tolerance, &reference, &kernels, |o| {
            vec![
                ("gamma grad", o.extra.0.clone()),
                ("beta grad", o.extra.1.clone()),
                ("running mean", channels(o.module.running_mean.value())),
                ("running var", channels(o.module.running_var.value())),
            ]
        });
    }
}

#[test]
fn depthwise_convolution_matches_burn() {
    check_depthwise(&cpu_kernels(), &DEPTHWISE_CASES);
}

#[test]
fn batch_norm_matches_burn() {
    check_batch_norm(&cpu_kernels(), &BATCH_NORM_SHAPES);
}

/// The wgpu side, when this build has wgpu and the machine a Vulkan, Metal or DX12 adapter
/// (Mesa's lavapipe counts); otherwise `None` with a notice, or a failure under `CI=true`
/// (where CI runs these tests it installs lavapipe).
#[cfg(feature = "wgpu")]
fn gpu() -> Option<Side> {
    use burn::tensor::DeviceType;
    if Device::enumerate(DeviceType::Wgpu).into_vec().is_empty() {
        let notice = "no wgpu adapter (install Mesa's lavapipe: mesa-vulkan-drivers)";
        assert!(std::env::var("CI").as_deref() != Ok("true"), "{notice}");
        eprintln!("skipped: {notice}");
        return None;
    }
    let device = Device::wgpu(burn::tensor::DeviceKind::DefaultDevice).autodiff();
    Some(Side::Kernels(device, 1e-4))
}

#[cfg(feature = "wgpu")]
#[test]
fn depthwise_convolution_on_the_gpu_matches_burn_on_the_cpu() {
    // Batches whose weight gradients the GPU sums in several chunks.
    let large = [(4, 3, 1, 48, 47, 3, 1, 1), (9, 2, 2, 24, 25, 3, 2, 1)];
    if let Some(side) = gpu() {
        check_depthwise(&side, &[&DEPTHWISE_CASES[..], &large[..]].concat());
    }
}

#[cfg(feature = "wgpu")]
#[test]
fn batch_norm_on_the_gpu_matches_burn_on_the_cpu() {
    // Channels the GPU sums in several chunks.
    let large = [[65, 4, 17, 19]];
    if let Some(side) = gpu() {
        check_batch_norm(&side, &[&BATCH_NORM_SHAPES[..], &large[..]].concat());
    }
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
        // stride 1 without padding (the input gradient pads by 2), and more channels than
        // one register block holds, with a partial last block
        (2, 4, 3, 6, 7, 3, 1, 0),
        (2, 19, 21, 9, 11, 3, 1, 1),
        // strided phases: several register blocks, stride 3, 1x1 kernels strided or padded
        (2, 19, 21, 10, 9, 3, 2, 1),
        (2, 5, 6, 11, 10, 3, 3, 1),
        (2, 4, 5, 7, 6, 1, 2, 0),
        (1, 3, 4, 5, 6, 1, 1, 1),
    ];
    for (n, c_in, c_out, h, w, k, s, p) in cases {
        let conv = Conv2dConfig::new([c_in, c_out], [k, k])
            .with_stride([s, s])
            .with_padding(PaddingConfig2d::Explicit(p, p, p, p))
            .with_bias(false)
            .init(&device());
        let ho = (h + 2 * p - k) / s + 1;
        let wo = (w + 2 * p - k) / s + 1;
        let (x, up) = (
            data([n, c_in, h, w], -1.0, 1.0),
            data([n, c_out, ho, wo], -1.0, 1.0),
        );
        let weight_grad =
            |conv: &burn::nn::conv::Conv2d, g: &Gradients| conv.weight.val().grad(g).expect("dw");
        let reference = run(
            &Side::Reference,
            &conv,
            (&x, &up),
            |c, x| c.forward(x),
            weight_grad,
        );
        let kernels = run(&cpu_kernels(), &conv, (&x, &up), conv2d, weight_grad);
        let case = format!("n{n} {c_in}->{c_out} {h}x{w} k{k} s{s} p{p}");
        compare(&case, CPU_TOLERANCE, &reference, &kernels, |o| {
            vec![("weight grad", o.extra.clone())]
        });
    }
}

#[test]
fn channel_slices_and_joins_match_burn() {
    // a C2f's pattern: the tail of `x` through another operation, joined to the whole of `x`
    let conv = Conv2dConfig::new([1, 1], [1, 1]).init(&device());
    let op = |_: &burn::nn::conv::Conv2d, x: Tensor<4>| {
        let tail = narrow_channels(x.clone(), 2, 3);
        cat_channels(vec![x, tail.clone() * 2.0, tail])
    };
    let (x, up) = (
        data([3, 5, 4, 3], -1.0, 1.0),
        data([3, 11, 4, 3], -1.0, 1.0),
    );
    let reference = run(&Side::Reference, &conv, (&x, &up), op, |_, _| ());
    let kernels = run(&cpu_kernels(), &conv, (&x, &up), op, |_, _| ());
    compare("narrow + cat", 0.0, &reference, &kernels, |_| Vec::new());
}

#[test]
fn activations_match_burn() {
    // Values on both sides of ReLU6's kinks, and exactly on them.
    let mut x = data([3, 5, 7, 9], -10.0, 10.0);
    let mut values: Vec<f32> = x.try_to_vec::<f32>().expect("f32 values");
    values[..4].copy_from_slice(&[0.0, 6.0, -0.0, 6.000_001]);
    x = TensorData::new(values, [3, 5, 7, 9]);
    let up = data([3, 5, 7, 9], -1.0, 1.0);
    // A module-free operation: an empty module stands in.
    let none = burn::nn::Identity::new();
    for (name, f) in [
        ("relu6", relu6::<4> as fn(Tensor<4>) -> Tensor<4>),
        ("silu", silu::<4>),
    ] {
        let reference = run(&Side::Reference, &none, (&x, &up), |_, x| f(x), |_, _| ());
        let kernels = run(&cpu_kernels(), &none, (&x, &up), |_, x| f(x), |_, _| ());
        compare(name, CPU_TOLERANCE, &reference, &kernels, |_| vec![]);
    }
}

#[test]
fn prelu_matches_burn() {
    for slopes in [1, 5] {
        let prelu = burn::nn::PReluConfig::new()
            .with_num_parameters(slopes)
            .with_alpha(0.2)
            .init(&device());
        let (x, up) = (data([3, 5, 4, 7], -2.0, 2.0), data([3, 5, 4, 7], -1.0, 1.0));
        let slope_grad = |prelu: &burn::nn::PRelu, g: &Gradients| {
            let da = prelu.alpha.val().grad(g).expect("slope grad");
            da.reshape([1, slopes, 1, 1])
        };
        let reference = run(
            &Side::Reference,
            &prelu,
            (&x, &up),
            |p, x| p.forward(x),
            slope_grad,
        );
        let kernels = run(&cpu_kernels(), &prelu, (&x, &up), super::prelu, slope_grad);
        compare(
            &format!("prelu x{slopes}"),
            CPU_TOLERANCE,
            &reference,
            &kernels,
            |o| vec![("slope grad", o.extra.clone())],
        );
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
        close("pointwise", expected, conv2d(&conv, x), CPU_TOLERANCE);
    }
}

#[test]
fn inference_and_other_devices_keep_burns_operations() {
    let x = Tensor::<4>::zeros([1, 2, 3, 3], &Device::flex());
    assert!(!flex_takes(&x), "inference takes burn's operations");
    let x = Tensor::<4>::zeros([1, 2, 3, 3], &device());
    assert!(flex_takes(&x));
    assert!(!with_reference_ops(|| flex_takes(&x)));
    assert!(flex_takes(&x), "the reference choice ends with the closure");
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
