//! The published LWModel and LWCSPModel, imported from `best.pt`, evaluated with the reference
//! protocol (eval crop of `fdfat-data`, predictions mapped back to original pixels, NME over the
//! 68 iBUG points, inter-ocular) on the 43 shared FaceSynthetics and 300-W faces, agree with the
//! PyTorch pipeline (`shared/reference/nme_shared_samples.json`): the crop boxes exactly, each
//! image's NME within 0.002 and the mean NMEs within 0.001.

use burn::tensor::{Device, Tensor, TensorData};
use fdfat_config::fixtures::shared_path;
use fdfat_config::{LandmarkScheme, resolve};
use fdfat_data::{eval_crop, read_rgb};
use fdfat_eval::{Evaluator, Sample};
use fdfat_models::{LandmarkModel, load_checkpoint};
use serde_json::Value;
use std::path::Path;

const IMGSZ: usize = 96;

/// The ground truth of a shared face in 0-based pixels (`.pts` files are 1-based).
fn ground_truth(image: &Path) -> Vec<[f64; 2]> {
    let name = image.to_string_lossy();
    let (annotation, offset) = match name
        .strip_suffix(".png")
        .filter(|_| name.contains("facesynthetics"))
    {
        Some(stem) => (format!("{stem}_ldmks.txt"), 0.0),
        None => (
            image.with_extension("pts").to_string_lossy().into_owned(),
            1.0,
        ),
    };
    std::fs::read_to_string(&annotation)
        .unwrap()
        .lines()
        .filter(|line| !line.contains(':'))
        .filter_map(|line| {
            let v: Vec<f64> = line
                .split_whitespace()
                .filter_map(|x| x.parse().ok())
                .collect();
            (v.len() == 2).then(|| [v[0] - offset, v[1] - offset])
        })
        .collect()
}

fn check_model(name: &str, model_kind: &str, activation: &str) {
    let (Some(data), Some(reference), Some(weights)) = (
        shared_path("data"),
        shared_path("reference/nme_shared_samples.json"),
        shared_path(&format!("data/reference_checkpoints/{name}/best.pt")),
    ) else {
        return;
    };
    let reference: Value =
        serde_json::from_str(&std::fs::read_to_string(reference).unwrap()).unwrap();
    let expected = reference["models"][name]["samples"].as_array().unwrap();
    assert_eq!(expected.len(), 43);

    let cfg = resolve(
        None,
        &[
            ("model".into(), model_kind.into()),
            ("activation".into(), activation.into()),
            ("face_cls".into(), "true".into()),
        ],
    )
    .unwrap();
    let device = Device::default();
    let (model, _) = load_checkpoint(LandmarkModel::new(&cfg, &device).unwrap(), &weights).unwrap();

    let mut pixels = Vec::new();
    let mut crops = Vec::new();
    for entry in expected {
        let image = data.join(entry["image"].as_str().unwrap());
        let gt = ground_truth(&image);
        let gt32: Vec<[f32; 2]> = gt.iter().map(|p| [p[0] as f32, p[1] as f32]).collect();
        let rgb = read_rgb(&image).unwrap();
        let input = eval_crop(&rgb, &gt32, IMGSZ, true).unwrap();
        let want: Vec<i64> = entry["crop_box"]
            .as_array()
            .unwrap()
            .iter()
            .map(|v| v.as_i64().unwrap())
            .collect();
        let got: Vec<i64> = input
            .crop
            .to_array()
            .iter()
            .map(|&v| i64::from(v))
            .collect();
        assert_eq!(got, want, "crop box of {}", image.display());
        pixels.extend_from_slice(&input.pixels);
        crops.push((image, (rgb.width(), rgb.height()), gt, input.transform));
    }
    let n = crops.len();
    let batch = Tensor::<4>::from_data(TensorData::new(pixels, [n, 3, IMGSZ, IMGSZ]), &device);
    let outputs = model
        .forward(batch)
        .into_data()
        .try_into_vec::<f32>()
        .unwrap();
    let width = outputs.len() / n;

    let fs70 = LandmarkScheme::load("facesynthetics70").unwrap();
    let ibug68 = LandmarkScheme::load("ibug68").unwrap();
    let mut evaluator_fs = Evaluator::new(&fs70, &fs70).unwrap();
    let mut evaluator_300w = Evaluator::new(&fs70, &ibug68).unwrap();
    for (k, (image, size, gt, transform)) in crops.into_iter().enumerate() {
        let row = &outputs[k * width..(k + 1) * width];
        let pred: Vec<[f64; 2]> = row[..140]
            .chunks_exact(2)
            .map(|c| {
                let p = transform.to_image([c[0], c[1]]);
                [f64::from(p[0]), f64::from(p[1])]
            })
            .collect();
        let sample = Sample::new(image.to_string_lossy(), size, pred, gt)
            .with_face_score(f64::from(row[140]));
        let evaluator = if sample.gt.len() == 70 {
            &mut evaluator_fs
        } else {
            &mut evaluator_300w
        };
        evaluator.push(sample).unwrap();
    }
    let eval_cfg = resolve(None, &[]).unwrap();
    let reports = [
        evaluator_fs.finish(&eval_cfg).unwrap(),
        evaluator_300w.finish(&eval_cfg).unwrap(),
    ];
    let got: Vec<&fdfat_eval::SampleRecord> = reports.iter().flat_map(|r| &r.samples).collect();
    assert_eq!(got.len(), 43);
    let mut worst: f64 = 0.0;
    for (entry, sample) in expected.iter().zip(&got) {
        assert!(sample.image.ends_with(entry["image"].as_str().unwrap()));
        let want = entry["nme68"].as_f64().unwrap();
        let diff = (sample.nme - want).abs();
        worst = worst.max(diff);
        assert!(
            diff < 0.002,
            "{}: NME {} vs reference {want}",
            sample.image,
            sample.nme
        );
    }
    for (report, kind) in reports.iter().zip(["facesynthetics", "300w"]) {
        let want: Vec<f64> = expected
            .iter()
            .filter(|e| e["kind"] == kind)
            .map(|e| e["nme68"].as_f64().unwrap())
            .collect();
        let want_mean = want.iter().sum::<f64>() / want.len() as f64;
        println!(
            "{name} on {kind}: {} faces, mean NME {:.5} (reference {want_mean:.5})",
            report.count, report.nme_mean
        );
        assert!((report.nme_mean - want_mean).abs() < 0.001);
    }
    let all_mean = got.iter().map(|s| s.nme).sum::<f64>() / 43.0;
    let want_all = expected
        .iter()
        .map(|e| e["nme68"].as_f64().unwrap())
        .sum::<f64>()
        / 43.0;
    println!(
        "{name}: all 43 faces mean NME {all_mean:.5} (reference {want_all:.5}), \
         largest per-image difference {worst:.2e}"
    );
    assert!((all_mean - want_all).abs() < 0.001);
}

#[test]
fn lwmodel_nme_matches_the_pytorch_reference() {
    check_model("LWModel_ReLU6_affine_cls", "LWModel", "ReLU6");
}

#[test]
fn lwcspmodel_nme_matches_the_pytorch_reference() {
    check_model("LWCSPModel_SiLU_affine_facecls", "LWCSPModel", "SiLU");
}
