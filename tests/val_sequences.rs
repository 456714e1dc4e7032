//! End-to-end tests of `--task synth` with `synth_sequences` and `--task val` on a sequence
//! folder: the tracker runs with every smoother and the report, its comparison and plots are
//! written; a malformed annotation stops the evaluation naming the file and frame, unless
//! `skip_bad` is on.

use fdfat_config::fixtures::shared_path;
use std::path::{Path, PathBuf};
use std::process::Output;

mod common;

use common::{fdfat, json, text};

/// Renders one 30-frame sequence at 320x240 into `dir/seqs/001`.
fn render(dir: &Path) -> PathBuf {
    let out = dir.join("seqs");
    let run = fdfat(&[
        "--task",
        "synth",
        "--synth_out",
        out.to_str().unwrap(),
        "--synth_sequences",
        "1",
        "--synth_frames",
        "30",
        "--synth_frame_width",
        "320",
        "--synth_frame_height",
        "240",
        "--workers",
        "2",
    ]);
    assert!(run.status.success(), "{}", text(&run.stderr));
    assert!(text(&run.stdout).contains("wrote 1 toy sequence(s) of 30 frames at 320x240"));
    out
}

fn val(data: &Path, project: &Path, extra: &[&str]) -> Option<Output> {
    let detector = shared_path("data/face_detector/version-RFB-320.onnx")?;
    let model = shared_path("data/reference_checkpoints/LWModel_ReLU6_affine_cls/model.onnx")?;
    let mut args = vec![
        "--task",
        "val",
        "--data",
        data.to_str().unwrap(),
        "--track_detector",
        detector.to_str().unwrap(),
        "--track_landmark",
        model.to_str().unwrap(),
        "--track_face_threshold",
        "0.2",
        "--project",
        project.to_str().unwrap(),
        "--name",
        "v",
    ];
    args.extend_from_slice(extra);
    Some(fdfat(&args))
}

#[test]
fn val_on_sequences_compares_every_smoother_in_the_report() {
    let dir = tempfile::tempdir().unwrap();
    let seqs = render(dir.path());
    let Some(out) = val(&seqs, dir.path(), &[]) else {
        return;
    };
    assert!(out.status.success(), "{}", text(&out.stderr));
    let stdout = text(&out.stdout);
    assert!(stdout.contains("1 sequence(s), 30 frames"), "{stdout}");
    for row in ["none", "kalman", "one_euro", "latency per frame"] {
        assert!(stdout.contains(row), "{row}: {stdout}");
    }
    let report = json(&dir.path().join("v/val_sequences.json"));
    let runs = report["runs"].as_array().unwrap();
    let names: Vec<&str> = runs
        .iter()
        .map(|r| r["smoother"].as_str().unwrap())
        .collect();
    assert_eq!(names, ["none", "kalman", "one_euro"]);
    let overall = &runs[2]["overall"];
    assert_eq!(overall["frames"], 30);
    assert_eq!(overall["tracked"], 30);
    assert!(overall["nme_mean"].as_f64().unwrap() < 0.15, "{overall}");
    assert!(
        overall["still_jitter"].is_f64() && overall["lag"].is_f64(),
        "{overall}"
    );
    assert_eq!(
        overall["latency"]["detector_runs"], 2,
        "frames 1 and 16 at 2 per second"
    );
    let frames = runs[0]["sequences"][0]["frames"].as_array().unwrap();
    assert_eq!(frames.len(), 30);
    assert_eq!(frames[0]["segment"], "still");
    let comparison = report["comparison"].as_array().unwrap();
    assert_eq!(comparison[0]["still_jitter_ratio"], 1.0);
    assert!(comparison[2]["lag_added"].is_f64());
    for png in ["val_sequences_jitter_lag.png", "val_sequences_001_nme.png"] {
        let image = image::open(dir.path().join("v").join(png)).unwrap();
        assert_eq!((image.width(), image.height()), (800, 480), "{png}");
    }
}

#[test]
fn a_malformed_annotation_names_its_file_and_frame_unless_skip_bad() {
    let dir = tempfile::tempdir().unwrap();
    let seqs = render(dir.path());
    let bad = seqs.join("001/annot/000007.pts");
    std::fs::write(&bad, "version: 1\nn_points: 68\n{\n1 2\n}\n").unwrap();
    std::fs::remove_file(seqs.join("001/annot/000009.pts")).unwrap();
    let Some(out) = val(&seqs, dir.path(), &[]) else {
        return;
    };
    assert!(!out.status.success());
    let stderr = text(&out.stderr);
    assert!(
        stderr.contains("frame 7") && stderr.contains("000007.pts") && stderr.contains("skip_bad"),
        "{stderr}"
    );
    let out = val(&seqs, dir.path(), &["--skip_bad", "true"]).unwrap();
    assert!(out.status.success(), "{}", text(&out.stderr));
    let report = json(&dir.path().join("v/val_sequences.json"));
    let skipped = report["skipped"].as_array().unwrap();
    assert_eq!(skipped.len(), 2, "{skipped:?}");
    assert!(
        skipped[1]
            .as_str()
            .unwrap()
            .contains("frame 9 has no annotation")
    );
    let overall = &report["runs"][0]["overall"];
    assert_eq!(
        (overall["frames"].as_u64(), overall["annotated"].as_u64()),
        (Some(30), Some(28))
    );
}
