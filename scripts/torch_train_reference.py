#!/usr/bin/env python3
"""PyTorch reference for the training-speed comparison (issue 9): LWModel (ReLU6, PReLU stem)
and LWCSPModel (SiLU), both with the face-cls head, defined here to match the burn models of
crates/models layer for layer (429,206 and 482,165 trainable parameters).

    python3 scripts/torch_train_reference.py [--models LWModel LWCSPModel] [--batch 64]
        [--steps 10] [--warmup 2] [--threads 2] [--device cpu|cuda] [--profile [--profile-steps 3]]

One training step is forward, L1 loss on the 141 outputs, backward and a NAdam step (lr 1e-3),
on random input in [-1, 1) and random targets in [-0.5, 0.5), on the CPU or (`--device cuda`)
a GPU, where each phase is timed to the device's completion (torch.cuda.synchronize). Prints the median step time and
images/s per model, one line each, in the form `MODEL step_ms=... img_per_s=...` that
scripts/bench_train_vs_torch.sh parses. `--profile` adds a per-op table (torch.profiler, the
mean of `--profile-steps` steps) grouped into op kinds like those of
`cargo bench -p fdfat-kernels --features flex --bench ops`, forward and backward apart, then
torch's own top ops (scripts/PROFILE.md puts them side by side).
"""

import argparse
import statistics
import time

import torch
from torch import nn

BN_MOMENTUM = 0.03
BN_EPS = 1e-5
POINTS = 70


