#!/usr/bin/env python3
"""Time one ONNX file in onnxruntime on request, for benchmarks that interleave it with others.

    python3 scripts/ort_timer.py MODEL.onnx [--batch 1]

onnxruntime CPU, 1 intra-op and 1 inter-op thread, all graph optimisations, random float
input in [-1, 1). After 50 warm-up calls it prints `ready`; then for each line `N` read from
stdin it times N calls and prints their latencies in seconds on one line. Used by
`cargo bench -p fdfat-infer --bench fused`.
"""

import argparse
import sys
import time

import numpy as np
import onnxruntime as ort


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("model")
    parser.add_argument("--batch", type=int, default=1)
    args = parser.parse_args()

    options = ort.SessionOptions()
    options.intra_op_num_threads = 1
    options.inter_op_num_threads = 1
    options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
    sess = ort.InferenceSession(args.model, options, providers=["CPUExecutionProvider"])
    [inp] = sess.get_inputs()
    shape = [d if isinstance(d, int) else args.batch for d in inp.shape]
    shape[0] = args.batch
    feed = {inp.name: np.random.default_rng(0).uniform(-1, 1, size=shape).astype(np.float32)}
    for _ in range(50):
        sess.run(None, feed)
    print(f"ready onnxruntime {ort.__version__}", flush=True)
    for line in sys.stdin:
        times = []
        for _ in range(int(line)):
            start = time.perf_counter()
            sess.run(None, feed)
            times.append(time.perf_counter() - start)
        print(" ".join(f"{t:.9f}" for t in times), flush=True)


if __name__ == "__main__":
    main()
