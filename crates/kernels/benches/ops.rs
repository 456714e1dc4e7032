//! Benchmark (not a test): where a batch-64 training step of each model spends its time, per
//! kind of operation, forward and backward apart.
//!
//! Each layer of the model is built alone at its exact shape (batch 64, 96x96 input) and run
//! through [`fdfat_kernels`] (the route the model's blocks take) on random input that
//! requires a gradient: the forward time, then forward + backward, as medians. The backward
//! time is their difference. Layers of equal shape are timed once and counted as often as the
//! model has them. The whole step (forward, L1 loss, backward, Adam) is timed too; the gap to
//! the sum of the layers is what the layers alone miss (the loss, small concatenations,
//! autodiff bookkeeping, the optimizer).
//!
//! `cargo bench -p fdfat-kernels --features flex --bench ops [-- --reference --detail --runs N]`:
//! `--reference` times burn's own operations (`fdfat_kernels::with_reference_ops`), `--detail`
//! prints every distinct layer's times too, `--runs` sets the repetitions (default 5).

use burn::module::Module;
use burn::nn::conv::Conv2dConfig;
use burn::nn::pool::MaxPool2dConfig;
use burn::nn::{BatchNormConfig, LinearConfig, PReluConfig, PaddingConfig2d};
use burn::optim::{AdamConfig, GradientsParams};
use burn::tensor::{Device, Distribution, Tensor, activation};
use common::{config, median, median_of, ms};
use fdfat_models::LandmarkModel;
use std::collections::BTreeMap;
use std::time::{Duration, Instant};

#[path = "../../models/benches/common/mod.rs"]
mod common;

/// Batch size of the measured training step.
const BATCH: usize = 64;

/// The model's activation function.
#[derive(Debug, Clone, Copy, PartialEq)]
enum Act {
    Relu6,
    Silu,
    Prelu,
}

/// One layer of a model at its input shape (square feature maps of side `hw`).
#[derive(Debug, Clone, PartialEq)]
enum Op {
    /// Convolution with `groups`; `input_grad` is false for the first layer.
    Conv {
        c_in: usize,
        c_out: usize,
        k: usize,
        s: usize,
        groups: usize,
        hw: usize,
        input_grad: bool,
    },
    /// BatchNorm, and the model's activation after it when `act` (one kernel on the fast
    /// route).
    BatchNorm {
        c: usize,
        hw: usize,
        act: Option<Act>,
    },
    Act {
        act: Act,
        c: usize,
        hw: usize,
    },
    MaxPool2 {
        c: usize,
        hw: usize,
    },
    Add {
        c: usize,
        hw: usize,
    },
    GlobalPool {
        max: bool,
        c: usize,
        hw: usize,
    },
    Chunk {
        c: usize,
        hw: usize,
    },
    Cat {
        c: usize,
        parts: usize,
        hw: usize,
    },
    /// Linear layer followed by tanh (or sigmoid for the face score).
    Linear {
        c_in: usize,
        c_out: usize,
    },
}

