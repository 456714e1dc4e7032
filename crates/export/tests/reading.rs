//! Reading ONNX files: the published LWModel file runs in tract and matches the reference
//! outputs; the corrupt published LWCSP file, a truncated file, an empty file and a missing
//! file each give a clear error naming the file, never a panic.

mod common;

use common::LW;
use fdfat_config::fixtures::shared_path;
use fdfat_export::{ExportError, Input, OnnxRunner, max_abs_diff, read_model};
use std::path::Path;

fn assert_unusable(path: &Path, expect: &str) {
    for err in [
        read_model(path).unwrap_err(),
        OnnxRunner::load(path).unwrap_err(),
    ] {
        let text = err.to_string();
        println!("{text}");
        assert!(matches!(err, ExportError::Onnx { .. }), "{err:?}");
        assert!(text.contains(&path.display().to_string()), "{text}");
        assert!(text.contains(expect), "{text}");
    }
}

#[test]
fn the_corrupt_published_lwcsp_file_is_a_clear_error() {
    let Some(path) =
        shared_path("data/reference_checkpoints/LWCSPModel_SiLU_affine_facecls/model.onnx")
    else {
        return;
    };
    assert_unusable(&path, "protobuf does not decode");
}

#[test]
fn truncated_empty_and_missing_files_are_errors() {
    let Some(published) =
        shared_path("data/reference_checkpoints/LWModel_ReLU6_affine_cls/model.onnx")
    else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let bytes = std::fs::read(&published).unwrap();
    let truncated = dir.path().join("truncated.onnx");
    std::fs::write(&truncated, &bytes[..bytes.len() / 2]).unwrap();
    assert_unusable(&truncated, "protobuf does not decode");

    let empty = dir.path().join("empty.onnx");
    std::fs::write(&empty, b"").unwrap();
    assert_unusable(&empty, "no graph");

    let missing = dir.path().join("missing.onnx");
    let err = OnnxRunner::load(&missing).unwrap_err();
    assert!(matches!(err, ExportError::Io { .. }), "{err:?}");
    assert!(err.to_string().contains("missing.onnx"), "{err}");
}

#[test]
fn the_published_lw_file_runs_in_tract() {
    let (Some(path), Some((inputs, expected))) = (
        shared_path("data/reference_checkpoints/LWModel_ReLU6_affine_cls/model.onnx"),
        LW.parity(),
    ) else {
        return;
    };
    let runner = OnnxRunner::load(&path).unwrap();
    let image = 3 * 96 * 96;
    for k in 0..6 {
        let got = runner
            .run(Input::F32(
                &inputs.data[k * image..(k + 1) * image],
                [1, 3, 96, 96],
            ))
            .unwrap();
        let (diff, _) = max_abs_diff(&got, &expected.data[k * 141..(k + 1) * 141]);
        assert!(diff <= 1e-4, "row {k}: {diff}");
    }
    // its batch axis is fixed to 1: a batch of 2 is a run error, not a panic
    let err = runner
        .run(Input::F32(&inputs.data[..2 * image], [2, 3, 96, 96]))
        .unwrap_err();
    assert!(matches!(err, ExportError::Run { .. }), "{err:?}");
}
