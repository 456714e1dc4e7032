//! End-to-end tests of the `fdfat` binary: help, configuration resolution and error reporting.

use fdfat_config::fixtures::shared_path;

mod common;

use common::{fdfat, text};

/// Text with every run of whitespace made one space (clap wraps long help lines).
fn words(text: &str) -> String {
    text.split_whitespace().collect::<Vec<_>>().join(" ")
}

#[test]
fn help_lists_every_key_with_default_and_comment() {
    let out = fdfat(&["--help"]);
    assert!(out.status.success());
    let help = words(&text(&out.stdout));
    for doc in fdfat_config::keys::key_docs() {
        assert!(
            help.contains(&format!("--{} ", doc.name)),
            "--help lacks --{}",
            doc.name
        );
        assert!(
            help.contains(&words(&doc.comment)),
            "--help lacks the comment of {}",
            doc.name
        );
    }
    assert!(help.contains("[default: 0.002]") && help.contains("[default: NAdam]"));
}

#[test]
fn unknown_flag_suggests_the_closest_key() {
    let out = fdfat(&["--task", "info", "--bach_size", "3"]);
    assert_eq!(out.status.code(), Some(1));
    let err = text(&out.stderr);
    assert!(
        err.contains("unknown key `bach_size`") && err.contains("did you mean `batch_size`?"),
        "{err}"
    );
}

#[test]
fn wrong_type_in_a_file_names_file_line_and_key() {
    let dir = tempfile::tempdir().unwrap();
    let cfg = dir.path().join("bad.yaml");
    std::fs::write(&cfg, "epoch: 10\nlr: fast\n").unwrap();
    let out = fdfat(&["--cfg", cfg.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(1));
    let err = text(&out.stderr);
    assert!(
        err.contains("bad.yaml:2") && err.contains("`lr`") && err.contains("a number"),
        "{err}"
    );
}

#[test]
fn original_config_resolves_and_prints_with_flag_overrides() {
    let Some(dir) = shared_path("data/reference_checkpoints/LWModel_ReLU6_affine_cls") else {
        return;
    };
    let cfg = dir.join("config_landmark.yaml");
    let out = fdfat(&[
        "--task",
        "train",
        "--cfg",
        cfg.to_str().unwrap(),
        "--data",
        "mydata.yaml",
        "--epoch",
        "7",
        "--save",
        "False",
    ]);
    let stdout = text(&out.stdout);
    assert!(stdout.contains("name: LWModel_ReLU6_affine"), "{stdout}");
    assert!(
        stdout.contains("data: mydata.yaml") && stdout.contains("epoch: 7"),
        "{stdout}"
    );
    assert!(
        stdout.contains("device: mps") && stdout.contains("save: false"),
        "{stdout}"
    );
}

#[test]
fn a_repeated_flag_takes_its_last_value() {
    let out = fdfat(&["--task", "info", "--epoch", "3", "--epoch", "5"]);
    assert!(
        text(&out.stdout).contains("epoch: 5"),
        "{}",
        text(&out.stderr)
    );
}

#[test]
fn a_failing_task_exits_1_with_one_line() {
    let out = fdfat(&[
        "--task",
        "export",
        "--export_format",
        "coreml",
        "--save",
        "false",
    ]);
    assert_eq!(out.status.code(), Some(1));
    let err = text(&out.stderr);
    assert_eq!(err.trim().lines().count(), 1, "{err}");
    assert!(
        err.contains("export_format") && err.contains("tflite or onnx"),
        "{err}"
    );
}

#[test]
fn info_prints_per_block_costs_and_the_published_totals() {
    let lw = text(&fdfat(&["--task", "info", "--face_cls", "true"]).stdout);
    assert!(
        lw.contains("backbone.conv11") && lw.contains("429,206 trainable parameters"),
        "{lw}"
    );
    assert!(lw.contains("(33.2 M)"), "{lw}");
    let csp = text(
        &fdfat(&[
            "--task",
            "info",
            "--model",
            "LWCSPModel",
            "--activation",
            "SiLU",
            "--face_cls",
            "true",
        ])
        .stdout,
    );
    assert!(
        csp.contains("482,165 trainable parameters") && csp.contains("(61.4 M)"),
        "{csp}"
    );
}
