#!/usr/bin/env python3
"""onnxruntime's time per node for one ONNX file at batch 1, 1 thread, to set beside
`cargo bench -p fdfat-infer --bench fused -- --profile` (our time per layer).

    python3 scripts/ort_profile.py MODEL.onnx [--runs 300] [--warmup 50]

onnxruntime CPU with all graph optimisations (its NCHWc layout transformer included, so the
nodes are the fused ones it runs: Conv with its activation split off as QuickGelu for SiLU,
ReorderInput / ReorderOutput layout changes), profiled over `--runs` calls; prints the median
and fastest kernel time of every node in microseconds, then the totals by operator type.
"""

import argparse
import collections
import json
import os
import tempfile

import numpy as np
import onnxruntime as ort


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("model")
    parser.add_argument("--runs", type=int, default=300)
    parser.add_argument("--warmup", type=int, default=50)
    args = parser.parse_args()

    with tempfile.TemporaryDirectory() as tmp:
        options = ort.SessionOptions()
        options.intra_op_num_threads = 1
        options.inter_op_num_threads = 1
        options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
        options.enable_profiling = True
        options.profile_file_prefix = os.path.join(tmp, "ort")
        sess = ort.InferenceSession(args.model, options, providers=["CPUExecutionProvider"])
        [inp] = sess.get_inputs()
        shape = [d if isinstance(d, int) else 1 for d in inp.shape]
        feed = {inp.name: np.random.default_rng(0).uniform(-1, 1, shape).astype(np.float32)}
        for _ in range(args.warmup + args.runs):
            sess.run(None, feed)
        with open(sess.end_profiling()) as f:
            events = json.load(f)

    times = collections.defaultdict(list)
    kinds = {}
    for event in events:
        name = event.get("name", "")
        if event.get("cat") == "Node" and name.endswith("_kernel_time"):
            node = name[: -len("_kernel_time")]
            times[node].append(event["dur"])
            kinds[node] = event["args"].get("op_name", "?")

    print(f"onnxruntime {ort.__version__}, {args.runs} calls after {args.warmup} warm-up calls")
    print(f"{'node':<60} {'op':<16} {'median':>8} {'fastest':>8}")
    by_kind = collections.Counter()
    total = 0.0
    for node, durations in times.items():
        durations = sorted(durations[args.warmup :])
        median = durations[len(durations) // 2]
        total += median
        by_kind[kinds[node]] += median
        print(f"{node[:60]:<60} {kinds[node]:<16} {median:>6.0f}us {durations[0]:>6.0f}us")
    print(f"\nsum of medians {total / 1e3:.3f} ms; by operator type:")
    for kind, us in by_kind.most_common():
        print(f"  {kind:<16} {us:>7.0f} us {100 * us / total:5.1f}%")


if __name__ == "__main__":
    main()
