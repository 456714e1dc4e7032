//! TFLite end to end with the `fdfat` binary: the published LWModel exported as TFLite with
//! int8 files calibrated on real 300-W faces, then `--task val` on the exported files (the
//! float32 file scores as the checkpoint does) and `--task predict` with an int8 file.

use fdfat_config::fixtures::shared_path;
use std::path::Path;

mod common;

use common::{fdfat, json, text};

fn nme(report: &Path) -> f64 {
    json(report)["nme_mean"].as_f64().unwrap()
}

#[test]
fn exported_tflite_files_are_validated_and_predict_like_the_checkpoint() {
    let (Some(checkpoint), Some(faces), Some(image)) = (
        shared_path("data/reference_checkpoints/LWModel_ReLU6_affine_cls/best.pt"),
        shared_path("data/300w/helen_testset"),
        shared_path("data/300w/helen_testset/296814969_3.jpg"),
    ) else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("300w.yaml");
    std::fs::write(
        &data,
        format!(
            "base_path: {}\ntrain: .\nval: .\nformat: 300w\n",
            faces.display()
        ),
    )
    .unwrap();
    let project = dir.path().to_str().unwrap();
    let common = [
        "--face_cls",
        "true",
        "--data",
        data.to_str().unwrap(),
        "--project",
        project,
        "--name",
        "lw",
    ];
    let out = fdfat(
        &[
            &[
                "--task",
                "export",
                "--export_int8",
                "true",
                "--export_calib",
                "6",
            ][..],
            &["--checkpoint", checkpoint.to_str().unwrap()],
            &common,
        ]
        .concat(),
    );
    let stdout = text(&out.stdout);
    assert!(out.status.success(), "{stdout}\n{}", text(&out.stderr));
    assert!(stdout.contains("NME on 10 val faces"), "{stdout}");
    let weights = dir.path().join("lw/weights");

    let val = |model: &Path, report: &str| {
        let report = dir.path().join(report);
        let out = fdfat(
            &[
                &["--task", "val", "--checkpoint", model.to_str().unwrap()][..],
                &["--val_report", report.to_str().unwrap()],
                &common,
            ]
            .concat(),
        );
        assert!(out.status.success(), "{}", text(&out.stderr));
        nme(&report)
    };
    let reference = val(&checkpoint, "checkpoint.json");
    let float32 = val(&weights.join("model_float32.tflite"), "float32.json");
    let int8 = val(&weights.join("model_integer_quant.tflite"), "int8.json");
    println!("val NME: checkpoint {reference:.5}, float32 {float32:.5}, int8 {int8:.5}");
    assert!(
        (float32 - reference).abs() < 1e-4,
        "{float32} vs {reference}"
    );
    assert!((int8 - reference).abs() < 0.01, "{int8} vs {reference}");

    // predict on one face crop with the int8 file, and with the checkpoint
    let predict = |model: &Path, name: &str| -> Vec<[f64; 2]> {
        let out = fdfat(&[
            "--task",
            "predict",
            "--input",
            image.to_str().unwrap(),
            "--track_landmark",
            model.to_str().unwrap(),
            "--face_cls",
            "true",
            "--project",
            project,
            "--name",
            name,
        ]);
        assert!(out.status.success(), "{}", text(&out.stderr));
        let record = json(&dir.path().join(name).join("296814969_3.json"));
        record["faces"][0]["landmarks"]
            .as_array()
            .unwrap()
            .iter()
            .map(|p| [p[0].as_f64().unwrap(), p[1].as_f64().unwrap()])
            .collect()
    };
    let from_checkpoint = predict(&checkpoint, "pred_pt");
    let worst = |file: &str| {
        let points = predict(&weights.join(file), file);
        assert_eq!(points.len(), 70);
        from_checkpoint
            .iter()
            .zip(&points)
            .map(|(a, b)| (a[0] - b[0]).hypot(a[1] - b[1]))
            .fold(0.0, f64::max)
    };
    let (integer, full) = (
        worst("model_integer_quant.tflite"),
        worst("model_full_integer_quant.tflite"),
    );
    println!("int8 landmarks moved by up to {integer:.2} px (float out), {full:.2} px (int8 out)");
    // the whole 846 px image is the crop: one pixel of the 96 px model input is 8.8 px here
    let input_px = 846.0 / 96.0;
    assert!(integer < 2.0 * input_px, "integer_quant: {integer:.2} px");
    assert!(full < 3.0 * input_px, "full_integer_quant: {full:.2} px");
}
