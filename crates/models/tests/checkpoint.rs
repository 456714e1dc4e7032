//! Checkpoint loading and saving: the original `best.pt`, the project's burnpack format, and
//! every way a checkpoint can disagree with the model.

use burn::store::ModuleSnapshot;
use burn::store::burn_pack::Writer;
use burn::tensor::{Device, Tensor, TensorData};
use fdfat_config::fixtures::shared_path;
use fdfat_config::resolve_flags;
use fdfat_models::{CheckpointFormat, LandmarkModel, ModelError, load_checkpoint, save_weights};
use std::path::PathBuf;

fn model(flags: &[(&str, &str)]) -> LandmarkModel {
    LandmarkModel::new(&resolve_flags(flags).unwrap(), &Device::default()).unwrap()
}

fn published(name: &str) -> Option<PathBuf> {
    shared_path(&format!("data/reference_checkpoints/{name}/best.pt"))
}

/// Outputs on a fixed input. The input is computed, not drawn from the device's random
/// generator: tests run in parallel threads that share it, so a seed then a draw could see
/// another test's draw in between.
fn outputs(model: &LandmarkModel) -> Vec<f32> {
    let values: Vec<f32> = (0..2 * 3 * 96 * 96)
        .map(|i| ((i as f32) * 0.618_034).sin())
        .collect();
    let x = Tensor::<4>::from_data(TensorData::new(values, [2, 3, 96, 96]), &Device::default());
    model.forward(x).into_data().try_to_vec::<f32>().unwrap()
}

#[test]
fn burnpack_round_trip_reproduces_the_model() {
    for flags in [
        &[("face_cls", "true"), ("aux_pose", "true")][..],
        &[
            ("model", "LWCSPModel"),
            ("activation", "PReLU"),
            ("face_cls", "true"),
        ][..],
    ] {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("best.bpk");
        let original = model(flags);
        save_weights(&original, &path).unwrap();
        // Saving again replaces the file atomically and leaves no scratch file behind.
        save_weights(&original, &path).unwrap();
        assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 1);

        let (loaded, report) = load_checkpoint(model(flags), &path).unwrap();
        assert_eq!(report.format, CheckpointFormat::Burnpack);
        assert_eq!(report.transferred, report.model_tensors);
        assert!(report.fresh.is_empty() && report.ignored.is_empty());
        assert_eq!(outputs(&loaded), outputs(&original), "{flags:?}");
        assert_ne!(outputs(&model(flags)), outputs(&original));
    }
}

#[test]
fn a_missing_head_starts_fresh_and_a_turned_off_head_is_ignored() {
    let dir = tempfile::tempdir().unwrap();
    let stage1 = dir.path().join("stage1.bpk");
    save_weights(&model(&[]), &stage1).unwrap();
    let stage2 = model(&[("face_cls", "true"), ("freeze_landmark", "true")]);
    let (_, report) = load_checkpoint(stage2, &stage1).unwrap();
    assert_eq!(report.fresh.len(), 12, "{report}");
    assert!(report.fresh.iter().all(|n| n.starts_with("classifier.")));
    assert!(report.fresh.contains(&"classifier.fc.weight".to_string()));
    assert_eq!(report.transferred + 12, report.model_tensors);
    let text = report.to_string();
    assert!(
        text.contains("kept initial values")
            && text.contains("face-cls head `classifier.*` (12 tensors)"),
        "{text}"
    );

    let with_head = dir.path().join("stage2.bpk");
    save_weights(&model(&[("face_cls", "true")]), &with_head).unwrap();
    let (_, report) = load_checkpoint(model(&[]), &with_head).unwrap();
    assert_eq!(report.ignored.len(), 12, "{report}");
    assert_eq!(report.transferred, report.model_tensors);
    assert!(
        report
            .to_string()
            .contains("heads the configuration turns off")
    );
}

#[test]
fn published_weights_load_without_their_face_head() {
    let Some(path) = published("LWModel_ReLU6_affine_cls") else {
        return;
    };
    let (_, report) = load_checkpoint(model(&[]), &path).unwrap();
    assert_eq!(report.transferred, report.model_tensors);
    let mut ignored = report.ignored.clone();
    ignored.sort();
    assert_eq!(ignored.len(), 12, "{report}");
    assert_eq!(ignored[0], "classifier.0.bn.bias");
    assert!(ignored.contains(&"classifier.4.weight".to_string()));
    assert_eq!(report.batch_counters, 45);
}

#[test]
fn another_architecture_is_refused() {
    let Some(path) = published("LWModel_ReLU6_affine_cls") else {
        return;
    };
    let err = load_checkpoint(model(&[("model", "LWCSPModel")]), &path).unwrap_err();
    assert!(
        matches!(&err, ModelError::WrongArchitecture { found, .. } if found == "LWModel"),
        "{err}"
    );
    assert!(err.to_string().contains("set `model: LWModel`"), "{err}");
    // The architecture is named before the activation (SiLU here) would be.
    if let Some(csp) = published("LWCSPModel_SiLU_affine_facecls") {
        let err = load_checkpoint(model(&[]), &csp).unwrap_err();
        assert!(err.to_string().contains("set `model: LWCSPModel`"), "{err}");
    }

    let dir = tempfile::tempdir().unwrap();
    let csp = dir.path().join("csp.bpk");
    save_weights(&model(&[("model", "LWCSPModel")]), &csp).unwrap();
    let err = load_checkpoint(model(&[]), &csp).unwrap_err();
    assert!(matches!(err, ModelError::WrongArchitecture { .. }), "{err}");
}

