//! End-to-end checks of the evaluator against figures computed by hand from the definitions in
//! `shared/reference/README.md`, on faces projected from the mean face at known poses.

use fdfat_config::{Config, LandmarkScheme, NmeNorm, resolve};
use fdfat_eval::{
    Attributes, Camera, EvalError, Evaluator, FaceModel, FaceScore, HeadPose, Report, Sample,
};

const W: u32 = 640;
const H: u32 = 480;

fn close(a: f64, b: f64) -> bool {
    (a - b).abs() < 1e-9
}

fn scheme(name: &str) -> LandmarkScheme {
    LandmarkScheme::load(name).unwrap()
}

/// The 68 mean-face points seen at `yaw` degrees.
fn face(yaw: f64) -> Vec<[f64; 2]> {
    let pose = HeadPose {
        yaw,
        pitch: 0.0,
        roll: 0.0,
    };
    FaceModel::ibug68().unwrap().project(
        &pose.rotation(),
        [0.0, 0.0, 800.0],
        &Camera::for_image(W, H),
    )
}

fn inter_ocular(gt: &[[f64; 2]]) -> f64 {
    (gt[36][0] - gt[45][0]).hypot(gt[36][1] - gt[45][1])
}

/// `gt` with the points in `which` moved by `k` inter-ocular distances (direction 0.6, 0.8).
fn shifted(gt: &[[f64; 2]], k: f64, which: impl Fn(usize) -> bool) -> Vec<[f64; 2]> {
    let d = inter_ocular(gt) * k;
    gt.iter()
        .enumerate()
        .map(|(i, p)| {
            if which(i) {
                [p[0] + 0.6 * d, p[1] + 0.8 * d]
            } else {
                *p
            }
        })
        .collect()
}

fn config() -> Config {
    resolve(None, &[]).unwrap()
}

/// `(yaw, shift in inter-ocular distances, which points move)` of a test face.
type Case = (f64, f64, fn(usize) -> bool);

/// Four faces with NMEs 0.05, 0.01, 0.08, 0.30 at yaws 10, -35, 50, 0.
fn four_faces() -> Evaluator {
    let ibug = scheme("ibug68");
    let mut ev = Evaluator::new(&ibug, &ibug).unwrap();
    let cases: [Case; 4] = [
        (10.0, 0.05, |_| true),
        (-35.0, 0.68, |i| i == 0), // one point off by 0.68 -> NME 0.68 / 68 = 0.01
        (50.0, 0.08, |_| true),
        (0.0, 0.30, |_| true),
    ];
    for (i, (yaw, k, which)) in cases.into_iter().enumerate() {
        let gt = face(yaw);
        let pred = shifted(&gt, k, which);
        ev.push(Sample::new(format!("img{i}.png"), (W, H), pred, gt))
            .unwrap();
    }
    ev
}

#[test]
fn nme_fr_auc_and_buckets_match_hand_computation() {
    let report = four_faces().finish(&config()).unwrap();
    let nmes: Vec<f64> = report.samples.iter().map(|s| s.nme).collect();
    for (got, want) in nmes.iter().zip([0.05, 0.01, 0.08, 0.30]) {
        assert!(close(*got, want), "{nmes:?}");
    }
    assert_eq!(report.count, 4);
    assert!(close(report.nme_mean, 0.11));
    assert!(close(report.nme_median, 0.065));
    // deviations -0.06 -0.1 -0.03 0.19: squares sum 0.0506
    assert!(close(report.nme_std, (0.0506f64 / 4.0).sqrt()));
    assert!(close(report.nme_min, 0.01) && close(report.nme_max, 0.30));
    // FR@0.1: only 0.30
    assert!(close(report.fr, 0.25));
    // AUC@0.1 = mean(1 - 0.5, 1 - 0.1, 1 - 0.8, 0)
    assert!(close(report.auc, 0.4));
    assert_eq!(report.fr_threshold, 0.1);
    // buckets [0,30]: yaw 10 and 0 -> (0.05 + 0.30) / 2 ; (30,40]: -35 -> 0.01 ; (40,90]: 50 -> 0.08
    let rows: Vec<(f64, f64, usize, f64)> = report
        .pose_buckets
        .iter()
        .map(|b| (b.lo, b.hi, b.count, b.nme_mean.unwrap()))
        .collect();
    let expected = [
        (0.0, 30.0, 2, 0.175),
        (30.0, 40.0, 1, 0.01),
        (40.0, 90.0, 1, 0.08),
    ];
    for (got, want) in rows.iter().zip(expected) {
        assert!(
            got.0 == want.0 && got.1 == want.1 && got.2 == want.2 && close(got.3, want.3),
            "{rows:?}"
        );
    }
    for (s, yaw) in report.samples.iter().zip([10.0, -35.0, 50.0, 0.0]) {
        assert!((s.yaw.unwrap() - yaw).abs() < 1.0, "{s:?}");
        assert!(s.pitch.unwrap().abs() < 1.0 && s.roll.unwrap().abs() < 1.0);
    }
    assert_eq!(report.pose_unavailable, 0);
}

