//! Every activation of both architectures, with the face-score and pose heads and a narrower
//! width, exports to a graph that tract runs within 1e-4 of the burn model (fresh weights).

use burn::tensor::Device;
use fdfat_config::resolve_flags;
use fdfat_export::{
    InputLayout, OnnxInfo, OnnxOptions, OnnxRunner, SampleBatch, check_against_burn, to_onnx,
    write_onnx,
};
use fdfat_models::LandmarkModel;

const ACTIVATIONS: [&str; 10] = [
    "ReLU6",
    "SiLU",
    "ReLU",
    "Hardswish",
    "LeakyReLU",
    "GELU",
    "Tanh",
    "Sigmoid",
    "PReLU",
    "Mish",
];

fn check(model_kind: &str, activation: &str, extra: &[(&str, &str)]) -> OnnxInfo {
    let mut flags = vec![("model", model_kind), ("activation", activation)];
    flags.extend_from_slice(extra);
    let cfg = resolve_flags(&flags).unwrap();
    let device = Device::default();
    let model = LandmarkModel::new(&cfg, &device).unwrap();
    let onnx = to_onnx(&model, &OnnxOptions::default()).unwrap();
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("model.onnx");
    write_onnx(&onnx, &path).unwrap();
    let runner = OnnxRunner::load(&path).unwrap();
    let sample = SampleBatch::noise(2, cfg.imgsz, 5);
    let diff = check_against_burn(
        &model,
        &device,
        &runner,
        &path,
        InputLayout::NchwF32,
        &sample,
    )
    .unwrap_or_else(|e| panic!("{model_kind} {activation}: {e}"));
    let info = OnnxInfo::of(&onnx);
    println!(
        "{model_kind} {activation} {extra:?}: {} nodes, max diff {diff:.2e}",
        info.nodes
    );
    assert_eq!(info.outputs[0].1[1], model.output_len().to_string());
    info
}

#[test]
fn every_activation_of_lwmodel_with_all_heads() {
    for activation in ACTIVATIONS {
        let info = check(
            "LWModel",
            activation,
            &[
                ("face_cls", "true"),
                ("aux_pose", "true"),
                ("muliplier", "0.5"),
            ],
        );
        assert_eq!(info.outputs[0].1[1], "144");
    }
}

#[test]
fn every_activation_of_lwcspmodel_with_all_heads() {
    for activation in ACTIVATIONS {
        check(
            "LWCSPModel",
            activation,
            &[
                ("face_cls", "true"),
                ("aux_pose", "true"),
                ("muliplier", "0.5"),
            ],
        );
    }
}

#[test]
fn other_sizes_and_point_counts() {
    // 68 points, no side heads: the output is the landmark Tanh itself
    let info = check("LWModel", "ReLU6", &[("lmk_num", "68"), ("imgsz", "128")]);
    assert_eq!(info.outputs[0].1, vec!["N", "136"]);
    assert_eq!(
        info.count("Concat"),
        1,
        "only the pooled features are joined"
    );
    let info = check("LWCSPModel", "SiLU", &[("lmk_num", "98"), ("imgsz", "64")]);
    assert_eq!(info.inputs[0].1, vec!["N", "3", "64", "64"]);
}
