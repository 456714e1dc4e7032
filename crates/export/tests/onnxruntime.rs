//! The exported files in onnxruntime (`scripts/check_onnxruntime.py`, CPU, 1 thread): the
//! published LWModel and LWCSPModel match the original PyTorch outputs within 1e-4 on the parity
//! inputs, the uint8-NHWC variant matches tract within 1e-4, and the int8 model matches tract's
//! run of the same file within a few quantization steps. Skipped with a notice when python3
//! cannot import onnxruntime and numpy, except under `CI=true`, where `.ci/run` installs them
//! from `scripts/requirements-ci.txt`.

mod common;

use common::{CSP, LW, Published, python_script, run_check, write_npy_f32, write_npy_u8};
use fdfat_export::quantize::{calibrate, quantize};
use fdfat_export::{
    GraphOptions, Input, InputLayout, OnnxOptions, OnnxRunner, SampleBatch, to_onnx, write_onnx,
};
use std::path::{Path, PathBuf};

/// The check script, or `None` (with a notice) when onnxruntime is not importable outside CI.
fn script() -> Option<PathBuf> {
    python_script("check_onnxruntime.py", "onnxruntime, numpy")
}

/// Runs the script; panics with its output unless it succeeds.
fn check(script: &Path, model: &Path, inputs: &Path, expected: &Path, atol: f32) {
    run_check(
        script,
        [model, inputs, expected],
        &["--atol", &atol.to_string()],
    );
}

fn check_published(published: &Published) {
    let (Some(script), Some((model, _)), Some(parity)) =
        (script(), published.load(), shared_path_of_parity())
    else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("model.onnx");
    write_onnx(&to_onnx(&model, &OnnxOptions::default()).unwrap(), &path).unwrap();
    check(
        &script,
        &path,
        &parity.join("inputs.npy"),
        &parity.join(published.outputs),
        1e-4,
    );
}

fn shared_path_of_parity() -> Option<PathBuf> {
    fdfat_config::fixtures::shared_path("reference/parity")
}

#[test]
fn lw_model_in_onnxruntime_matches_pytorch() {
    check_published(&LW);
}

#[test]
fn lwcsp_model_in_onnxruntime_matches_pytorch() {
    check_published(&CSP);
}

#[test]
fn uint8_and_int8_variants_in_onnxruntime_match_tract() {
    let (Some(script), Some((model, _)), Some((inputs, _))) = (script(), LW.load(), LW.parity())
    else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let float = to_onnx(&model, &OnnxOptions::default()).unwrap();
    let float_inputs = dir.path().join("inputs.npy");
    write_npy_f32(&float_inputs, &[6, 3, 96, 96], &inputs.data);

    // uint8 NHWC: the parity crops rounded to pixels
    let pixels: Vec<u8> = (0..6 * 96 * 96 * 3)
        .map(|i| {
            let (image, rest) = (i / (96 * 96 * 3), i % (96 * 96 * 3));
            let (pixel, channel) = (rest / 3, rest % 3);
            let v = inputs.data[(image * 3 + channel) * 96 * 96 + pixel];
            ((v + 1.0) * 127.5).round().clamp(0.0, 255.0) as u8
        })
        .collect();
    let sample = SampleBatch::from_pixels(6, 96, pixels);
    let options = OnnxOptions {
        graph: GraphOptions {
            input: InputLayout::NhwcU8,
            ..GraphOptions::default()
        },
        ..OnnxOptions::default()
    };
    let nhwc = dir.path().join("nhwc.onnx");
    write_onnx(&to_onnx(&model, &options).unwrap(), &nhwc).unwrap();
    let expected = OnnxRunner::load(&nhwc)
        .unwrap()
        .run(sample.input(InputLayout::NhwcU8))
        .unwrap();
    let (pixel_inputs, nhwc_expected) = (
        dir.path().join("pixels.npy"),
        dir.path().join("nhwc_expected.npy"),
    );
    write_npy_u8(&pixel_inputs, &[6, 96, 96, 3], &sample.pixels);
    write_npy_f32(&nhwc_expected, &[6, 141], &expected);
    check(&script, &nhwc, &pixel_inputs, &nhwc_expected, 1e-4);

    // int8, calibrated on the four face crops
    let ranges = calibrate(
        &float,
        [Input::F32(&inputs.data[..4 * 3 * 96 * 96], [4, 3, 96, 96])],
    )
    .unwrap();
    let int8 = dir.path().join("int8.onnx");
    write_onnx(&quantize(&float, &ranges).unwrap(), &int8).unwrap();
    let expected = OnnxRunner::load(&int8)
        .unwrap()
        .run(Input::F32(&inputs.data, [6, 3, 96, 96]))
        .unwrap();
    let int8_expected = dir.path().join("int8_expected.npy");
    write_npy_f32(&int8_expected, &[6, 141], &expected);
    check(&script, &int8, &float_inputs, &int8_expected, 0.03);
}
