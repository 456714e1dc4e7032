//! `export(cfg)` end to end: the published LWModel `best.pt` written where configured with its
//! checkpoint and configuration in the metadata, checked against burn; the int8 variant
//! calibrated and scored on a val split of the shared FaceSynthetics samples; clear errors for
//! what cannot be exported.

mod common;

use common::{CSP, LW};
use fdfat_config::fixtures::shared_path;
use fdfat_export::{ExportError, OnnxInfo, TOLERANCE, export, read_model};
use std::path::Path;

#[test]
fn exports_to_the_configured_path_with_provenance() {
    let Some(checkpoint) = LW.checkpoint() else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("out").join("lw.onnx");
    let cfg = LW.config(&[
        ("checkpoint", checkpoint.to_str().unwrap()),
        ("export_format", "onnx"),
        ("export_path", path.to_str().unwrap()),
    ]);
    let summary = export(&cfg).unwrap();
    assert_eq!(summary.path, path);
    assert_eq!(summary.info.nodes, 103);
    assert!(summary.max_diff <= TOLERANCE);
    assert_eq!(summary.bytes, std::fs::metadata(&path).unwrap().len());
    assert!(summary.latency.as_secs_f64() > 0.0);
    assert!(summary.int8.is_none());
    let text = summary.to_string();
    assert!(
        text.contains("103 nodes") && text.contains("max |onnx - burn|"),
        "{text}"
    );

    let info = OnnxInfo::of(&read_model(&path).unwrap());
    assert_eq!(
        info.metadata["checkpoint"],
        checkpoint.display().to_string()
    );
    let config: serde_yaml_ng::Value = serde_yaml_ng::from_str(&info.metadata["config"]).unwrap();
    assert_eq!(config["model"].as_str(), Some("LWModel"));
    assert_eq!(config["export_path"].as_str(), path.to_str());
    assert!(info.metadata["input_layout"].contains("[N, 3, 96, 96] float32"));
}

#[test]
fn the_default_path_is_in_the_run_directory_and_nhwc_uint8_works() {
    let Some(checkpoint) = CSP.checkpoint() else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let cfg = CSP.config(&[
        ("checkpoint", checkpoint.to_str().unwrap()),
        ("export_format", "ONNX"),
        ("project", dir.path().to_str().unwrap()),
        ("name", "csp"),
        ("export_nhwc_uint8", "true"),
    ]);
    let summary = export(&cfg).unwrap();
    assert_eq!(summary.path, dir.path().join("csp/weights/model.onnx"));
    assert!(summary.path.exists());
    assert!(summary.max_diff <= TOLERANCE);
    assert_eq!(summary.info.inputs[0].1, vec!["N", "96", "96", "3"]);
    assert_eq!(summary.info.count("Cast"), 1);
}

#[test]
fn what_cannot_be_exported_is_a_clear_error() {
    let dir = tempfile::tempdir().unwrap();
    let missing = dir.path().join("none.pt");
    let cfg = LW.config(&[("checkpoint", missing.to_str().unwrap())]);
    // the original's default format
    let err = export(&cfg).unwrap_err();
    assert!(
        matches!(
            err,
            ExportError::Config {
                key: "export_format",
                ..
            }
        ),
        "{err}"
    );
    assert!(err.to_string().contains("--export_format onnx"), "{err}");

    let cfg = LW.config(&[
        ("checkpoint", missing.to_str().unwrap()),
        ("export_format", "onnx"),
    ]);
    let err = export(&cfg).unwrap_err();
    assert!(
        matches!(
            err,
            ExportError::Config {
                key: "checkpoint",
                ..
            }
        ),
        "{err}"
    );
    assert!(err.to_string().contains("none.pt"), "{err}");

    let Some(checkpoint) = LW.checkpoint() else {
        return;
    };
    let cfg = LW.config(&[
        ("checkpoint", checkpoint.to_str().unwrap()),
        ("export_format", "onnx"),
        ("export_path", dir.path().join("m.onnx").to_str().unwrap()),
        ("export_int8", "true"),
    ]);
    let err = export(&cfg).unwrap_err();
    assert!(
        matches!(err, ExportError::Config { key: "data", .. }),
        "{err}"
    );

    // a checkpoint of the other architecture
    let cfg = CSP.config(&[
        ("checkpoint", checkpoint.to_str().unwrap()),
        ("export_format", "onnx"),
        ("export_path", dir.path().join("m.onnx").to_str().unwrap()),
    ]);
    let err = export(&cfg).unwrap_err();
    assert!(matches!(err, ExportError::Model(_)), "{err}");
    assert!(!dir.path().join("m.onnx").exists());
}

