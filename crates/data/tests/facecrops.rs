//! `--task facecrops` on the WIDER FACE fixtures, read back by the `facecrops` loader.

mod common;

use common::config;
use fdfat_config::fixtures::shared_path;
use fdfat_config::{DataConfig, Split};
use fdfat_data::{Dataset, Loader, LoaderMode, facecrops};
use std::sync::Arc;

#[test]
fn wider_face_boxes_give_face_and_non_face_crops() {
    let Some(root) = shared_path("data/widerface_yolo/val") else {
        return;
    };
    let out = tempfile::tempdir().unwrap();
    let cfg = config(&[("workers", "2")]);
    let summary =
        facecrops::generate(&root.join("images"), &root.join("labels"), out.path(), &cfg).unwrap();
    eprintln!("{summary:?}");
    assert_eq!(summary.images, 12);
    assert!(summary.skipped.is_empty());
    // 136 faces, most of them smaller than the 72-pixel minimum in these 416x416 images.
    assert!(
        summary.faces >= 5 && summary.faces <= 3 * 136,
        "{} faces",
        summary.faces
    );
    assert!(summary.non_faces >= 12, "{} non-faces", summary.non_faces);
    let faces = std::fs::read_dir(out.path().join("1")).unwrap().count();
    let non_faces = std::fs::read_dir(out.path().join("0")).unwrap().count();
    assert_eq!((faces, non_faces), (summary.faces, summary.non_faces));
    for entry in std::fs::read_dir(out.path().join("1")).unwrap() {
        let (w, h) = image::image_dimensions(entry.unwrap().path()).unwrap();
        assert!(w.max(h) >= 72);
    }

    // Same seed, same crops.
    let again = tempfile::tempdir().unwrap();
    let second = facecrops::generate(
        &root.join("images"),
        &root.join("labels"),
        again.path(),
        &cfg,
    )
    .unwrap();
    assert_eq!(
        (second.faces, second.non_faces),
        (summary.faces, summary.non_faces)
    );

    let data = DataConfig::load(&summary.data_yaml).unwrap();
    let cfg = config(&[("cache", "False"), ("face_cls", "True")]);
    let train = Dataset::open(&data, Split::Train, &cfg).unwrap();
    let val = Dataset::open(&data, Split::Val, &cfg).unwrap();
    assert_eq!(train.len() + val.len(), summary.faces + summary.non_faces);
    for s in train.samples() {
        assert!(s.landmarks.is_empty());
        assert_eq!(s.is_face, s.image.parent().unwrap().ends_with("1"));
    }
    let batch = Loader::new(
        Arc::new(train),
        &cfg,
        LoaderMode::Train { epoch: 0, seed: 1 },
        8,
        1,
    )
    .unwrap()
    .next()
    .unwrap()
    .unwrap();
    assert!(
        batch.landmark_mask.iter().all(|&m| m == 0.0),
        "crops carry no landmarks"
    );
    assert_eq!(batch.is_face.len(), batch.len());
}

#[test]
fn a_missing_label_is_an_error_naming_it_or_skipped() {
    let Some(root) = shared_path("data/widerface_yolo/val/images") else {
        return;
    };
    let labels = tempfile::tempdir().unwrap();
    let out = tempfile::tempdir().unwrap();
    let msg = facecrops::generate(&root, labels.path(), out.path(), &config(&[]))
        .unwrap_err()
        .to_string();
    assert!(
        msg.contains(".txt") && msg.contains("label file not found"),
        "{msg}"
    );
    let summary = facecrops::generate(
        &root,
        labels.path(),
        out.path(),
        &config(&[("skip_bad", "True")]),
    )
    .unwrap();
    assert_eq!(summary.skipped.len(), 12);
}
