//! TFLite export: the files read back with the generated reader follow the rules LiteRT's
//! integer kernels rely on; the float files run in tract (through their ONNX equivalent) and
//! in tract-tflite like the burn model; every file runs in LiteRT (`scripts/check_litert.py`,
//! default and reference kernels): float32 within 1e-4 and float16 within 2e-3 of the
//! original PyTorch outputs, int16x8 close to tract's run of the same file, int8 reported.
//! The LiteRT checks are skipped with a notice when python3 cannot import `ai_edge_litert`,
//! except under `CI=true`.

mod common;

use common::{CSP, LW, Published, python_script, run_check, write_npy_f32, write_npy_u8};
use fdfat_export::tflite::{
    ElemType, Graph, OpKind, Precision, QuantOptions, calibrate, from_flatbuffer, quantize,
    read_tflite, runner, to_flatbuffer, to_float16, to_tflite, write_tflite,
};
use fdfat_export::{
    ExportError, Input, InputLayout, OnnxOptions, SampleBatch, TOLERANCE, burn_outputs,
    max_abs_diff,
};
use std::path::{Path, PathBuf};

/// The LiteRT check script, or `None` (with a notice) when LiteRT is not importable outside CI.
fn script() -> Option<PathBuf> {
    python_script("check_litert.py", "ai_edge_litert.interpreter, numpy")
}

/// Runs the check script on `model` with `extra` arguments, with the default and the
/// reference kernels; panics with its output unless it succeeds.
fn litert(script: &Path, model: &Path, inputs: &Path, expected: &Path, extra: &[&str]) {
    for kernels in ["default", "reference"] {
        let args = [&["--kernels", kernels][..], extra].concat();
        run_check(script, [model, inputs, expected], &args);
    }
}

/// The published model's float32 graph and the quantized graphs calibrated on the four face
/// crops of the parity inputs, with the inputs and PyTorch outputs.
struct Fixture {
    float: Graph,
    int8_full: Graph,
    int8: Graph,
    int16: Graph,
    inputs: Vec<f32>,
    expected: Vec<f32>,
}

fn fixture(published: &Published) -> Option<Fixture> {
    let (model, _) = published.load()?;
    let (inputs, expected) = published.parity()?;
    let float = to_tflite(&model, &OnnxOptions::default()).unwrap();
    let calib = Input::F32(&inputs.data[..4 * 3 * 96 * 96], [4, 3, 96, 96]);
    let ranges = calibrate(&float, [calib]).unwrap();
    let q = |precision, integer_io, float_fallback| {
        let options = QuantOptions {
            precision,
            integer_io,
            float_fallback,
        };
        quantize(&float, &ranges, options).unwrap()
    };
    Some(Fixture {
        int8_full: q(Precision::Int8, true, false),
        int8: q(Precision::Int8, false, true),
        int16: q(Precision::Int16x8, false, true),
        float,
        inputs: inputs.data,
        expected: expected.data,
    })
}

fn run_in_tract(graph: &Graph, inputs: &[f32]) -> Vec<f32> {
    let (run, _) = runner(graph, Path::new("<test>")).unwrap();
    run.run(Input::F32(
        inputs,
        [inputs.len() / (3 * 96 * 96), 3, 96, 96],
    ))
    .unwrap()
}