/// A data YAML whose val split is the shared FaceSynthetics samples.
fn samples_data_yaml(dir: &Path) -> Option<std::path::PathBuf> {
    let samples = shared_path("data/facesynthetics/samples")?;
    let mut names: Vec<String> = std::fs::read_dir(&samples)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|n| n.ends_with(".png") && !n.ends_with("_seg.png"))
        .collect();
    names.sort();
    let list = dir.join("val.txt");
    std::fs::write(&list, names.join("\n")).unwrap();
    let yaml = dir.join("data.yaml");
    std::fs::write(
        &yaml,
        format!(
            "base_path: {}\ntrain: {}\nval: {}\nformat: facesynthetics\n",
            samples.display(),
            list.display(),
            list.display()
        ),
    )
    .unwrap();
    Some(yaml)
}

#[test]
fn int8_is_calibrated_on_the_val_split_and_scored() {
    let dir = tempfile::tempdir().unwrap();
    let (Some(checkpoint), Some(data)) = (LW.checkpoint(), samples_data_yaml(dir.path())) else {
        return;
    };
    let path = dir.path().join("lw.onnx");
    let cfg = LW.config(&[
        ("checkpoint", checkpoint.to_str().unwrap()),
        ("export_format", "onnx"),
        ("export_path", path.to_str().unwrap()),
        ("data", data.to_str().unwrap()),
        ("cache", "false"),
        ("export_int8", "true"),
        ("export_calib", "8"),
    ]);
    let summary = export(&cfg).unwrap();
    let int8 = summary.int8.expect("an int8 summary");
    assert_eq!(int8.path, dir.path().join("lw_int8.onnx"));
    assert_eq!(int8.calib_images, 8);
    assert_eq!(int8.eval_faces, 10);
    println!(
        "NME float {:.4}, int8 {:.4}; max |int8 - float| {:.4}",
        int8.nme_float, int8.nme_int8, int8.max_diff
    );
    // the published model's NME on these samples is about 0.04
    assert!(
        int8.nme_float > 0.01 && int8.nme_float < 0.08,
        "{}",
        int8.nme_float
    );
    assert!(
        int8.nme_int8 < int8.nme_float + 0.01,
        "{} vs {}",
        int8.nme_int8,
        int8.nme_float
    );
    let info = OnnxInfo::of(&read_model(&int8.path).unwrap());
    assert_eq!(info.count("Conv"), 45);
    assert!(info.count("QuantizeLinear") > 40, "{:?}", info.op_counts);
    assert!(info.metadata["quantization"].contains("calibrated (min/max) on 8 val images"));
    assert!(
        int8.bytes < summary.bytes / 2,
        "{} vs {}",
        int8.bytes,
        summary.bytes
    );

    // uint8 NHWC input: the normalised input is what gets quantized
    let cfg = LW.config(&[
        ("checkpoint", checkpoint.to_str().unwrap()),
        ("export_format", "onnx"),
        ("export_path", path.to_str().unwrap()),
        ("data", data.to_str().unwrap()),
        ("cache", "false"),
        ("export_int8", "true"),
        ("export_calib", "4"),
        ("export_nhwc_uint8", "true"),
    ]);
    let int8 = export(&cfg).unwrap().int8.unwrap();
    assert_eq!(int8.calib_images, 4);
    assert!(
        int8.nme_int8 < int8.nme_float + 0.01,
        "{} vs {}",
        int8.nme_int8,
        int8.nme_float
    );
    let info = OnnxInfo::of(&read_model(&int8.path).unwrap());
    assert_eq!(info.inputs[0].1, vec!["N", "96", "96", "3"]);
    assert!(info.metadata["quantization"].contains("on 4 val images"));
}
