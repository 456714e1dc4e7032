//! `fdfat --task export` end to end: the published LWModel `best.pt` exported by the binary,
//! with the summary printed and the file checked in tract.

use fdfat_config::fixtures::shared_path;
use std::process::Command;

#[test]
fn exports_the_published_lwmodel() {
    let Some(checkpoint) =
        shared_path("data/reference_checkpoints/LWModel_ReLU6_affine_cls/best.pt")
    else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let out = Command::new(env!("CARGO_BIN_EXE_fdfat"))
        .args([
            "--task",
            "export",
            "--export_format",
            "onnx",
            "--face_cls",
            "true",
        ])
        .args(["--checkpoint", checkpoint.to_str().unwrap()])
        .args(["--project", dir.path().to_str().unwrap(), "--name", "lw"])
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{stdout}\n{stderr}");
    let path = dir.path().join("lw/weights/model.onnx");
    assert!(path.exists(), "{stdout}");
    assert!(stdout.contains("103 nodes"), "{stdout}");
    assert!(stdout.contains("max |onnx - burn|"), "{stdout}");
    let info = fdfat_export::OnnxInfo::of(&fdfat_export::read_model(&path).unwrap());
    assert_eq!(info.outputs[0].1, vec!["N", "141"]);
}