fn float_files_match(published: &Published) {
    let Some((model, device)) = published.load() else {
        return;
    };
    let Some(f) = fixture(published) else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    // the written bytes read back to the same graph
    let path = dir.path().join("model_float32.tflite");
    write_tflite(&f.float, &path).unwrap();
    assert_eq!(read_tflite(&path).unwrap(), f.float);
    let meta: Vec<&str> = f.float.metadata.iter().map(|(k, _)| k.as_str()).collect();
    assert!(
        meta.contains(&"model") && meta.contains(&"output_layout"),
        "{meta:?}"
    );

    // tract: float32 as burn, float16 within its precision
    let batch = [6, 3, 96, 96];
    let burn = burn_outputs(&model, &f.inputs, batch, &device).unwrap();
    let (d32, _) = max_abs_diff(&run_in_tract(&f.float, &f.inputs), &burn);
    assert!(d32 <= TOLERANCE, "float32 in tract vs burn: {d32}");
    let half = to_float16(&f.float);
    let (d16, _) = max_abs_diff(&run_in_tract(&half, &f.inputs), &burn);
    assert!(d16 <= 2e-3 && d16 > 0.0, "float16 in tract vs burn: {d16}");
    let bytes = |g: &Graph| to_flatbuffer(g).len() as f64;
    assert!(
        bytes(&half) < 0.6 * bytes(&f.float),
        "float16 halves the file"
    );
    assert!(half.ops.iter().any(|op| op.kind == OpKind::Dequantize));

    let Some(script) = script() else {
        return;
    };
    let (inputs, expected) = (dir.path().join("in.npy"), dir.path().join("out.npy"));
    write_npy_f32(&inputs, &batch, &f.inputs);
    write_npy_f32(&expected, &[6, 141], &f.expected);
    litert(&script, &path, &inputs, &expected, &["--atol", "1e-4"]);
    let path16 = dir.path().join("model_float16.tflite");
    write_tflite(&half, &path16).unwrap();
    litert(&script, &path16, &inputs, &expected, &["--atol", "2e-3"]);
}

#[test]
fn lw_float_files_match_pytorch_in_litert_and_burn_in_tract() {
    float_files_match(&LW);
}

#[test]
fn lwcsp_float_files_match_pytorch_in_litert_and_burn_in_tract() {
    float_files_match(&CSP);
}

/// The quantization parameters of tensor `t`.
fn quant(g: &Graph, t: usize) -> (Vec<f32>, Vec<i64>, usize) {
    let q = g.tensors[t]
        .quant
        .as_ref()
        .unwrap_or_else(|| panic!("`{}` is not quantized", g.tensors[t].name));
    (q.scale.clone(), q.zero_point.clone(), q.dim)
}

/// Checks the rules LiteRT's integer kernels enforce or silently rely on.
fn check_integer_rules(g: &Graph, activation: ElemType, bias: ElemType) {
    let is_q = |t: usize| g.tensors[t].dtype == activation && g.tensors[t].data.is_none();
    let mut checked = 0;
    for op in &g.ops {
        let x = op.inputs[0];
        if !is_q(x) {
            continue;
        }
        checked += 1;
        let (in_scale, _, _) = quant(g, x);
        match op.kind {
            OpKind::Conv2d { .. }
            | OpKind::DepthwiseConv2d { .. }
            | OpKind::FullyConnected { .. } => {
                let (w, b) = (op.inputs[1], op.inputs[2]);
                assert_eq!(g.tensors[w].dtype, ElemType::I8);
                let (w_scale, w_zero, dim) = quant(g, w);
                assert!(w_zero.iter().all(|&z| z == 0), "symmetric weights");
                let expected_dim = match op.kind {
                    OpKind::Conv2d { .. } => 0,
                    OpKind::DepthwiseConv2d { .. } => 3,
                    _ => 0,
                };
                assert_eq!(dim, expected_dim);
                if !matches!(op.kind, OpKind::FullyConnected { .. }) {
                    assert_eq!(w_scale.len(), g.tensors[w].shape[dim], "per channel");
                }
                assert_eq!(g.tensors[b].dtype, bias);
                let (b_scale, b_zero, _) = quant(g, b);
                assert!(b_zero.iter().all(|&z| z == 0));
                for (c, s) in b_scale.iter().enumerate() {
                    let ws = w_scale[if w_scale.len() == 1 { 0 } else { c }];
                    // exactly, not approximately: LiteRT takes the bias scale as given
                    assert_eq!(
                        *s,
                        in_scale[0] * ws,
                        "bias scale of `{}`",
                        g.tensors[b].name
                    );
                }
            }
            kind if kind.keeps_scale() => {
                let out = quant(g, op.outputs[0]);
                for &i in op.inputs.iter().filter(|&&i| g.tensors[i].data.is_none()) {
                    assert_eq!(quant(g, i), out, "{} shares one scale", kind.name());
                }
            }
            OpKind::Logistic | OpKind::Tanh if activation == ElemType::I8 => {
                let (s, z, _) = quant(g, op.outputs[0]);
                let expected = if op.kind == OpKind::Logistic {
                    (1.0 / 256.0, -128)
                } else {
                    (1.0 / 128.0, 0)
                };
                assert_eq!((s[0], z[0]), expected, "{} output", op.kind.name());
            }
            _ => {}
        }
        if activation == ElemType::I16 {
            for &t in op.outputs.iter().filter(|&&t| is_q(t)) {
                assert_eq!(quant(g, t).1, vec![0], "int16 activations are symmetric");
            }
        }
    }
    assert!(checked > 20, "only {checked} integer operators");
    // the bytes read back to the same graph, through the flatbuffer verifier
    assert_eq!(&from_flatbuffer(&to_flatbuffer(g)).unwrap(), g);
}

