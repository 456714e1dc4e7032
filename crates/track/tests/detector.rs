//! The Ultra-Light detectors in tract find the faces PROVENANCE lists on the sample photos.

mod common;

use common::{RFB, fixture};
use fdfat_track::{FaceDetector, TrackError};

#[test]
fn both_detectors_find_the_listed_faces() {
    let Some(imgs) = fixture("data/face_detector/imgs") else {
        return;
    };
    for model in [RFB, "data/face_detector/version-slim-320.onnx"] {
        let Some(path) = fixture(model) else { return };
        let detector = FaceDetector::load(&path, 0.7).unwrap();
        let mut counts = Vec::new();
        for name in ["2", "9", "19", "23"] {
            let image = fdfat_data::read_rgb(&imgs.join(format!("{name}.jpg"))).unwrap();
            let faces = detector.detect(&image).unwrap();
            for f in &faces {
                let b = f.bbox;
                assert!(
                    f.score > 0.7 && b.width() > 8.0 && b.height() > 8.0,
                    "{f:?}"
                );
                assert!(b.x0 > -0.1 * image.width() as f32 && b.x1 < 1.1 * image.width() as f32);
            }
            assert!(faces.windows(2).all(|w| w[0].score >= w[1].score));
            counts.push(faces.len());
        }
        assert_eq!(counts, [4, 8, 5, 3], "{model}");
    }
}

#[test]
fn a_higher_threshold_finds_fewer_faces() {
    let (Some(imgs), Some(path)) = (fixture("data/face_detector/imgs"), fixture(RFB)) else {
        return;
    };
    let image = fdfat_data::read_rgb(&imgs.join("9.jpg")).unwrap();
    let loose = FaceDetector::load(&path, 0.3)
        .unwrap()
        .detect(&image)
        .unwrap();
    let strict = FaceDetector::load(&path, 0.999)
        .unwrap()
        .detect(&image)
        .unwrap();
    assert!(
        loose.len() >= 8 && strict.len() < 8,
        "{} {}",
        loose.len(),
        strict.len()
    );
}

#[test]
fn a_corrupt_or_unsuitable_model_is_a_clear_error() {
    let Some(corrupt) =
        fixture("data/reference_checkpoints/LWCSPModel_SiLU_affine_facecls/model.onnx")
    else {
        return;
    };
    let err = FaceDetector::load(&corrupt, 0.7).unwrap_err();
    assert!(matches!(err, TrackError::OnnxLoad { .. }), "{err:?}");
    assert!(
        err.to_string()
            .contains("LWCSPModel_SiLU_affine_facecls/model.onnx"),
        "{err}"
    );
    // a landmark model has one output, not scores and boxes
    let Some(landmark) = fixture(common::LW_ONNX) else {
        return;
    };
    let err = FaceDetector::load(&landmark, 0.7).unwrap_err();
    assert!(matches!(err, TrackError::OnnxShape { .. }), "{err:?}");
    let missing = corrupt.with_file_name("absent.onnx");
    let err = FaceDetector::load(&missing, 0.7).unwrap_err().to_string();
    assert!(err.contains("absent.onnx"), "{err}");
}