impl Op {
    /// The row of the table the op's time goes to.
    fn kind(&self) -> &'static str {
        match self {
            Op::Conv { k: 1, .. } => "1x1 conv (matmul)",
            Op::Conv { groups: 1, .. } => "dense 3x3 conv",
            Op::Conv { .. } => "depthwise conv",
            Op::BatchNorm { act: None, .. } => "BatchNorm",
            Op::BatchNorm { .. } => "BatchNorm + ReLU6/SiLU",
            Op::Act { .. } => "activations (PReLU)",
            Op::MaxPool2 { .. } | Op::GlobalPool { .. } => "pooling",
            Op::Add { .. } => "residual add",
            Op::Chunk { .. } | Op::Cat { .. } => "concat/split",
            Op::Linear { .. } => "linear + tanh heads",
        }
    }

    /// Median forward and backward times of the op alone (weights and input made beforehand).
    fn time(&self, device: &Device, runs: usize) -> (Duration, Duration) {
        let forward_pass = self.build(device);
        let forward = median(1, runs, || {
            std::hint::black_box(forward_pass());
        });
        let both = median(1, runs, || {
            std::hint::black_box(forward_pass().backward());
        });
        (forward, both.saturating_sub(forward))
    }

    /// Builds the op with fresh weights and input; returns its forward pass on them, with the
    /// output flattened to `[batch, features]`.
    fn build(&self, device: &Device) -> Box<dyn Fn() -> Tensor<2>> {
        let input = |c: usize, hw: usize| {
            Tensor::<4>::random([BATCH, c, hw, hw], Distribution::Default, device).require_grad()
        };
        let flat = |t: Tensor<4>| t.flatten::<2>(1, 3);
        match *self {
            Op::Conv {
                c_in,
                c_out,
                k,
                s,
                groups,
                hw,
                input_grad,
            } => {
                let pad = k / 2;
                let conv = Conv2dConfig::new([c_in, c_out], [k, k])
                    .with_stride([s, s])
                    .with_groups(groups)
                    .with_padding(PaddingConfig2d::Explicit(pad, pad, pad, pad))
                    .with_bias(false)
                    .init(device);
                let x = Tensor::<4>::random([BATCH, c_in, hw, hw], Distribution::Default, device);
                let x = if input_grad { x.require_grad() } else { x };
                Box::new(move || flat(fdfat_kernels::conv2d(&conv, x.clone())))
            }
            Op::BatchNorm { c, hw, act } => {
                let bn = BatchNormConfig::new(c)
                    .with_momentum(0.03)
                    .with_epsilon(1e-5)
                    .init(device);
                let x = input(c, hw);
                let act = act.map(|a| match a {
                    Act::Silu => fdfat_kernels::NormAct::Silu,
                    _ => fdfat_kernels::NormAct::Relu6,
                });
                Box::new(move || {
                    flat(match act {
                        Some(act) => fdfat_kernels::batch_norm_act(&bn, x.clone(), act),
                        None => fdfat_kernels::batch_norm(&bn, x.clone()),
                    })
                })
            }
            Op::Act { act, c, hw } => {
                let x = input(c, hw);
                let prelu = PReluConfig::new().init(device);
                Box::new(move || {
                    flat(match act {
                        Act::Relu6 => fdfat_kernels::relu6(x.clone()),
                        Act::Silu => fdfat_kernels::silu(x.clone()),
                        Act::Prelu => fdfat_kernels::prelu(&prelu, x.clone()),
                    })
                })
            }
            Op::MaxPool2 { c, hw } => {
                let pool = MaxPool2dConfig::new([2, 2]).with_strides([2, 2]).init();
                let x = input(c, hw);
                Box::new(move || flat(pool.forward(x.clone())))
            }
            Op::Add { c, hw } => {
                let (a, b) = (input(c, hw), input(c, hw));
                Box::new(move || flat(a.clone() + b.clone()))
            }
            Op::GlobalPool { max, c, hw } => {
                let x = input(c, hw);
                Box::new(move || {
                    let y = x.clone().flatten::<3>(2, 3);
                    let y = if max { y.max_dim(2) } else { y.mean_dim(2) };
                    y.reshape([BATCH, c])
                })
            }
            Op::Chunk { c, hw } => {
                let x = input(c, hw);
                Box::new(move || flat(fdfat_kernels::narrow_channels(x.clone(), c / 2, c - c / 2)))
            }
            Op::Cat { c, parts, hw } => {
                let xs: Vec<Tensor<4>> = (0..parts).map(|_| input(c, hw)).collect();
                Box::new(move || flat(fdfat_kernels::cat_channels(xs.clone())))
            }
            Op::Linear { c_in, c_out } => {
                let linear = LinearConfig::new(c_in, c_out).init(device);
                let x = Tensor::<2>::random([BATCH, c_in], Distribution::Default, device)
                    .require_grad();
                Box::new(move || activation::tanh(linear.forward(x.clone())))
            }
        }
    }
}

/// The layers of a model, appended in order.
struct Layers {
    ops: Vec<Op>,
    act: Act,
}

impl Layers {
    fn new(act: Act) -> Self {
        Self {
            ops: Vec::new(),
            act,
        }
    }

