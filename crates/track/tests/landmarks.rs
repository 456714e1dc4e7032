//! The landmark model behind `track_landmark`: the published ONNX files in tract agree with
//! the published `best.pt` weights in the fused CPU engine, wrong files give clear errors, and
//! the predictor puts landmarks on real faces found by the detector.

mod common;

use common::{LW_ONNX, LW_PT, fixture, landmarks, nme, read_pts};
use fdfat_config::resolve_flags;
use fdfat_track::{FaceBox, LandmarkPredictor, Predictor, TrackError};
use std::path::Path;

fn cpu() -> burn::tensor::Device {
    fdfat_models::device_for(&fdfat_config::DeviceSpec::Cpu).0
}

/// Largest point distance (pixels) and face-score difference between two predictors on the
/// annotated face of a 300-W image.
fn compare(a: &LandmarkPredictor, b: &LandmarkPredictor, image: &Path) -> (f32, f32) {
    let img = fdfat_data::read_rgb(image).unwrap();
    let gt = read_pts(&image.with_extension("pts"));
    let region = FaceBox::around_points(&gt, 1.5).unwrap();
    let pa = a.predict(&img, &region).unwrap().unwrap();
    let pb = b.predict(&img, &region).unwrap().unwrap();
    let dist = pa
        .points
        .iter()
        .zip(&pb.points)
        .map(|(p, q)| (p[0] - q[0]).hypot(p[1] - q[1]))
        .fold(0.0f32, f32::max);
    (
        dist,
        (pa.face_score.unwrap() - pb.face_score.unwrap()).abs(),
    )
}

#[test]
fn onnx_in_tract_matches_the_checkpoint_in_the_fused_engine() {
    let (Some(onnx), Some(pt), Some(helen)) = (
        landmarks(LW_ONNX),
        landmarks(LW_PT),
        fixture("data/300w/helen_testset/296814969_3.jpg"),
    ) else {
        return;
    };
    assert!(
        onnx.has_face_score() && pt.has_face_score(),
        "{}",
        pt.note()
    );
    assert!(pt.note().contains("face-cls head"), "{}", pt.note());
    assert!(pt.note().contains("fused CPU engine"), "{}", pt.note());
    assert_eq!((onnx.points(), onnx.input_size()), (70, 96));
    let (dist, score) = compare(&onnx, &pt, &helen);
    assert!(
        dist < 0.05 && score < 1e-3,
        "ONNX vs best.pt: {dist} px, score {score}"
    );
}

#[test]
fn the_reexported_lwcsp_onnx_matches_its_checkpoint() {
    let dir = "data/reference_checkpoints/LWCSPModel_SiLU_affine_facecls";
    let (Some(onnx), Some(pt), Some(helen)) = (
        fixture(&format!("{dir}/model_reexported.onnx")),
        fixture(&format!("{dir}/best.pt")),
        fixture("data/300w/helen_testset/296814969_3.jpg"),
    ) else {
        return;
    };
    let cfg = resolve_flags(&[("model", "LWCSPModel"), ("activation", "SiLU")]).unwrap();
    let onnx = LandmarkPredictor::load(&cfg, &onnx, &cpu()).unwrap();
    let pt = LandmarkPredictor::load(&cfg, &pt, &cpu()).unwrap();
    let (dist, score) = compare(&onnx, &pt, &helen);
    assert!(
        dist < 0.05 && score < 1e-3,
        "ONNX vs best.pt: {dist} px, score {score}"
    );
}

