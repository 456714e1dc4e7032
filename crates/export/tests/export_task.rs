//! `export(cfg)` end to end: the published LWModel `best.pt` written where configured with its
//! checkpoint and configuration in the metadata, checked against burn; the int8 variant
//! calibrated and scored on a val split of the shared FaceSynthetics samples; clear errors for
//! what cannot be exported.

mod common;

use common::{CSP, LW};
use fdfat_config::fixtures::shared_path;
use fdfat_export::tflite::read_tflite;
use fdfat_export::{
    ExportError, OnnxInfo, TOLERANCE, export, export_onnx, export_tflite, read_model,
};
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
    let summary = export_onnx(&cfg).unwrap();
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
    let summary = export_onnx(&cfg).unwrap();
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
    let cfg = LW.config(&[
        ("checkpoint", missing.to_str().unwrap()),
        ("export_format", "coreml"),
    ]);
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
    assert!(err.to_string().contains("tflite or onnx"), "{err}");

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
    let summary = export_onnx(&cfg).unwrap();
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
    let int8 = export_onnx(&cfg).unwrap().int8.unwrap();
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

#[test]
fn tflite_files_are_written_checked_and_scored_on_the_val_split() {
    let dir = tempfile::tempdir().unwrap();
    let (Some(checkpoint), Some(data)) = (LW.checkpoint(), samples_data_yaml(dir.path())) else {
        return;
    };
    let path = dir.path().join("weights").join("model_float32.tflite");
    let flags = |extra: &[(&'static str, &'static str)]| {
        let mut flags = vec![
            ("checkpoint", checkpoint.to_str().unwrap().to_string()),
            ("export_format", "tflite".into()),
            ("export_path", path.to_str().unwrap().into()),
            ("data", data.to_str().unwrap().into()),
            ("cache", "false".into()),
            ("export_int8", "true".into()),
            ("export_calib", "8".into()),
        ];
        flags.extend(extra.iter().map(|(k, v)| (*k, v.to_string())));
        flags
    };
    let cfg = |extra: &[(&'static str, &'static str)]| {
        let flags = flags(extra);
        let refs: Vec<(&str, &str)> = flags.iter().map(|(k, v)| (*k, v.as_str())).collect();
        LW.config(&refs)
    };
    let summary = export_tflite(&cfg(&[("export_int16x8", "true")])).unwrap();
    assert!(summary.max_diff <= TOLERANCE, "{}", summary.max_diff);
    let names: Vec<String> = summary
        .files
        .iter()
        .map(|f| f.path.file_name().unwrap().to_string_lossy().into_owned())
        .collect();
    assert_eq!(
        names,
        [
            "model_float32.tflite",
            "model_float16.tflite",
            "model_full_integer_quant.tflite",
            "model_integer_quant.tflite",
            "model_integer_quant_with_int16_act.tflite"
        ]
    );
    for file in &summary.files {
        assert_eq!(file.bytes, std::fs::metadata(&file.path).unwrap().len());
    }
    assert!(
        summary.files[1].max_diff < 2e-3,
        "float16 {}",
        summary.files[1].max_diff
    );
    let float32 = read_tflite(&path).unwrap();
    let meta: std::collections::HashMap<_, _> = float32.metadata.into_iter().collect();
    assert_eq!(meta["checkpoint"], checkpoint.display().to_string());
    assert!(meta["input_layout"].contains("float32"), "{meta:?}");

    let report = summary.accuracy.as_ref().expect("an accuracy report");
    assert_eq!((report.calib_images, report.eval_faces), (8, 10));
    assert_eq!(report.rows.len(), 4);
    let text =
        std::fs::read_to_string(dir.path().join("weights/model_quantization_report.json")).unwrap();
    let json: serde_json::Value = serde_json::from_str(&text).unwrap();
    assert_eq!(json["rows"][2]["file"], "model_integer_quant.tflite");
    for row in &report.rows[1..] {
        println!("{}: NME {:.4} ({:+.4})", row.file, row.nme, row.delta);
        assert!(row.delta < 0.01, "{}: {:+.4}", row.file, row.delta);
    }
    assert!(summary.to_string().contains("model_integer_quant.tflite"));

    // a drift limit the files do not meet fails the export after writing the report
    let worst = report.rows[1..]
        .iter()
        .map(|r| r.delta)
        .fold(f64::MIN, f64::max);
    if worst > 0.0 {
        let err = export_tflite(&cfg(&[("export_int8_max_nme_delta", "0")])).unwrap_err();
        assert!(matches!(err, ExportError::NmeDrift { .. }), "{err}");
        assert!(
            err.to_string().contains("export_int8_max_nme_delta"),
            "{err}"
        );
    }

    // uint8 pixels in: the full-integer file takes them as quantized values
    let summary = export_tflite(&cfg(&[("export_nhwc_uint8", "true")])).unwrap();
    let full = read_tflite(&summary.files[2].path).unwrap();
    let input = &full.tensors[full.inputs[0]];
    assert_eq!(input.dtype, fdfat_export::tflite::ElemType::U8);
    assert_eq!(input.shape, vec![1, 96, 96, 3]);
    let report = summary.accuracy.unwrap();
    assert!(report.rows[2].delta < 0.01, "{:?}", report.rows[2]);
}
