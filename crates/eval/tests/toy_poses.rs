//! The toy dataset of `--task synth` knows each face's true pose (`poses.txt`, the same
//! `Rz(roll) Ry(yaw) Rx(pitch)` convention as this crate): the yaw the evaluator estimates from
//! the rendered ground-truth landmarks must match it, and the faces must land in the right
//! `|yaw|` buckets.

use fdfat_config::{LandmarkScheme, resolve};
use fdfat_eval::{Evaluator, PoseBuckets, Sample};

const SIZE: u32 = 128;
const COUNT: usize = 40;

#[test]
fn estimated_yaw_matches_the_toy_dataset_poses() {
    let dir = tempfile::tempdir().unwrap();
    fdfat_data::synth::generate(dir.path(), COUNT, 7, SIZE, 1).unwrap();
    let poses = std::fs::read_to_string(dir.path().join("poses.txt")).unwrap();
    let truth: Vec<(String, f64)> = poses
        .lines()
        .filter(|l| !l.starts_with('#'))
        .map(|l| {
            let fields: Vec<&str> = l.split_whitespace().collect();
            (fields[0].to_string(), fields[1].parse().unwrap())
        })
        .collect();
    assert_eq!(truth.len(), COUNT);

    let scheme = LandmarkScheme::load("facesynthetics70").unwrap();
    let mut evaluator = Evaluator::new(&scheme, &scheme).unwrap();
    for (name, _) in &truth {
        let stem = name.trim_end_matches(".png");
        let text = std::fs::read_to_string(dir.path().join(format!("{stem}_ldmks.txt"))).unwrap();
        let gt: Vec<[f64; 2]> = text
            .lines()
            .map(|l| {
                let v: Vec<f64> = l.split_whitespace().map(|x| x.parse().unwrap()).collect();
                [v[0], v[1]]
            })
            .collect();
        evaluator
            .push(Sample::new(name.clone(), (SIZE, SIZE), gt.clone(), gt))
            .unwrap();
    }
    let report = evaluator.finish(&resolve(None, &[]).unwrap()).unwrap();
    let errors: Vec<f64> = report
        .samples
        .iter()
        .zip(&truth)
        .map(|(s, (_, yaw))| (s.yaw.unwrap() - yaw).abs())
        .collect();
    let mean = errors.iter().sum::<f64>() / errors.len() as f64;
    let worst = errors.iter().copied().fold(0.0, f64::max);
    println!("toy yaw error over {COUNT} faces: mean {mean:.2} deg, worst {worst:.2} deg");
    // the toy faces jitter the mean face's shape and expression, so the fit is not exact
    assert!(mean < 3.0 && worst < 8.0, "mean {mean}, worst {worst}");

    // bucket counts from the true yaws, away from the edges, agree with the report
    let buckets = PoseBuckets::new(&[30.0, 40.0]).unwrap();
    for ((s, (_, yaw)), err) in report.samples.iter().zip(&truth).zip(&errors) {
        let near_edge = [30.0, 40.0].iter().any(|e| (yaw.abs() - e).abs() <= *err);
        if !near_edge {
            assert_eq!(
                buckets.index(*yaw),
                buckets.index(s.yaw.unwrap()),
                "{}",
                s.image
            );
        }
    }
}