def conv_bn(c_in, c_out, k, s, groups=1):
    """Convolution (padding k // 2, no bias) and BatchNorm, as the burn `ConvBn`."""
    return nn.Sequential(
        nn.Conv2d(c_in, c_out, k, s, k // 2, groups=groups, bias=False),
        nn.BatchNorm2d(c_out, eps=BN_EPS, momentum=BN_MOMENTUM),
    )


class Block(nn.Module):
    """Conv + BN, then the model's shared activation when `activate`."""

    def __init__(self, act, c_in, c_out, k, s, groups=1, activate=True):
        super().__init__()
        self.cb = conv_bn(c_in, c_out, k, s, groups)
        # A list hides the shared activation from this module's parameters.
        self.act = [act] if activate else None

    def forward(self, x):
        y = self.cb(x)
        return self.act[0](y) if self.act else y


def depthwise(act, c_in, c_out, k, s):
    """The original's `DWConv`: groups = gcd(c_in, c_out)."""
    a, b = c_in, c_out
    while b:
        a, b = b, a % b
    return Block(act, c_in, c_out, k, s, groups=a)


class Identify(nn.Module):
    """Inverted residual: 1x1 expand, depthwise 3x3, 1x1 linear squeeze, residual (pooled)."""

    def __init__(self, act, c_in, c_out, expand, stride):
        super().__init__()
        hidden = expand * c_in
        self.conv1 = Block(act, c_in, hidden, 1, 1)
        self.conv2 = depthwise(act, hidden, hidden, 3, stride)
        self.conv3 = Block(act, hidden, c_out, 1, 1, activate=False)
        self.residual = c_in == c_out
        self.pool = nn.MaxPool2d(2, 2) if self.residual and stride == 2 else None

    def forward(self, x):
        y = self.conv3(self.conv2(self.conv1(x)))
        if not self.residual:
            return y
        return y + (self.pool(x) if self.pool is not None else x)


class C2f(nn.Module):
    """1x1 to two halves, a two-conv bottleneck on the second, concatenation, 1x1."""

    def __init__(self, act, c_in, c_out):
        super().__init__()
        half = c_out // 2
        self.cv1 = Block(act, c_in, 2 * half, 1, 1)
        self.cv2 = Block(act, 3 * half, c_out, 1, 1)
        self.m = nn.Sequential(Block(act, half, half, 3, 1), Block(act, half, half, 3, 1))

    def forward(self, x):
        parts = list(self.cv1(x).chunk(2, 1))
        parts.append(self.m(parts[-1]))
        return self.cv2(torch.cat(parts, 1))


class FaceCls(nn.Module):
    """Two stride-2 depthwise convs, global max pool, linear, sigmoid."""

    def __init__(self, act, c_in, c_mid, c_out):
        super().__init__()
        self.conv1 = depthwise(act, c_in, c_mid, 3, 2)
        self.conv2 = depthwise(act, c_mid, c_out, 3, 2)
        self.fc = nn.Linear(c_out, 1)

    def forward(self, x):
        x = self.conv2(self.conv1(x))
        return torch.sigmoid(self.fc(torch.amax(x, dim=(2, 3))))


class LWModel(nn.Module):
    """PReLU stem, IdentifyBlocks, three average-pooled pyramid levels, Linear-Tanh x2."""

    def __init__(self):
        super().__init__()
        act = nn.ReLU6()
        self.stem = nn.Sequential(conv_bn(3, 16, 3, 2), nn.PReLU())
        self.backbone = nn.Sequential(
            Identify(act, 16, 16, 2, 2), *[Identify(act, 16, 16, 2, 1) for _ in range(4)]
        )
        self.main = nn.Sequential(
            Identify(act, 16, 32, 2, 2),
            Identify(act, 32, 32, 4, 1),
            Identify(act, 32, 32, 4, 1),
            Identify(act, 32, 64, 4, 1),
            Identify(act, 64, 64, 4, 1),
            Identify(act, 64, 64, 4, 1),
        )
        self.p1 = Identify(act, 64, 128, 2, 1)
        self.p2 = Identify(act, 128, 128, 2, 2)
        self.p3 = Identify(act, 128, 128, 2, 1)
        self.logit = nn.Sequential(
            nn.Linear(384, 2 * 2 * POINTS),
            nn.Tanh(),
            nn.Linear(2 * 2 * POINTS, 2 * POINTS),
            nn.Tanh(),
        )
        self.cls = FaceCls(act, 16, 32, 64)

    def forward(self, x):
        f = self.backbone(self.stem(x))
        face = self.cls(f)
        x1 = self.p1(self.main(f))
        x2 = self.p2(x1)
        x3 = self.p3(x2)
        pooled = torch.cat([t.mean(dim=(2, 3)) for t in (x1, x2, x3)], 1)
        return torch.cat([self.logit(pooled), face], 1)


class LWCSPModel(nn.Module):
    """Conv + C2f stages, three max-pooled pyramid levels, Linear-Tanh."""

    def __init__(self):
        super().__init__()
        act = nn.SiLU()
        self.backbone = nn.Sequential(Block(act, 3, 8, 3, 2), C2f(act, 8, 16), C2f(act, 16, 32))
        self.s1 = nn.Sequential(
            Block(act, 32, 32, 3, 2), C2f(act, 32, 64), Block(act, 64, 64, 3, 2), C2f(act, 64, 96)
        )
        self.s2 = nn.Sequential(Block(act, 96, 96, 3, 2), C2f(act, 96, 96))
        self.s3 = nn.Sequential(Block(act, 96, 96, 3, 2), C2f(act, 96, 96))
        self.logit = nn.Sequential(nn.Linear(288, 2 * POINTS), nn.Tanh())
        self.cls = FaceCls(act, 32, 32, 64)

    def forward(self, x):
        f = self.backbone(x)
        face = self.cls(f)
        x1 = self.s1(f)
        x2 = self.s2(x1)
        x3 = self.s3(x2)
        pooled = torch.cat([torch.amax(t, dim=(2, 3)) for t in (x1, x2, x3)], 1)
        return torch.cat([self.logit(pooled), face], 1)


MODELS = {"LWModel": (LWModel, 429_206), "LWCSPModel": (LWCSPModel, 482_165)}


def make(name):
    cls, expected = MODELS[name]
    model = cls()
    params = sum(p.numel() for p in model.parameters())
    if params != expected:
        raise SystemExit(f"{name}: {params} parameters, expected {expected}")
    return model


class Step:
    """One training step of `model` on fixed random data, with its phases timed."""

    def __init__(self, model, batch, device="cpu"):
        self.device = torch.device(device)
        self.model = model.to(self.device).train()
        self.opt = torch.optim.NAdam(model.parameters(), lr=1e-3)
        self.x = (torch.rand(batch, 3, 96, 96) * 2 - 1).to(self.device)
        self.y = (torch.rand(batch, 2 * POINTS + 1) - 0.5).to(self.device)

    def now(self):
        """The time once the device has finished what was queued."""
        if self.device.type == "cuda":
            torch.cuda.synchronize(self.device)
        return time.perf_counter()

    def __call__(self):
        t0 = self.now()
        loss = torch.nn.functional.l1_loss(self.model(self.x), self.y)
        t1 = self.now()
        self.opt.zero_grad(set_to_none=True)
        loss.backward()
        t2 = self.now()
        self.opt.step()
        t3 = self.now()
        return t1 - t0, t2 - t1, t3 - t2


# ---- per-op profile -------------------------------------------------------------------------

ACTIVATIONS = ("hardtanh", "relu6", "silu", "prelu", "tanh", "sigmoid", "threshold")


def conv_kind(shapes):
    """Kind of a convolution from its recorded input shapes: the weight is the second 4-D shape
    of a forward op (input, weight) and the third of a backward op (grad, input, weight)."""
    weights = [s for s in shapes if isinstance(s, list) and len(s) == 4]
    if len(weights) < 2:
        return None
    w = weights[2] if len(weights) >= 3 else weights[1]
    if w[2] == 1 and w[3] == 1:
        return "1x1 conv"
    return "depthwise conv" if w[1] == 1 else "dense 3x3 conv"


def own_kind(event):
    """Op kind an event names by itself, or None when it inherits its parent's."""
    name = event.name.lower()
    if "convolution" in name or "conv2d" in name or "conv_depthwise" in name:
        return conv_kind(event.input_shapes) if event.input_shapes else None
    table = [
        (("batch_norm", "batchnorm"), "BatchNorm"),
        (("max_pool", "maxpool", "amax", "mean", "avg_pool"), "pooling"),
        (ACTIVATIONS, "activations"),
        (("cat", "split", "chunk", "narrow", "slice"), "concat/split"),
        (("addmm", "linear", "mm"), "linear"),
        (("l1_loss", "abs", "sgn"), "loss"),
        (("nadam", "optimizer", "_foreach"), "optimizer"),
    ]
    for keys, kind in table:
        if any(k in name for k in keys):
            return kind
    return None


def kind_of(event, cache):
    """The kind of `event`: its own, else its nearest classified ancestor's, else 'other'."""
    if event.id in cache:
        return cache[event.id]
    kind = own_kind(event)
    if kind is None and event.cpu_parent is not None:
        kind = kind_of(event.cpu_parent, cache)
    cache[event.id] = kind or "other"
    return cache[event.id]


def in_backward(event):
    while event is not None:
        if "autograd::engine" in event.name or "Backward" in event.name:
            return True
        event = event.cpu_parent
    return False


def profile(step, name, steps):
    from torch.profiler import ProfilerActivity, profile as torch_profile

    for _ in range(2):
        step()
    with torch_profile(activities=[ProfilerActivity.CPU], record_shapes=True) as prof:
        for _ in range(steps):
            step()
    events = prof.events()
    # Convolution backward nodes take their kind from the convolution_backward op under them.
    cache = {}
    for e in events:
        if e.name == "aten::convolution_backward":
            kind = conv_kind(e.input_shapes)
            parent = e.cpu_parent
            while parent is not None and parent.name != "aten::convolution_backward":
                if "ConvolutionBackward" in parent.name:
                    cache[parent.id] = kind
                parent = parent.cpu_parent
    totals = {}
    for e in events:
        kind = kind_of(e, cache)
        phase = "backward" if in_backward(e) else "forward"
        if kind == "optimizer":
            phase = "optimizer"
        totals.setdefault(kind, {"forward": 0.0, "backward": 0.0, "optimizer": 0.0})
        totals[kind][phase] += e.self_cpu_time_total / 1e3 / steps
    print(f"\n{name}: torch.profiler, self CPU time in ms per step by op kind ({steps} steps)")
    print(f"| {'op kind':<16} | {'forward':>8} | {'backward':>8} | {'total':>8} |")
    print(f"|{'-' * 18}|{'-' * 10}|{'-' * 10}|{'-' * 10}|")
    rows = sorted(totals.items(), key=lambda kv: -sum(kv[1].values()))
    for kind, t in rows:
        total = sum(t.values())
        backward = t["backward"] + t["optimizer"]
        print(f"| {kind:<16} | {t['forward']:8.1f} | {backward:8.1f} | {total:8.1f} |")
    fwd = sum(t["forward"] for t in totals.values())
    bwd = sum(t["backward"] + t["optimizer"] for t in totals.values())
    print(f"| {'all':<16} | {fwd:8.1f} | {bwd:8.1f} | {fwd + bwd:8.1f} |")
    print(f"\n{name}: torch's top ops by self CPU time ({steps} steps)")
    print(prof.key_averages().table(sort_by="self_cpu_time_total", row_limit=20))


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--models", nargs="+", default=list(MODELS), choices=list(MODELS))
    parser.add_argument("--batch", type=int, default=64)
    parser.add_argument("--steps", type=int, default=10)
    parser.add_argument("--warmup", type=int, default=2)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--device", default="cpu", help="cpu, cuda or cuda:N")
    parser.add_argument("--profile", action="store_true")
    parser.add_argument("--profile-steps", type=int, default=3)
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    torch.manual_seed(0)
    for name in args.models:
        step = Step(make(name), args.batch, args.device)
        for _ in range(args.warmup):
            step()
        times = [step() for _ in range(args.steps)]
        fwd, bwd, opt = (statistics.median(t[i] for t in times) * 1e3 for i in range(3))
        total = statistics.median(sum(t) for t in times)
        print(
            f"{name} step_ms={total * 1e3:.1f} img_per_s={args.batch / total:.1f} "
            f"forward_ms={fwd:.1f} backward_ms={bwd:.1f} optimizer_ms={opt:.1f} "
            f"threads={args.threads} device={args.device} batch={args.batch} "
            f"torch={torch.__version__}",
            flush=True,
        )
        if args.profile:
            profile(step, name, args.profile_steps)


if __name__ == "__main__":
    main()