#[test]
fn parts_and_landmarks_match_hand_computation() {
    let report = four_faces().finish(&config()).unwrap();
    let part = |name: &str| report.parts.iter().find(|(n, _)| n == name).unwrap().1;
    // jaw (17 points): 0.05, 0.68 / 17 = 0.04, 0.08, 0.30
    assert!(close(part("jaw"), (0.05 + 0.04 + 0.08 + 0.30) / 4.0));
    assert!(close(part("mouth"), (0.05 + 0.0 + 0.08 + 0.30) / 4.0));
    assert_eq!(report.parts.first().unwrap().0, "jaw");
    assert_eq!(report.parts.len(), 8);
    assert_eq!(report.landmarks.len(), 68);
    assert!(close(
        report.landmarks[0],
        (0.05 + 0.68 + 0.08 + 0.30) / 4.0
    ));
    assert!(close(report.landmarks[1], 0.1075));
    assert_eq!(report.scheme, "ibug68");
}

#[test]
fn other_bucket_edges_and_thresholds_come_from_the_config() {
    let mut cfg = config();
    cfg.pose_buckets = vec![30.0, 60.0, 90.0];
    cfg.fr_threshold = 0.07;
    let report = four_faces().finish(&cfg).unwrap();
    let counts: Vec<usize> = report.pose_buckets.iter().map(|b| b.count).collect();
    assert_eq!(counts, [2, 2, 0]);
    assert_eq!(report.pose_buckets[2].nme_mean, None);
    assert!(close(report.fr, 0.5)); // 0.08 and 0.30 > 0.07
    // mean(1 - 0.05/0.07, 1 - 0.01/0.07, 0, 0) = (2/7 + 6/7) / 4
    assert!(close(report.auc, 2.0 / 7.0));
}

#[test]
fn inter_pupil_normalisation_divides_by_the_eye_centre_distance() {
    let ibug = scheme("ibug68");
    let mut ev = Evaluator::new(&ibug, &ibug).unwrap();
    let gt = face(0.0);
    let centre = |r: std::ops::Range<usize>| {
        let n = r.len() as f64;
        r.fold([0.0, 0.0], |s, i| {
            [s[0] + gt[i][0] / n, s[1] + gt[i][1] / n]
        })
    };
    let (l, r) = (centre(36..42), centre(42..48));
    let pupils = (l[0] - r[0]).hypot(l[1] - r[1]);
    let pred = shifted(&gt, 0.05, |_| true); // 0.05 inter-ocular distances
    ev.push(Sample::new("a.png", (W, H), pred, gt.clone()))
        .unwrap();
    let mut cfg = config();
    cfg.nme_norm = NmeNorm::InterPupil;
    let report = ev.finish(&cfg).unwrap();
    assert!(close(report.nme_mean, 0.05 * inter_ocular(&gt) / pupils));
    assert_eq!(report.nme_norm, "inter_pupil");
    assert!(report.protocol.normalisation.contains("inter_pupil"));
}

#[test]
fn facesynthetics_points_are_compared_on_the_first_68() {
    let fs = scheme("facesynthetics70");
    let mut ev = Evaluator::new(&fs, &fs).unwrap();
    let mut gt = face(20.0);
    gt.extend([[300.0, 200.0], [340.0, 200.0]]);
    let mut pred = shifted(&gt, 0.04, |i| i < 68);
    pred[68] = [0.0, 0.0]; // the pupils are not compared
    ev.push(Sample::new("000000.png", (512, 512), pred, gt))
        .unwrap();
    let report = ev.finish(&config()).unwrap();
    assert_eq!(report.landmarks.len(), 68);
    assert!(close(report.nme_mean, 0.04));
    assert!(report.protocol.points.contains("68 points of ibug68"));
}

