//! End-to-end tests of `--task predict`: JSON and rendered image per input image, with and
//! without the detector, and clear errors for missing settings.

use fdfat_config::fixtures::shared_path;

mod common;

use common::{fdfat, json, text};

#[test]
fn predict_writes_json_and_rendering_for_each_image_of_a_folder() {
    let (Some(imgs), Some(detector), Some(model)) = (
        shared_path("data/face_detector/imgs"),
        shared_path("data/face_detector/version-RFB-320.onnx"),
        shared_path("data/reference_checkpoints/LWModel_ReLU6_affine_cls/model.onnx"),
    ) else {
        return;
    };
    let out_dir = tempfile::tempdir().unwrap();
    let project = out_dir.path().to_str().unwrap();
    let out = fdfat(&[
        "--task",
        "predict",
        "--input",
        imgs.to_str().unwrap(),
        "--track_detector",
        detector.to_str().unwrap(),
        "--track_landmark",
        model.to_str().unwrap(),
        "--project",
        project,
        "--name",
        "pred",
    ]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    let run = out_dir.path().join("pred");
    for (name, faces) in [("2", 4), ("9", 8), ("19", 5), ("23", 3)] {
        let record = json(&run.join(format!("{name}.json")));
        assert!(
            record["image"]
                .as_str()
                .unwrap()
                .ends_with(&format!("{name}.jpg"))
        );
        let list = record["faces"].as_array().unwrap();
        assert_eq!(list.len(), faces, "{name}");
        for face in list {
            assert_eq!(face["box"].as_array().unwrap().len(), 4);
            assert!(face["score"].as_f64().unwrap() > 0.7);
            assert_eq!(face["landmarks"].as_array().unwrap().len(), 70);
            assert!(face["face_score"].as_f64().is_some());
            for angle in ["yaw", "pitch", "roll"] {
                assert!(face[angle].is_f64() || face[angle].is_null(), "{face}");
            }
        }
        let rendered = image::open(run.join(format!("{name}.jpg"))).unwrap();
        let original = image::open(imgs.join(format!("{name}.jpg"))).unwrap();
        assert_eq!(
            rendered.to_rgb8().dimensions(),
            original.to_rgb8().dimensions()
        );
        assert_ne!(
            rendered.to_rgb8(),
            original.to_rgb8(),
            "{name}: nothing drawn"
        );
    }
    assert!(text(&out.stdout).contains("face(s) in"));
}

#[test]
fn predict_without_a_detector_takes_the_image_as_a_face_crop() {
    let (Some(image), Some(model)) = (
        shared_path("data/300w/helen_testset/296814969_3.jpg"),
        shared_path("data/reference_checkpoints/LWModel_ReLU6_affine_cls/best.pt"),
    ) else {
        return;
    };
    let out_dir = tempfile::tempdir().unwrap();
    let out = fdfat(&[
        "--task",
        "predict",
        "--input",
        image.to_str().unwrap(),
        "--track_landmark",
        model.to_str().unwrap(),
        "--project",
        out_dir.path().to_str().unwrap(),
        "--name",
        "crop",
    ]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    let stdout = text(&out.stdout);
    assert!(stdout.contains("taken as one face crop"), "{stdout}");
    let record = json(&out_dir.path().join("crop/296814969_3.json"));
    let faces = record["faces"].as_array().unwrap();
    assert_eq!(faces.len(), 1);
    assert!(faces[0]["score"].is_null());
    let (w, h) = (
        record["width"].as_f64().unwrap(),
        record["height"].as_f64().unwrap(),
    );
    let b: Vec<f64> = faces[0]["box"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v.as_f64().unwrap())
        .collect();
    assert_eq!(b, [0.0, 0.0, w, h]);
}

#[test]
fn predict_names_what_is_missing() {
    let out = fdfat(&["--task", "predict", "--save", "false"]);
    assert_eq!(out.status.code(), Some(1));
    assert!(
        text(&out.stderr).contains("`input` must be set"),
        "{}",
        text(&out.stderr)
    );
    let dir = tempfile::tempdir().unwrap();
    let input = dir.path().to_str().unwrap();
    let out = fdfat(&["--task", "predict", "--input", input]);
    assert!(
        text(&out.stderr).contains("holds no images"),
        "{}",
        text(&out.stderr)
    );
    let image = dir.path().join("face.png");
    image::RgbImage::new(8, 8).save(&image).unwrap();
    let out = fdfat(&["--task", "predict", "--input", image.to_str().unwrap()]);
    assert!(
        text(&out.stderr).contains("`track_landmark` must name"),
        "{}",
        text(&out.stderr)
    );
    let out = fdfat(&[
        "--task",
        "predict",
        "--input",
        image.to_str().unwrap(),
        "--track_landmark",
        dir.path().join("missing.onnx").to_str().unwrap(),
    ]);
    assert_eq!(out.status.code(), Some(1));
    assert!(
        text(&out.stderr).contains("missing.onnx"),
        "{}",
        text(&out.stderr)
    );
}
