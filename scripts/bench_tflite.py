#!/usr/bin/env python3
"""Time exported TFLite files in LiteRT beside ONNX files in onnxruntime, side by side.

    python3 scripts/bench_tflite.py NAME=FILE [NAME=FILE ...] [--runs 300] [--rounds 10]

Every `.tflite` file runs in LiteRT (default kernels with XNNPACK, 1 thread), every `.onnx`
file in onnxruntime (CPU, 1 intra-op and 1 inter-op thread, all graph optimisations), at batch
1 on a random input in [-1, 1) (quantized with the file's own parameters for an int8 input,
uint8 pixels for a uint8 input). Each is warmed up, then all are timed in alternating rounds
of RUNS calls, so that load drifting on the machine affects them alike. Prints the median
latency per file in ms, and its ratio to the first file.
"""

import argparse
import statistics
import time

import numpy as np


def litert_runner(path, rng):
    from ai_edge_litert import interpreter as litert

    interp = litert.Interpreter(model_path=path, num_threads=1)
    [inp] = interp.get_input_details()
    shape = [1] + [int(d) for d in inp["shape"][1:]]
    interp.resize_tensor_input(inp["index"], shape, strict=True)
    interp.allocate_tensors()
    if inp["dtype"] == np.float32:
        value = rng.uniform(-1.0, 1.0, size=shape).astype(np.float32)
    else:
        info = np.iinfo(inp["dtype"])
        value = rng.integers(info.min, info.max + 1, size=shape).astype(inp["dtype"])

    def run():
        interp.set_tensor(inp["index"], value)
        interp.invoke()

    return run


def onnx_runner(path, rng):
    import onnxruntime as ort

    options = ort.SessionOptions()
    options.intra_op_num_threads = 1
    options.inter_op_num_threads = 1
    options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
    sess = ort.InferenceSession(path, options, providers=["CPUExecutionProvider"])
    [inp] = sess.get_inputs()
    shape = [1] + [d if isinstance(d, int) else 1 for d in inp.shape[1:]]
    if inp.type == "tensor(uint8)":
        value = rng.integers(0, 256, size=shape, dtype=np.uint8)
    else:
        value = rng.uniform(-1.0, 1.0, size=shape).astype(np.float32)
    return lambda: sess.run(None, {inp.name: value})


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("files", nargs="+", metavar="NAME=FILE")
    parser.add_argument("--runs", type=int, default=300)
    parser.add_argument("--rounds", type=int, default=10)
    args = parser.parse_args()
    rng = np.random.default_rng(0)
    runners = []
    for item in args.files:
        name, path = item.split("=", 1)
        make = litert_runner if path.endswith(".tflite") else onnx_runner
        runners.append((name, make(path, rng)))
    for _, run in runners:
        for _ in range(max(args.runs // 10, 5)):
            run()
    times = {name: [] for name, _ in runners}
    for _ in range(args.rounds):
        for name, run in runners:
            for _ in range(args.runs):
                start = time.perf_counter()
                run()
                times[name].append(time.perf_counter() - start)
    first = statistics.median(times[runners[0][0]])
    print(f"{'file':<28} {'median ms':>10} {'ratio':>7}")
    for name, _ in runners:
        median = statistics.median(times[name])
        print(f"{name:<28} {1e3 * median:>10.3f} {median / first:>7.2f}")


if __name__ == "__main__":
    main()