#[test]
fn the_published_lwcsp_model_needs_its_silu_activation() {
    let Some(path) = published("LWCSPModel_SiLU_affine_facecls") else {
        return;
    };
    let relu6 = model(&[("model", "LWCSPModel"), ("face_cls", "true")]);
    let err = load_checkpoint(relu6, &path).unwrap_err();
    assert!(err.to_string().contains("set `activation: SiLU`"), "{err}");
}

#[test]
fn shape_mismatches_name_the_tensor() {
    let Some(path) = published("LWCSPModel_SiLU_affine_facecls") else {
        return;
    };
    let csp68 = model(&[
        ("model", "LWCSPModel"),
        ("activation", "SiLU"),
        ("lmk_num", "68"),
    ]);
    let err = load_checkpoint(csp68, &path).unwrap_err();
    let ModelError::ShapeMismatch {
        tensor,
        found,
        expected,
        more,
        ..
    } = &err
    else {
        panic!("{err}");
    };
    assert_eq!(tensor, "logit.stack.0.bias");
    assert_eq!(
        (found.as_slice(), expected.as_slice()),
        (&[140][..], &[136][..])
    );
    assert_eq!(more, " (and 1 more)");

    let dir = tempfile::tempdir().unwrap();
    let wide = dir.path().join("wide.bpk");
    save_weights(&model(&[("muliplier", "1.5")]), &wide).unwrap();
    let err = load_checkpoint(model(&[]), &wide).unwrap_err();
    assert!(err.to_string().contains("set `muliplier: 1.5`"), "{err}");
}

#[test]
fn the_activation_of_a_burnpack_must_match() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("silu.bpk");
    save_weights(&model(&[("activation", "SiLU")]), &path).unwrap();
    let err = load_checkpoint(model(&[]), &path).unwrap_err();
    assert!(err.to_string().contains("set `activation: SiLU`"), "{err}");
}

/// Writes the tensors of `model` to `path`, without `drop` and with an extra tensor `add`.
fn write_edited(model: &LandmarkModel, path: &std::path::Path, drop: &str, add: Option<&str>) {
    let mut tensors: Vec<_> = model
        .collect(None, None, true)
        .into_iter()
        .filter(|t| t.name != drop)
        .collect();
    if let Some(name) = add {
        let mut extra = model.collect(None, None, true).remove(0);
        extra.name = name.to_string();
        tensors.push(extra);
    }
    Writer::new(tensors).write_to_file(path).unwrap();
}

#[test]
fn missing_and_unexpected_tensors_are_errors() {
    let dir = tempfile::tempdir().unwrap();
    let source = model(&[]);
    let lacking = dir.path().join("lacking.bpk");
    write_edited(
        &source,
        &lacking,
        "mainstream.convp1.conv2.bn.running_var",
        None,
    );
    let err = load_checkpoint(model(&[]), &lacking).unwrap_err();
    assert!(
        matches!(&err, ModelError::MissingTensor { tensor, .. }
            if tensor == "mainstream.convp1.conv2.bn.running_var"),
        "{err}"
    );

    let extra = dir.path().join("extra.bpk");
    write_edited(
        &source,
        &extra,
        "",
        Some("mainstream.convp4.conv1.conv.weight"),
    );
    let err = load_checkpoint(model(&[]), &extra).unwrap_err();
    assert!(
        matches!(&err, ModelError::UnexpectedTensor { tensor, .. }
            if tensor == "mainstream.convp4.conv1.conv.weight"),
        "{err}"
    );
}

#[test]
fn unreadable_files_are_errors() {
    let dir = tempfile::tempdir().unwrap();
    let err = load_checkpoint(model(&[]), dir.path().join("absent.pt")).unwrap_err();
    assert!(matches!(err, ModelError::Io { .. }), "{err}");

    let text = dir.path().join("notes.txt");
    std::fs::write(&text, "not weights").unwrap();
    let err = load_checkpoint(model(&[]), &text).unwrap_err();
    assert!(matches!(err, ModelError::Format { .. }), "{err}");

    let truncated = dir.path().join("truncated.bpk");
    save_weights(&model(&[]), &truncated).unwrap();
    let bytes = std::fs::read(&truncated).unwrap();
    std::fs::write(&truncated, &bytes[..bytes.len() / 2]).unwrap();
    let err = load_checkpoint(model(&[]), &truncated).unwrap_err();
    assert!(matches!(err, ModelError::Format { .. }), "{err}");

    let broken_zip = dir.path().join("broken.pt");
    std::fs::write(&broken_zip, b"PK\x03\x04 truncated zip").unwrap();
    let err = load_checkpoint(model(&[]), &broken_zip).unwrap_err();
    assert!(matches!(err, ModelError::Format { .. }), "{err}");

    let err = save_weights(&model(&[]), dir.path().join("no/such/dir/w.bpk")).unwrap_err();
    assert!(matches!(err, ModelError::Save { .. }), "{err}");
}