fn quantized_files(published: &Published) {
    let Some(f) = fixture(published) else {
        return;
    };
    check_integer_rules(&f.int8_full, ElemType::I8, ElemType::I32);
    check_integer_rules(&f.int8, ElemType::I8, ElemType::I32);
    check_integer_rules(&f.int16, ElemType::I16, ElemType::I64);
    let io = |g: &Graph| (g.tensors[g.inputs[0]].dtype, g.tensors[g.outputs[0]].dtype);
    assert_eq!(io(&f.int8_full), (ElemType::I8, ElemType::I8));
    assert_eq!(io(&f.int8), (ElemType::F32, ElemType::F32));
    assert_eq!(io(&f.int16), (ElemType::F32, ElemType::F32));

    let dir = tempfile::tempdir().unwrap();
    let inputs = dir.path().join("in.npy");
    write_npy_f32(&inputs, &[6, 3, 96, 96], &f.inputs);
    let script = script();
    for (name, graph, atol) in [
        ("full_integer_quant", &f.int8_full, None),
        ("integer_quant", &f.int8, None),
        ("integer_quant_with_int16_act", &f.int16, Some("5e-3")),
    ] {
        let tract = run_in_tract(graph, &f.inputs);
        let (d, _) = max_abs_diff(&tract, &f.expected);
        println!("{name}: max |tract - pytorch| = {d:.4}");
        let Some(script) = &script else {
            continue;
        };
        let path = dir.path().join(format!("model_{name}.tflite"));
        write_tflite(graph, &path).unwrap();
        let expected = dir.path().join(format!("{name}_tract.npy"));
        write_npy_f32(&expected, &[6, 141], &tract);
        match atol {
            // int16x8: LiteRT's integer kernels compute what tract's rounding simulates
            Some(atol) => litert(script, &path, &inputs, &expected, &["--atol", atol]),
            // int8: loads and runs; the differences are reported
            None => litert(script, &path, &inputs, &expected, &["--report-only"]),
        };
    }
}

#[test]
fn lw_quantized_files_follow_the_integer_rules_and_run_in_litert() {
    quantized_files(&LW);
}

#[test]
fn a_full_integer_file_takes_uint8_pixels_in_litert() {
    let (Some((model, _)), Some((inputs, _))) = (LW.load(), LW.parity()) else {
        return;
    };
    let mut options = OnnxOptions::default();
    options.graph.input = InputLayout::NhwcU8;
    let float = to_tflite(&model, &options).unwrap();
    let pixels = SampleBatch::from_normalised(6, 96, inputs.data.clone());
    let calib = SampleBatch::from_normalised(4, 96, inputs.data[..4 * 3 * 96 * 96].to_vec());
    let ranges = calibrate(&float, [calib.input(InputLayout::NhwcU8)]).unwrap();
    let options = QuantOptions {
        precision: Precision::Int8,
        integer_io: true,
        float_fallback: false,
    };
    let full = quantize(&float, &ranges, options).unwrap();
    let input = &full.tensors[full.inputs[0]];
    assert_eq!(input.dtype, ElemType::U8);
    assert_eq!(input.quant.as_ref().unwrap().zero_point, vec![128]);
    // the normalisation became one exact requantization to int8
    assert_eq!(full.ops[0].kind, OpKind::Quantize);
    assert!(
        !full
            .ops
            .iter()
            .any(|op| matches!(op.kind, OpKind::Cast | OpKind::Div))
    );
    let (run, layout) = runner(&full, Path::new("<u8>")).unwrap();
    assert_eq!(layout, InputLayout::NhwcU8);
    let tract = run.run(pixels.input(layout)).unwrap();
    let (float_run, _) = runner(&float, Path::new("<u8 float>")).unwrap();
    let (d, _) = max_abs_diff(&tract, &float_run.run(pixels.input(layout)).unwrap());
    assert!(d < 0.6, "uint8 full-integer vs float: {d}");
    let Some(script) = script() else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let (path, pixels_npy, expected) = (
        dir.path().join("model_full_integer_quant.tflite"),
        dir.path().join("pixels.npy"),
        dir.path().join("tract.npy"),
    );
    write_tflite(&full, &path).unwrap();
    write_npy_u8(&pixels_npy, &[6, 96, 96, 3], &pixels.pixels);
    write_npy_f32(&expected, &[6, 141], &tract);
    litert(&script, &path, &pixels_npy, &expected, &["--report-only"]);
}

