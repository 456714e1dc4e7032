#!/usr/bin/env python3
"""Run an exported fdfat-rs ONNX file in onnxruntime and compare with expected outputs.

    python3 scripts/check_onnxruntime.py MODEL.onnx INPUTS.npy EXPECTED.npy [--atol 1e-4]

Checks that the model validates with `onnx.checker` (when the `onnx` package is installed),
that its input is named `input` and its output `output`, both with a free batch axis, and that
onnxruntime (CPU, 1 thread) gives EXPECTED within ATOL on the whole batch and on its first row
alone (the batch axis is dynamic). Exit status 0 on success, 1 on a mismatch, 2 on a bad
file or argument.
"""

import argparse
import sys

import numpy as np
import onnxruntime as ort


def fail(message, status=1):
    print(f"FAIL: {message}", file=sys.stderr)
    sys.exit(status)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("model")
    parser.add_argument("inputs")
    parser.add_argument("expected")
    parser.add_argument("--atol", type=float, default=1e-4)
    args = parser.parse_args()

    try:
        import onnx

        onnx.checker.check_model(onnx.load(args.model), full_check=True)
    except ImportError:
        print("note: the onnx package is not installed; skipping onnx.checker")
    except Exception as e:  # the checker raises several error types
        fail(f"{args.model} does not pass onnx.checker: {e}", 2)

    options = ort.SessionOptions()
    options.intra_op_num_threads = 1
    options.inter_op_num_threads = 1
    try:
        session = ort.InferenceSession(
            args.model, options, providers=["CPUExecutionProvider"]
        )
    except Exception as e:
        fail(f"onnxruntime cannot load {args.model}: {e}", 2)

    [model_input] = session.get_inputs()
    [model_output] = session.get_outputs()
    if model_input.name != "input" or model_output.name != "output":
        fail(f"names are {model_input.name!r} -> {model_output.name!r}, not 'input' -> 'output'")
    if isinstance(model_input.shape[0], int) or isinstance(model_output.shape[0], int):
        fail(f"batch axis is fixed: {model_input.shape} -> {model_output.shape}")

    inputs = np.load(args.inputs)
    expected = np.load(args.expected).astype(np.float32)
    got = session.run(["output"], {"input": inputs})[0]
    if got.shape != expected.shape:
        fail(f"output shape {got.shape}, expected {expected.shape}")
    diff = float(np.max(np.abs(got - expected)))
    single = session.run(["output"], {"input": inputs[:1]})[0]
    single_diff = float(np.max(np.abs(single - expected[:1])))
    print(
        f"{args.model}: onnxruntime {ort.__version__}, output {got.shape}, "
        f"max |diff| {diff:.3e} (batch {len(inputs)}), {single_diff:.3e} (batch 1), "
        f"atol {args.atol:g}"
    )
    if not (diff <= args.atol and single_diff <= args.atol):
        fail(f"max |diff| {max(diff, single_diff):.3e} > {args.atol:g}")
    print("OK")


if __name__ == "__main__":
    main()
