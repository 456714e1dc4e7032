#!/usr/bin/env python3
"""Time exported fdfat-rs ONNX files against reference files in onnxruntime, side by side.

    python3 scripts/bench_onnx.py --pair LWModel OURS.onnx PUBLISHED.onnx \
        [--pair LWCSPModel OURS.onnx REEXPORTED.onnx] [--runs 300] [--rounds 10] [--batch 1]

onnxruntime CPU, 1 intra-op and 1 inter-op thread, all graph optimisations, batch 1 by default,
random input in [-1, 1) (uint8 pixels for a uint8 input). Every session is warmed up, then the
files are timed in alternating rounds of RUNS calls, so that load drifting on the machine
affects all of them alike. Prints the median latency of each file and, per pair, ours divided
by the reference (target <= 1.0).
"""

import argparse
import statistics
import time

import numpy as np
import onnxruntime as ort


def session(path):
    options = ort.SessionOptions()
    options.intra_op_num_threads = 1
    options.inter_op_num_threads = 1
    options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
    return ort.InferenceSession(path, options, providers=["CPUExecutionProvider"])


def feed(sess, batch, rng):
    [inp] = sess.get_inputs()
    shape = [batch if not isinstance(d, int) else d for d in inp.shape]
    shape[0] = batch
    if inp.type == "tensor(uint8)":
        value = rng.integers(0, 256, size=shape, dtype=np.uint8)
    else:
        value = rng.uniform(-1.0, 1.0, size=shape).astype(np.float32)
    return {inp.name: value}


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--pair", nargs=3, action="append", required=True,
                        metavar=("LABEL", "OURS", "REFERENCE"))
    parser.add_argument("--runs", type=int, default=300, help="calls per round")
    parser.add_argument("--rounds", type=int, default=10)
    parser.add_argument("--batch", type=int, default=1)
    args = parser.parse_args()

    rng = np.random.default_rng(0)
    files = [path for _, ours, ref in args.pair for path in (ours, ref)]
    sessions = {path: session(path) for path in files}
    feeds = {path: feed(sessions[path], args.batch, rng) for path in files}
    for path in files:
        for _ in range(50):
            sessions[path].run(None, feeds[path])

    times = {path: [] for path in files}
    for _ in range(args.rounds):
        for path in files:
            sess, inputs = sessions[path], feeds[path]
            for _ in range(args.runs):
                start = time.perf_counter()
                sess.run(None, inputs)
                times[path].append(time.perf_counter() - start)

    print(f"onnxruntime {ort.__version__}, 1 thread, batch {args.batch}, "
          f"{args.rounds} x {args.runs} runs per file (median latency)")
    for label, ours, ref in args.pair:
        t_ours = statistics.median(times[ours]) * 1e3
        t_ref = statistics.median(times[ref]) * 1e3
        print(f"{label:12s} ours {t_ours:7.3f} ms  {ours}")
        print(f"{'':12s} ref  {t_ref:7.3f} ms  {ref}")
        print(f"{'':12s} ratio ours / ref = {t_ours / t_ref:.3f}")


if __name__ == "__main__":
    main()
