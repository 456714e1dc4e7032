//! The published LWModel and LWCSPModel, imported from `best.pt` and exported, run in tract on
//! the parity inputs and match the original PyTorch outputs within 1e-4; the graphs have the
//! deployment layout (BatchNorm folded, named input / output, free batch axis).

mod common;

use common::{CSP, LW, Published};
use fdfat_export::{
    ExportError, GraphOptions, Input, InputLayout, OnnxInfo, OnnxOptions, OnnxRunner, TOLERANCE,
    max_abs_diff, pb, to_onnx, write_onnx,
};
use std::path::Path;

/// Exports `published` to a temporary file; returns the runner, the model and
/// the parity fixtures.
fn export_and_load(
    published: &Published,
) -> Option<(
    OnnxRunner,
    pb::ModelProto,
    fdfat_models::npy::NpyArray,
    Vec<f32>,
)> {
    let (model, _) = published.load()?;
    let (inputs, expected) = published.parity()?;
    let onnx = to_onnx(&model, &OnnxOptions::default()).unwrap();
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("model.onnx");
    let bytes = write_onnx(&onnx, &path).unwrap();
    assert_eq!(bytes, std::fs::metadata(&path).unwrap().len());
    let runner = OnnxRunner::load(&path).unwrap();
    Some((runner, onnx, inputs, expected.data))
}

fn check_parity(published: &Published) -> Option<OnnxInfo> {
    let (runner, onnx, inputs, expected) = export_and_load(published)?;
    let info = OnnxInfo::of(&onnx);
    let dims = [6, 3, 96, 96];
    assert_eq!(inputs.shape, dims);
    let got = runner.run(Input::F32(&inputs.data, dims)).unwrap();
    let (diff, index) = max_abs_diff(&got, &expected);
    println!(
        "{}: max |tract - pytorch| = {diff:.2e} at {index}",
        published.dir
    );
    assert!(diff <= TOLERANCE, "{}: {diff} at {index}", published.dir);

    // the batch axis is free: one image alone gives its row of the batch
    let image = &inputs.data[..3 * 96 * 96];
    let one = runner.run(Input::F32(image, [1, 3, 96, 96])).unwrap();
    assert!(max_abs_diff(&one, &expected[..141]).0 <= TOLERANCE);
    // planned for batch 1, it gives the same row, and refuses other batch sizes
    let fixed = OnnxRunner::for_batch(&onnx, Path::new("model.onnx"), 1).unwrap();
    let one = fixed.run(Input::F32(image, [1, 3, 96, 96])).unwrap();
    assert!(max_abs_diff(&one, &expected[..141]).0 <= TOLERANCE);
    let err = fixed.run(Input::F32(&inputs.data, dims)).unwrap_err();
    assert!(matches!(err, ExportError::Run { .. }), "{err:?}");

    assert_eq!(info.opset, 17);
    assert_eq!(
        info.inputs,
        vec![(
            "input".into(),
            vec!["N".into(), "3".into(), "96".into(), "96".into()]
        )]
    );
    assert_eq!(
        info.outputs,
        vec![("output".into(), vec!["N".into(), "141".into()])]
    );
    assert_eq!(info.count("BatchNormalization"), 0, "{:?}", info.op_counts);
    Some(info)
}

#[test]
fn lw_model_matches_pytorch_with_the_published_layout() {
    let Some(info) = check_parity(&LW) else {
        return;
    };
    // the published model.onnx: 105 nodes with 3 Flatten before its Concat; here the three
    // pooled levels share one Flatten
    assert_eq!(info.nodes, 103, "{:?}", info.op_counts);
    assert_eq!(info.count("Conv"), 45);
    assert_eq!(info.count("Clip"), 30);
    assert_eq!(info.count("PRelu"), 1);
    assert_eq!(info.count("Add"), 11);
    assert_eq!(info.count("MaxPool"), 2);
    assert_eq!(info.count("GlobalAveragePool"), 3);
    assert_eq!(info.count("GlobalMaxPool"), 1);
    assert_eq!(info.count("Gemm"), 3);
    assert_eq!(info.count("Tanh"), 2);
    assert_eq!(info.count("Sigmoid"), 1);
    assert!(info.metadata["output_layout"].contains("140: face score"));
}

#[test]
fn lwcsp_model_matches_pytorch_with_one_slice_per_c2f() {
    let Some(info) = check_parity(&CSP) else {
        return;
    };
    assert_eq!(info.count("Conv"), 31, "{:?}", info.op_counts);
    assert_eq!(info.count("Slice"), 6);
    assert_eq!(info.count("Sigmoid"), 32);
    assert_eq!(info.count("GlobalMaxPool"), 4);
    for absent in ["Shape", "Gather", "Split", "Constant", "BatchNormalization"] {
        assert_eq!(info.count(absent), 0, "{absent}: {:?}", info.op_counts);
    }
    // PyTorch's re-export has 197 nodes
    assert!(
        info.nodes <= 120,
        "{} nodes: {:?}",
        info.nodes,
        info.op_counts
    );
}

#[test]
fn unfolded_batchnorm_and_uint8_input_keep_the_outputs() {
    let (Some((model, device)), Some((inputs, _))) = (LW.load(), LW.parity()) else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    // uint8 pixels of the parity crops; the burn model sees the same pixels normalised
    let pixels: Vec<u8> = (0..6 * 96 * 96 * 3)
        .map(|i| {
            let (image, rest) = (i / (96 * 96 * 3), i % (96 * 96 * 3));
            let (pixel, channel) = (rest / 3, rest % 3);
            let v = inputs.data[(image * 3 + channel) * 96 * 96 + pixel];
            ((v + 1.0) * 127.5).round().clamp(0.0, 255.0) as u8
        })
        .collect();
    let sample = fdfat_export::SampleBatch::from_pixels(6, 96, pixels);
    for (fold_batchnorm, input) in [(false, InputLayout::NchwF32), (true, InputLayout::NhwcU8)] {
        let options = OnnxOptions {
            graph: GraphOptions {
                fold_batchnorm,
                input,
            },
            ..OnnxOptions::default()
        };
        let onnx = to_onnx(&model, &options).unwrap();
        let info = OnnxInfo::of(&onnx);
        let path = dir.path().join(format!("{fold_batchnorm}.onnx"));
        write_onnx(&onnx, &path).unwrap();
        let runner = OnnxRunner::load(&path).unwrap();
        let diff =
            fdfat_export::check_against_burn(&model, &device, &runner, &path, input, &sample)
                .unwrap();
        println!(
            "fold {fold_batchnorm}, {input:?}: {} nodes, max diff {diff:.2e}",
            info.nodes
        );
        match input {
            InputLayout::NchwF32 => {
                assert_eq!(info.count("BatchNormalization"), 45);
                assert_eq!(info.nodes, 103 + 45);
            }
            InputLayout::NhwcU8 => {
                assert_eq!(info.inputs[0].1, vec!["N", "96", "96", "3"]);
                assert_eq!(info.nodes, 103 + 4);
            }
        }
    }
}