#[test]
fn wrong_landmark_files_are_clear_errors() {
    let (Some(corrupt), Some(lw)) = (
        fixture("data/reference_checkpoints/LWCSPModel_SiLU_affine_facecls/model.onnx"),
        fixture(LW_ONNX),
    ) else {
        return;
    };
    let defaults = resolve_flags(&[]).unwrap();
    let err = LandmarkPredictor::load(&defaults, &corrupt, &cpu()).unwrap_err();
    assert!(matches!(err, TrackError::OnnxLoad { .. }), "{err:?}");
    assert!(
        err.to_string()
            .contains("LWCSPModel_SiLU_affine_facecls/model.onnx")
    );
    // 141 outputs are not 68 points plus heads
    let points68 = resolve_flags(&[("lmk_num", "68")]).unwrap();
    let err = LandmarkPredictor::load(&points68, &lw, &cpu()).unwrap_err();
    assert!(err.to_string().contains("lmk_num: 68"), "{err}");
    // a checkpoint of the other architecture names the key to change
    let pt = lw.with_file_name("best.pt");
    let csp = resolve_flags(&[("model", "LWCSPModel")]).unwrap();
    let err = LandmarkPredictor::load(&csp, &pt, &cpu())
        .unwrap_err()
        .to_string();
    assert!(err.contains("best.pt"), "{err}");
    // not a model at all
    let dir = tempfile::tempdir().unwrap();
    let text = dir.path().join("weights.bpk");
    std::fs::write(&text, "hello").unwrap();
    let err = LandmarkPredictor::load(&defaults, &text, &cpu()).unwrap_err();
    assert!(err.to_string().contains("weights.bpk"), "{err}");
}

#[test]
fn predictor_finds_and_aligns_the_faces_of_300w_images() {
    let (Some(predictor_lm), Some(detector), Some(dir)) = (
        landmarks(LW_ONNX),
        common::detector(),
        fixture("data/300w/helen_testset"),
    ) else {
        return;
    };
    let predictor = Predictor::new(Some(detector), predictor_lm);
    let mut nmes = Vec::new();
    for image_path in fdfat_track::image_files(&dir).unwrap() {
        let image = fdfat_data::read_rgb(&image_path).unwrap();
        let gt = read_pts(&image_path.with_extension("pts"));
        let gt_box = FaceBox::around_points(&gt, 1.0).unwrap();
        let faces = predictor.predict(&image).unwrap();
        // the annotated face is the detection overlapping its landmark extent most
        let Some(face) = faces
            .iter()
            .max_by(|a, b| a.bbox().iou(&gt_box).total_cmp(&b.bbox().iou(&gt_box)))
        else {
            panic!("no face found in {}", image_path.display());
        };
        let record = face.record();
        assert_eq!(record.landmarks.len(), 70);
        assert!(
            record.score.unwrap() > 0.7 && record.face_score.unwrap() > 0.5,
            "{record:?}"
        );
        assert!(record.yaw.unwrap().abs() < 90.0, "{record:?}");
        nmes.push(nme(&face.landmarks.points, &gt));
    }
    let mean = nmes.iter().sum::<f32>() / nmes.len() as f32;
    println!(
        "300-W helen test ({} faces): mean NME {:.2}% (max {:.2}%)",
        nmes.len(),
        100.0 * mean,
        100.0 * nmes.iter().cloned().fold(0.0, f32::max)
    );
    assert!(mean < 0.08, "mean inter-ocular NME {mean}");
}

#[test]
fn without_a_detector_the_image_is_the_face_crop() {
    let (Some(lm), Some(image_path)) = (
        landmarks(LW_ONNX),
        fixture("data/300w/helen_testset/296814969_3.jpg"),
    ) else {
        return;
    };
    let image = fdfat_data::read_rgb(&image_path).unwrap();
    let gt = read_pts(&image_path.with_extension("pts"));
    let crop = FaceBox::around_points(&gt, 1.5)
        .unwrap()
        .crop_box([image.width(), image.height()])
        .unwrap();
    let face_crop = image::imageops::crop_imm(
        &image,
        crop.x0 as u32,
        crop.y0 as u32,
        crop.width() as u32,
        crop.height() as u32,
    )
    .to_image();
    let faces = Predictor::new(None, lm).predict(&face_crop).unwrap();
    assert_eq!(faces.len(), 1);
    let record = faces[0].record();
    assert_eq!(record.score, None);
    assert_eq!(
        <[f32; 4]>::from(record.bbox),
        [
            0.0,
            0.0,
            face_crop.width() as f32,
            face_crop.height() as f32
        ]
    );
    let gt_crop = common::shift_points(&gt, -(crop.x0 as f32), -(crop.y0 as f32));
    let err = nme(&faces[0].landmarks.points, &gt_crop);
    assert!(err < 0.1, "NME {err}");
}