    /// Conv + BatchNorm (+ activation) on a `hw` map; returns the output side.
    #[allow(
        clippy::too_many_arguments,
        reason = "the convolution's own parameters"
    )]
    fn conv_bn(
        &mut self,
        c_in: usize,
        c_out: usize,
        k: usize,
        s: usize,
        g: usize,
        hw: usize,
        act: bool,
    ) -> usize {
        let out = (hw + 2 * (k / 2) - k) / s + 1;
        let input_grad = !self.ops.is_empty();
        self.ops.push(Op::Conv {
            c_in,
            c_out,
            k,
            s,
            groups: g,
            hw,
            input_grad,
        });
        let act = act.then_some(self.act);
        self.ops.push(Op::BatchNorm {
            c: c_out,
            hw: out,
            act,
        });
        out
    }

    /// IdentifyBlock: 1x1 expand, depthwise 3x3, 1x1 linear, residual (through a 2x2 max pool
    /// at stride 2) when the widths match.
    fn identify(&mut self, c_in: usize, c_out: usize, expand: usize, s: usize, hw: usize) -> usize {
        let hidden = expand * c_in;
        self.conv_bn(c_in, hidden, 1, 1, 1, hw, true);
        let out = self.conv_bn(hidden, hidden, 3, s, hidden, hw, true);
        self.conv_bn(hidden, c_out, 1, 1, 1, out, false);
        if c_in == c_out {
            if s == 2 {
                self.ops.push(Op::MaxPool2 { c: c_in, hw });
            }
            self.ops.push(Op::Add { c: c_out, hw: out });
        }
        out
    }

    /// C2f: 1x1 to two halves, two 3x3 convs on the second, concatenation of three, 1x1.
    fn c2f(&mut self, c_in: usize, c_out: usize, hw: usize) -> usize {
        let half = c_out / 2;
        self.conv_bn(c_in, 2 * half, 1, 1, 1, hw, true);
        self.ops.push(Op::Chunk { c: 2 * half, hw });
        self.conv_bn(half, half, 3, 1, 1, hw, true);
        self.conv_bn(half, half, 3, 1, 1, hw, true);
        self.ops.push(Op::Cat {
            c: half,
            parts: 3,
            hw,
        });
        self.conv_bn(3 * half, c_out, 1, 1, 1, hw, true)
    }

    /// The face-cls head on a `c_in x hw x hw` backbone output.
    fn face_cls(&mut self, c_in: usize, hw: usize) {
        let hw = self.conv_bn(c_in, 32, 3, 2, gcd(c_in, 32), hw, true);
        let hw = self.conv_bn(32, 64, 3, 2, 32, hw, true);
        self.ops.push(Op::GlobalPool {
            max: true,
            c: 64,
            hw,
        });
        self.ops.push(Op::Linear { c_in: 64, c_out: 1 });
    }

    /// The landmark head: a global pool (max or average) of each `c`-channel side map, then
    /// linear layers through `widths` (the concatenated pools first); returns all operations.
    fn head(mut self, max: bool, c: usize, sides: &[usize], widths: &[usize]) -> Vec<Op> {
        for &hw in sides {
            self.ops.push(Op::GlobalPool { max, c, hw });
        }
        for w in widths.windows(2) {
            self.ops.push(Op::Linear {
                c_in: w[0],
                c_out: w[1],
            });
        }
        self.ops
    }
}

fn gcd(a: usize, b: usize) -> usize {
    if b == 0 { a } else { gcd(b, a % b) }
}

/// LWModel (ReLU6, PReLU stem) with the face-cls head, at 96x96.
fn lw_model() -> Vec<Op> {
    let mut l = Layers::new(Act::Relu6);
    l.ops.push(Op::Conv {
        c_in: 3,
        c_out: 16,
        k: 3,
        s: 2,
        groups: 1,
        hw: 96,
        input_grad: false,
    });
    l.ops.push(Op::BatchNorm {
        c: 16,
        hw: 48,
        act: None,
    });
    l.ops.push(Op::Act {
        act: Act::Prelu,
        c: 16,
        hw: 48,
    });
    let mut hw = l.identify(16, 16, 2, 2, 48);
    for _ in 0..4 {
        hw = l.identify(16, 16, 2, 1, hw);
    }
    l.face_cls(16, hw);
    hw = l.identify(16, 32, 2, 2, hw);
    for (c_in, c_out) in [(32, 32), (32, 32), (32, 64), (64, 64), (64, 64)] {
        hw = l.identify(c_in, c_out, 4, 1, hw);
    }
    let p1 = l.identify(64, 128, 2, 1, hw);
    let p2 = l.identify(128, 128, 2, 2, p1);
    let p3 = l.identify(128, 128, 2, 1, p2);
    l.head(false, 128, &[p1, p2, p3], &[3 * 128, 280, 140])
}

/// LWCSPModel (SiLU) with the face-cls head, at 96x96.
fn lwcsp_model() -> Vec<Op> {
    let mut l = Layers::new(Act::Silu);
    let mut hw = l.conv_bn(3, 8, 3, 2, 1, 96, true);
    hw = l.c2f(8, 16, hw);
    hw = l.c2f(16, 32, hw);
    l.face_cls(32, hw);
    hw = l.conv_bn(32, 32, 3, 2, 1, hw, true);
    hw = l.c2f(32, 64, hw);
    hw = l.conv_bn(64, 64, 3, 2, 1, hw, true);
    let x1 = l.c2f(64, 96, hw);
    let mut sides = vec![x1];
    hw = x1;
    for _ in 0..2 {
        hw = l.conv_bn(96, 96, 3, 2, 1, hw, true);
        hw = l.c2f(96, 96, hw);
        sides.push(hw);
    }
    l.head(true, 96, &sides, &[3 * 96, 140])
}

