//! The published `best.pt` weights, imported, reproduce the original PyTorch outputs on the
//! parity fixtures (6 rows x 141 outputs) within 1e-4.

use burn::tensor::{Device, Tensor};
use fdfat_config::fixtures::shared_path;
use fdfat_models::{CheckpointFormat, LandmarkModel, load_checkpoint, npy};

fn check_parity(model: &str, activation: &str, checkpoint: &str, outputs: &str) {
    let (Some(weights), Some(parity)) = (
        shared_path(&format!("data/reference_checkpoints/{checkpoint}/best.pt")),
        shared_path("reference/parity"),
    ) else {
        return;
    };
    let device = Device::default();
    let cfg = fdfat_config::resolve_flags(&[
        ("model", model),
        ("activation", activation),
        ("face_cls", "true"),
    ])
    .unwrap();
    let model = LandmarkModel::new(&cfg, &device).unwrap();
    let (model, report) = load_checkpoint(model, &weights).unwrap();
    println!("{report}");
    assert_eq!(report.format, CheckpointFormat::Pytorch);
    assert_eq!(report.transferred, report.model_tensors);
    assert!(
        report.fresh.is_empty() && report.ignored.is_empty(),
        "{report}"
    );
    assert!(report.batch_counters > 0);

    let inputs: Tensor<4> = npy::read_f32(parity.join("inputs.npy"))
        .unwrap()
        .to_tensor(&device)
        .unwrap();
    let expected = npy::read_f32(parity.join(outputs)).unwrap();
    assert_eq!(expected.shape, vec![6, 141]);

    let got = model.forward(inputs);
    assert_eq!(got.dims(), [6, 141]);
    let got = got.into_data().try_to_vec::<f32>().unwrap();
    let worst = got
        .iter()
        .zip(&expected.data)
        .map(|(a, b)| (a - b).abs())
        .fold(0.0f32, f32::max);
    println!("{checkpoint}: max abs difference {worst:e}");
    assert!(worst < 1e-4, "max abs difference {worst}");
}

#[test]
fn lwmodel_matches_pytorch() {
    check_parity(
        "LWModel",
        "ReLU6",
        "LWModel_ReLU6_affine_cls",
        "lw_outputs.npy",
    );
}

#[test]
fn lwcspmodel_matches_pytorch() {
    check_parity(
        "LWCSPModel",
        "SiLU",
        "LWCSPModel_SiLU_affine_facecls",
        "csp_outputs.npy",
    );
}