#[test]
fn face_scores_attributes_and_non_faces() {
    let ibug = scheme("ibug68");
    let mut ev = Evaluator::new(&ibug, &ibug).unwrap();
    let gt = face(0.0);
    let blur = Attributes {
        blur: Some(true),
        ..Default::default()
    };
    let blur_occ = Attributes {
        blur: Some(true),
        occlusion: Some(true),
        ..Default::default()
    };
    ev.push(
        Sample::new("a", (W, H), shifted(&gt, 0.02, |_| true), gt.clone())
            .with_face_score(0.9)
            .with_attributes(blur),
    )
    .unwrap();
    ev.push(
        Sample::new("b", (W, H), shifted(&gt, 0.2, |_| true), gt.clone())
            .with_face_score(0.3)
            .with_attributes(blur_occ),
    )
    .unwrap();
    ev.push(
        Sample::new("c", (W, H), shifted(&gt, 0.06, |_| true), gt.clone())
            .with_attributes(Attributes::default()),
    )
    .unwrap();
    // a non-face crop: counts for face-cls only, its points are not checked
    let mut non_face = Sample::new("neg", (96, 96), vec![], vec![]);
    non_face.face = Some(FaceScore {
        score: 0.6,
        is_face: false,
    });
    ev.push(non_face).unwrap();
    // a face crop without landmarks: face-cls only
    let crop = FaceScore {
        score: 0.8,
        is_face: true,
    };
    ev.push_face_score("crop.png", crop).unwrap();
    assert!(
        ev.push_face_score(
            "bad.png",
            FaceScore {
                score: f64::INFINITY,
                is_face: true
            }
        )
        .is_err()
    );
    assert_eq!(ev.len(), 3);
    let report = ev.finish(&config()).unwrap();
    assert_eq!(report.count, 3);
    let cls = report.face_cls.as_ref().unwrap();
    // a, crop: TP, b: FN, neg: FP ; c has no score
    assert_eq!(
        (
            cls.count,
            cls.true_positives,
            cls.false_negatives,
            cls.false_positives
        ),
        (4, 2, 1, 1)
    );
    assert!(
        close(cls.accuracy, 0.5)
            && close(cls.precision.unwrap(), 2.0 / 3.0)
            && close(cls.recall.unwrap(), 2.0 / 3.0)
    );
    let subset = |name: &str| report.attributes.iter().find(|a| a.name == name).unwrap();
    assert_eq!(report.attributes.len(), 6);
    let b = subset("blur");
    assert_eq!(b.count, 2);
    assert!(
        close(b.nme_mean.unwrap(), 0.11) && close(b.fr.unwrap(), 0.5) && close(b.auc.unwrap(), 0.4)
    );
    assert_eq!(subset("occlusion").count, 1);
    assert_eq!(subset("pose").count, 0);
    assert_eq!(subset("pose").nme_mean, None);
    assert_eq!(report.samples[0].face_score, Some(0.9));
}

#[test]
fn bad_input_and_settings_are_clear_errors() {
    let ibug = scheme("ibug68");
    let mut ev = Evaluator::new(&ibug, &ibug).unwrap();
    let gt = face(0.0);
    let err = ev
        .push(Sample::new(
            "short.png",
            (W, H),
            gt[..10].to_vec(),
            gt.clone(),
        ))
        .unwrap_err();
    assert!(
        matches!(
            err,
            EvalError::PointCount {
                found: 10,
                expected: 68,
                ..
            }
        ),
        "{err}"
    );
    let err = ev
        .push(Sample::new("empty.png", (0, H), gt.clone(), gt.clone()))
        .unwrap_err();
    assert!(err.to_string().contains("empty.png"), "{err}");
    let err = ev
        .push(Sample::new("nan.png", (W, H), gt.clone(), gt.clone()).with_face_score(f64::NAN))
        .unwrap_err();
    assert!(err.to_string().contains("face score"), "{err}");
    assert!(matches!(
        ev.clone().finish(&config()),
        Err(EvalError::NoSamples)
    ));
    ev.push(Sample::new("ok.png", (W, H), gt.clone(), gt))
        .unwrap();
    let mut cfg = config();
    cfg.fr_threshold = 0.0;
    assert!(
        ev.clone()
            .finish(&cfg)
            .unwrap_err()
            .to_string()
            .contains("fr_threshold")
    );
    let mut cfg = config();
    cfg.pose_buckets = vec![40.0, 30.0];
    assert!(
        ev.finish(&cfg)
            .unwrap_err()
            .to_string()
            .contains("pose_buckets")
    );
}