/// Median forward, backward and optimizer times of a whole training step.
fn whole_step(model: &str, activation: &str, device: &Device, runs: usize) -> [Duration; 3] {
    let cfg = config(model, activation);
    let mut model = Some(LandmarkModel::new(&cfg, device).expect("model builds"));
    let mut optimizer = AdamConfig::new().init();
    let x = Tensor::<4>::random([BATCH, 3, 96, 96], Distribution::Uniform(-1.0, 1.0), device);
    let target = Tensor::<2>::random([BATCH, 141], Distribution::Uniform(-0.5, 0.5), device);
    let mut phases: Vec<[Duration; 3]> = Vec::new();
    for run in 0..=runs {
        let Some(current) = model.take() else { break };
        let t0 = Instant::now();
        let loss = (current.forward(x.clone()) - target.clone()).abs().mean();
        let t1 = Instant::now();
        let grads = GradientsParams::from_grads(loss.backward(), &current);
        let t2 = Instant::now();
        let next = optimizer.step(1e-3, current, grads);
        std::hint::black_box(next.num_params());
        let t3 = Instant::now();
        model = Some(next);
        if run > 0 {
            phases.push([t1 - t0, t2 - t1, t3 - t2]);
        }
    }
    std::array::from_fn(|i| median_of(phases.iter().map(|p| p[i]).collect()))
}

fn profile(name: &str, activation: &str, ops: &[Op], device: &Device, runs: usize, detail: bool) {
    let mut timed: Vec<(Op, usize, (Duration, Duration))> = Vec::new();
    for op in ops {
        match timed.iter_mut().find(|(o, _, _)| o == op) {
            Some(entry) => entry.1 += 1,
            None => timed.push((op.clone(), 1, op.time(device, runs))),
        }
    }
    if detail {
        for (op, count, (f, b)) in &timed {
            println!(
                "{count:>3} x {op:?}: forward {:.2} ms, backward {:.2} ms",
                ms(*f),
                ms(*b)
            );
        }
    }
    let mut kinds: BTreeMap<&str, (f64, f64)> = BTreeMap::new();
    for (op, count, (f, b)) in &timed {
        let entry = kinds.entry(op.kind()).or_default();
        entry.0 += ms(*f) * *count as f64;
        entry.1 += ms(*b) * *count as f64;
    }
    let [fwd, bwd, opt] = whole_step(name, activation, device, runs);
    let (sum_f, sum_b) = kinds
        .values()
        .fold((0.0, 0.0), |a, v| (a.0 + v.0, a.1 + v.1));
    println!("\n{name} ({activation}), batch {BATCH}: ms per training step by op kind");
    println!("| op kind | forward | backward | total |");
    println!("|---|---:|---:|---:|");
    let mut rows: Vec<_> = kinds.into_iter().collect();
    rows.sort_by(|a, b| (b.1.0 + b.1.1).total_cmp(&(a.1.0 + a.1.1)));
    for (kind, (f, b)) in rows {
        println!("| {kind} | {f:.1} | {b:.1} | {:.1} |", f + b);
    }
    println!(
        "| sum of the layers alone | {sum_f:.1} | {sum_b:.1} | {:.1} |",
        sum_f + sum_b
    );
    let (f, b) = (ms(fwd), ms(bwd));
    println!(
        "| whole step (loss incl.; optimizer {:.1}) | {f:.1} | {b:.1} | {:.1} |",
        ms(opt),
        f + b + ms(opt)
    );
    println!(
        "| rest (whole step - layers, optimizer excl.) | {:.1} | {:.1} | {:.1} |",
        f - sum_f,
        b - sum_b,
        f + b - sum_f - sum_b
    );
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let reference = args.iter().any(|a| a == "--reference");
    let detail = args.iter().any(|a| a == "--detail");
    let runs = args
        .iter()
        .position(|a| a == "--runs")
        .and_then(|i| args.get(i + 1))
        .and_then(|v| v.parse().ok())
        .unwrap_or(5);
    let device = Device::default().autodiff();
    println!(
        "device: {device:?}; {} operations; {runs} runs per op",
        if reference {
            "burn's own"
        } else {
            "the training kernels'"
        }
    );
    let run = || {
        profile("LWModel", "ReLU6", &lw_model(), &device, runs, detail);
        profile("LWCSPModel", "SiLU", &lwcsp_model(), &device, runs, detail);
    };
    if reference {
        fdfat_kernels::with_reference_ops(run);
    } else {
        run();
    }
}
