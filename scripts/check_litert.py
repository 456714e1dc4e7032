#!/usr/bin/env python3
"""Run an exported fdfat-rs TFLite file in LiteRT and compare with expected outputs.

    python3 scripts/check_litert.py MODEL.tflite INPUTS.npy EXPECTED.npy [--atol 1e-4]
        [--kernels default|reference] [--report-only] [--latency RUNS]

INPUTS is `[N, 3, H, W]` float32 (normalised, as the ONNX export takes; transposed to NHWC
here) or `[N, H, W, 3]` uint8 pixels. An int8 input is quantized with the file's own input
parameters, an int8 output dequantized with its output parameters. Checks that the input is
named `input` and the output `output`, that the batch axis is free (`shape_signature` -1, the
whole batch is run at once), that the `serving_default` signature runs, and that the outputs
are within ATOL of EXPECTED (unless --report-only). `--kernels reference` uses LiteRT's
reference kernels instead of the optimised ones (and XNNPACK). `--latency RUNS` times RUNS
single-image runs at 1 thread and prints the median in ms. Prints `max_abs_diff=<value>`.
Exit status 0 on success, 1 on a mismatch, 2 on a bad file or argument.
"""

import argparse
import sys
import time

import numpy as np
from ai_edge_litert import interpreter as litert


def fail(message, status=1):
    print(f"FAIL: {message}", file=sys.stderr)
    sys.exit(status)


def make(model, kernels, threads=1):
    resolver = (
        litert.OpResolverType.BUILTIN_REF
        if kernels == "reference"
        else litert.OpResolverType.AUTO
    )
    try:
        return litert.Interpreter(
            model_path=model,
            num_threads=threads,
            experimental_op_resolver_type=resolver,
        )
    except Exception as e:
        fail(f"LiteRT cannot load {model}: {e}", 2)


def to_model_input(detail, inputs):
    """The batch as the model's input type: NHWC, quantized if the input is integer."""
    if inputs.dtype == np.uint8:
        if detail["dtype"] != np.uint8:
            fail(f"uint8 pixels given to a {detail['dtype']} input", 2)
        return inputs
    nhwc = np.transpose(inputs, (0, 2, 3, 1)).astype(np.float32)
    if detail["dtype"] == np.float32:
        return nhwc
    scale, zero = detail["quantization"]
    info = np.iinfo(detail["dtype"])
    q = np.clip(np.round(nhwc / scale) + zero, info.min, info.max)
    return q.astype(detail["dtype"])


def from_model_output(detail, values):
    if values.dtype == np.float32:
        return values
    scale, zero = detail["quantization"]
    return (values.astype(np.float32) - zero) * scale


def run(interp, inputs):
    [inp] = interp.get_input_details()
    [out] = interp.get_output_details()
    data = to_model_input(inp, inputs)
    interp.resize_tensor_input(inp["index"], list(data.shape), strict=True)
    interp.allocate_tensors()
    interp.set_tensor(inp["index"], data)
    interp.invoke()
    return from_model_output(out, interp.get_tensor(out["index"]))


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("model")
    parser.add_argument("inputs")
    parser.add_argument("expected")
    parser.add_argument("--atol", type=float, default=1e-4)
    parser.add_argument("--kernels", choices=["default", "reference"], default="default")
    parser.add_argument("--report-only", action="store_true")
    parser.add_argument("--latency", type=int, default=0)
    args = parser.parse_args()

    inputs = np.load(args.inputs)
    expected = np.load(args.expected).astype(np.float32)
    interp = make(args.model, args.kernels)
    [inp] = interp.get_input_details()
    [out] = interp.get_output_details()
    if inp["name"] != "input" or out["name"] != "output":
        fail(f"names are {inp['name']!r} -> {out['name']!r}, not 'input' -> 'output'")
    if inp["shape_signature"][0] != -1 or out["shape_signature"][0] != -1:
        fail(f"batch axis is fixed: {inp['shape_signature']} -> {out['shape_signature']}")
    signatures = interp.get_signature_list()
    if "serving_default" not in signatures:
        fail(f"no serving_default signature: {signatures}")

    got = run(interp, inputs)
    if got.shape != expected.shape:
        fail(f"output shape {got.shape}, expected {expected.shape}")
    diff = float(np.max(np.abs(got - expected)))
    mean = float(np.mean(np.abs(got - expected)))
    # the first image alone through the signature runner (batch 1)
    runner = make(args.model, args.kernels).get_signature_runner("serving_default")
    one = to_model_input(inp, inputs[:1])
    alone = from_model_output(out, runner(input=one)["output"])
    diff_one = float(np.max(np.abs(alone - expected[:1])))
    shape = lambda d: [int(v) for v in d["shape_signature"]]  # noqa: E731
    print(
        f"{args.model}: {inp['dtype'].__name__}{shape(inp)} -> "
        f"{out['dtype'].__name__}{shape(out)}, kernels {args.kernels}: "
        f"max_abs_diff={diff:.3e} mean_abs_diff={mean:.3e} (batch {len(inputs)}), "
        f"{diff_one:.3e} (signature, batch 1)"
    )
    if args.latency:
        interp = make(args.model, args.kernels)
        run(interp, inputs[:1])
        data = to_model_input(inp, inputs[:1])
        times = []
        for _ in range(args.latency):
            start = time.perf_counter()
            interp.set_tensor(inp["index"], data)
            interp.invoke()
            times.append(time.perf_counter() - start)
        print(f"latency_ms={1e3 * float(np.median(times)):.3f}")
    if not args.report_only and max(diff, diff_one) > args.atol:
        fail(f"max |litert - expected| = {max(diff, diff_one):.3e} > {args.atol}")


if __name__ == "__main__":
    main()