#[test]
fn report_json_has_the_fixed_keys_and_round_trips() {
    let mut cfg = config();
    cfg.checkpoint = Some("runs/Landmark/weights/best.mpk".into());
    let report = four_faces().finish(&cfg).unwrap();
    let json: serde_json::Value = serde_json::from_str(&report.to_json()).unwrap();
    for key in [
        "nme_mean",
        "nme_median",
        "fr",
        "auc",
        "fr_threshold",
        "count",
        "pose_buckets",
        "parts",
        "samples",
    ] {
        assert!(json.get(key).is_some(), "missing {key}");
    }
    let bucket = &json["pose_buckets"][0];
    assert_eq!(
        (
            bucket["lo"].as_f64(),
            bucket["hi"].as_f64(),
            bucket["count"].as_u64()
        ),
        (Some(0.0), Some(30.0), Some(2))
    );
    assert!(close(bucket["nme_mean"].as_f64().unwrap(), 0.175));
    assert!(json["parts"]["jaw"].is_f64());
    let sample = &json["samples"][1];
    assert_eq!(sample["image"], "img1.png");
    assert!(close(sample["nme"].as_f64().unwrap(), 0.01));
    assert!(sample["yaw"].as_f64().unwrap() < -34.0);
    assert_eq!(json["checkpoint"], "runs/Landmark/weights/best.mpk");
    assert_eq!(json["split"], "val");
    // the parts keep the scheme's order in the file
    let text = report.to_json();
    assert!(text.find("\"jaw\"").unwrap() < text.find("\"mouth\"").unwrap());
    let back: Report = serde_json::from_str(&text).unwrap();
    assert_eq!(back, report);
}

#[test]
fn write_puts_the_json_and_both_pictures_side_by_side() {
    let report = four_faces().finish(&config()).unwrap();
    let dir = tempfile::tempdir().unwrap();
    let files = report.write(dir.path()).unwrap();
    assert_eq!(files.json, dir.path().join("val_val.json"));
    assert_eq!(files.ced_png, dir.path().join("val_val_ced.png"));
    assert_eq!(Report::read(&files.json).unwrap(), report);
    for png in [&files.ced_png, &files.landmarks_png] {
        let image = image::open(png).unwrap().to_rgb8();
        assert!(image.width() >= 480 && image.height() >= 480);
        // something other than the white background was drawn
        let coloured = image.pixels().filter(|p| p.0 != [255, 255, 255]).count();
        assert!(
            coloured > 1000,
            "{}: {coloured} coloured pixels",
            png.display()
        );
    }
    let named = dir.path().join("nested/report.json");
    let files = report.write(&named).unwrap();
    assert_eq!(files.json, named);
    assert!(dir.path().join("nested/report_landmarks.png").is_file());
    let err = Report::read(&dir.path().join("val_val_ced.png")).unwrap_err();
    assert!(err.to_string().contains("val_val_ced.png"), "{err}");
}

#[test]
fn console_table_shows_the_figures() {
    let text = four_faces().finish(&config()).unwrap().to_string();
    for needle in [
        "4 faces",
        "NME mean 11.00%",
        "median 6.50%",
        "FR@0.1 25.00%",
        "AUC@0.1 0.4000",
        "[0, 30]",
        "(40, 90]",
        "jaw",
    ] {
        assert!(text.contains(needle), "missing `{needle}` in\n{text}");
    }
}

#[test]
fn a_scheme_without_a_3d_mean_face_is_drawn_on_its_mean_normalised_ground_truth() {
    let wflw = scheme("wflw98");
    assert!(wflw.mean_shape_3d.is_none());
    let mut ev = Evaluator::new(&wflw, &wflw).unwrap();
    let gt: Vec<[f64; 2]> = (0..98)
        .map(|k| {
            let a = std::f64::consts::TAU * k as f64 / 98.0;
            [320.0 + 100.0 * a.cos(), 240.0 + 120.0 * a.sin()]
        })
        .collect();
    for _ in 0..2 {
        let pred = gt.iter().map(|p| [p[0] + 1.0, p[1]]).collect();
        ev.push(Sample::new("w.jpg", (W, H), pred, gt.clone()))
            .unwrap();
    }
    let report = ev.finish(&config()).unwrap();
    assert_eq!(report.scheme, "wflw98");
    assert_eq!(report.landmarks.len(), 98);
    let io = (gt[60][0] - gt[72][0]).hypot(gt[60][1] - gt[72][1]);
    let centre = gt
        .iter()
        .fold([0.0, 0.0], |s, p| [s[0] + p[0] / 98.0, s[1] + p[1] / 98.0]);
    for (m, p) in report.mean_face.iter().zip(&gt) {
        assert!(close(m[0], (p[0] - centre[0]) / io) && close(m[1], (p[1] - centre[1]) / io));
    }
    assert!(close(report.nme_mean, 1.0 / io));
}