#[test]
fn lwcsp_quantized_files_follow_the_integer_rules_and_run_in_litert() {
    quantized_files(&CSP);
}

#[test]
fn an_lwcsp_float32_file_runs_in_tract_tflite_like_burn() {
    // an independent reader and runtime: tract-tflite 0.23.9 covers every operator of an
    // LWCSPModel without face-score head (not LWModel's PRELU, nor the head's depth-wise
    // convolution of multiplier 2, which LiteRT runs)
    let Some((inputs, _)) = CSP.parity() else {
        return;
    };
    let device = burn::tensor::Device::default();
    let model =
        fdfat_models::LandmarkModel::new(&CSP.config(&[("face_cls", "false")]), &device).unwrap();
    use tract_tflite::prelude::*;
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("csp.tflite");
    write_tflite(&to_tflite(&model, &OnnxOptions::default()).unwrap(), &path).unwrap();
    let plan = tract_tflite::tflite()
        .model_for_path(&path)
        .unwrap()
        .into_optimized()
        .unwrap()
        .into_runnable()
        .unwrap();
    let one = &inputs.data[..3 * 96 * 96];
    let mut nhwc = vec![0.0f32; one.len()];
    for c in 0..3 {
        for p in 0..96 * 96 {
            nhwc[p * 3 + c] = one[c * 96 * 96 + p];
        }
    }
    let input = tract_ndarray::Array4::from_shape_vec((1, 96, 96, 3), nhwc).unwrap();
    let out = plan.run(tvec!(Tensor::from(input).into())).unwrap();
    let got: Vec<f32> = out[0]
        .to_plain_array_view::<f32>()
        .unwrap()
        .iter()
        .copied()
        .collect();
    let burn = burn_outputs(&model, one, [1, 3, 96, 96], &device).unwrap();
    let (d, _) = max_abs_diff(&got, &burn);
    assert!(d <= TOLERANCE, "tract-tflite vs burn: {d}");
}

#[test]
fn bad_files_and_unsupported_models_are_clear_errors() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("broken.tflite");
    std::fs::write(&path, b"not a flatbuffer at all").unwrap();
    let err = read_tflite(&path).unwrap_err();
    assert!(matches!(err, ExportError::Tflite { .. }), "{err}");
    assert!(err.to_string().contains("broken.tflite"), "{err}");

    // a truncated file of a real graph
    let device = burn::tensor::Device::default();
    let cfg = LW.config(&[]);
    let model = fdfat_models::LandmarkModel::new(&cfg, &device).unwrap();
    let bytes = to_flatbuffer(&to_tflite(&model, &OnnxOptions::default()).unwrap());
    std::fs::write(&path, &bytes[..bytes.len() / 2]).unwrap();
    let err = read_tflite(&path).unwrap_err().to_string();
    assert!(
        err.contains("broken.tflite") && err.contains("corrupt"),
        "{err}"
    );

    for activation in ["GELU", "Mish"] {
        let cfg = LW.config(&[("activation", activation)]);
        let model = fdfat_models::LandmarkModel::new(&cfg, &device).unwrap();
        let err = to_tflite(&model, &OnnxOptions::default()).unwrap_err();
        assert!(matches!(err, ExportError::TfliteUnsupported(_)), "{err}");
        assert!(err.to_string().contains(activation), "{err}");
    }
}
