//! The fused CPU engine computes what the burn model computes in eval mode (within 1e-5),
//! for both architectures, the activations the configuration allows, odd widths, all heads,
//! batches of 1 and more, with random weights and BatchNorm statistics and with the
//! published `best.pt` weights (which also reproduce the original PyTorch outputs).

use burn::module::{Module, ModuleMapper, Param};
use burn::tensor::{Device, Distribution, Tensor};
use fdfat_config::fixtures::shared_path;
use fdfat_infer::FusedModel;
use fdfat_models::{LandmarkModel, ModelError, load_checkpoint, npy};

/// Scales every tensor by U(0.5, 1.5) and shifts vectors (biases, BatchNorm statistics and
/// affine parameters) by U(-0.2, 0.2): running variances stay positive, means, gammas and
/// betas move off their defaults so that folding them matters, and weight matrices keep their
/// initial scale so that activations stay of order 1.
struct Jitter;

impl ModuleMapper for Jitter {
    fn map_float<const D: usize>(&mut self, param: Param<Tensor<D>>) -> Param<Tensor<D>> {
        param.map(|t| {
            let (shape, device) = (t.shape(), t.device());
            let scale = Tensor::random(shape.clone(), Distribution::Uniform(0.5, 1.5), &device);
            let t = t * scale;
            if D > 1 {
                return t;
            }
            t + Tensor::random(shape, Distribution::Uniform(-0.2, 0.2), &device)
        })
    }
}

fn random_model(flags: &[(&str, &str)]) -> LandmarkModel {
    let cfg = fdfat_config::resolve_flags(flags).unwrap();
    LandmarkModel::new(&cfg, &Device::default())
        .unwrap()
        .map(&mut Jitter)
}

fn random_input(n: usize, model: &LandmarkModel) -> Vec<f32> {
    let s = model.spec().imgsz;
    Tensor::<4>::random(
        [n, 3, s, s],
        Distribution::Uniform(-1.0, 1.0),
        &Device::default(),
    )
    .into_data()
    .try_into_vec::<f32>()
    .unwrap()
}

/// burn's eval-mode output for `n` images.
fn burn_output(model: &LandmarkModel, input: &[f32], n: usize) -> Vec<f32> {
    let s = model.spec().imgsz;
    let x = Tensor::<4>::from_data(
        burn::tensor::TensorData::new(input.to_vec(), [n, 3, s, s]),
        &Device::default(),
    );
    model.forward(x).into_data().try_into_vec::<f32>().unwrap()
}

fn max_abs_diff(a: &[f32], b: &[f32]) -> f32 {
    assert_eq!(a.len(), b.len());
    a.iter()
        .zip(b)
        .map(|(x, y)| (x - y).abs())
        .fold(0.0, f32::max)
}

/// Fused and burn outputs of `model` agree within 1e-5 at batch 1 and 3.
fn check(label: &str, model: &LandmarkModel) {
    let engine = FusedModel::from_model(model).unwrap();
    assert_eq!(engine.output_len(), model.output_len());
    for n in [1, 3] {
        let input = random_input(n, model);
        let expected = burn_output(model, &input, n);
        let got = engine.run(&input, n).unwrap();
        let worst = max_abs_diff(&got, &expected);
        println!("{label}, batch {n}: max abs difference {worst:e}");
        assert!(
            worst <= 1e-5,
            "{label}, batch {n}: max abs difference {worst:e}"
        );
    }
}

#[test]
fn lwmodel_matches_burn_for_each_activation() {
    for act in [
        "ReLU6",
        "PReLU",
        "SiLU",
        "Hardswish",
        "ReLU",
        "LeakyReLU",
        "GELU",
        "Tanh",
        "Sigmoid",
        "Mish",
    ] {
        let model = random_model(&[("activation", act), ("face_cls", "true")]);
        check(&format!("LWModel {act}"), &model);
    }
}

#[test]
fn lwcspmodel_matches_burn_for_each_activation() {
    for act in ["SiLU", "ReLU6", "PReLU", "Hardswish"] {
        let flags = [
            ("model", "LWCSPModel"),
            ("activation", act),
            ("face_cls", "true"),
        ];
        check(&format!("LWCSPModel {act}"), &random_model(&flags));
    }
}

#[test]
fn every_head_and_odd_widths_match_burn() {
    // 0.75: widths 12, 24, 48, 96 (not whole 16-channel accumulators; a face-cls head with
    // two output channels per input channel); 1.3: widths 20, 41 make that head dense.
    for (model, multiplier) in [
        ("LWModel", "0.75"),
        ("LWModel", "1.3"),
        ("LWCSPModel", "0.75"),
    ] {
        let flags = [
            ("model", model),
            ("muliplier", multiplier),
            ("face_cls", "true"),
            ("aux_pose", "true"),
            ("lmk_num", "68"),
        ];
        check(
            &format!("{model} x{multiplier} with pose"),
            &random_model(&flags),
        );
    }
    let no_heads = random_model(&[("model", "LWCSPModel"), ("face_cls", "false")]);
    check("LWCSPModel without side heads", &no_heads);
    let small = random_model(&[("imgsz", "64"), ("face_cls", "true")]);
    check("LWModel at 64 px", &small);
}

#[test]
fn bad_inputs_are_errors() {
    let model = random_model(&[]);
    let engine = FusedModel::from_model(&model).unwrap();
    let one = vec![0.0; engine.input_len()];
    assert!(matches!(
        engine.run(&one, 2),
        Err(ModelError::InvalidInput {
            dims: [2, 3, 96, 96],
            ..
        })
    ));
    assert!(engine.run(&[], 0).is_err());
    let mut short = vec![0.0; engine.output_len() - 1];
    let err = engine.run_into(&one, 1, &mut short).unwrap_err();
    assert!(err.to_string().contains("output buffer"), "{err}");
}

/// The published weights: fused equals burn within 1e-5 and the original's outputs within
/// the parity tolerance (1e-4), run as one batch of 6 and row by row.
fn check_reference(model: &str, activation: &str, checkpoint: &str, outputs: &str) {
    let (Some(weights), Some(parity)) = (
        shared_path(&format!("data/reference_checkpoints/{checkpoint}/best.pt")),
        shared_path("reference/parity"),
    ) else {
        return;
    };
    let cfg = fdfat_config::resolve_flags(&[
        ("model", model),
        ("activation", activation),
        ("face_cls", "true"),
    ])
    .unwrap();
    let fresh = LandmarkModel::new(&cfg, &Device::default()).unwrap();
    let (model, _) = load_checkpoint(fresh, &weights).unwrap();
    let engine = FusedModel::from_model(&model).unwrap();
    let inputs = npy::read_f32(parity.join("inputs.npy")).unwrap();
    let expected = npy::read_f32(parity.join(outputs)).unwrap();
    let n = inputs.shape[0];
    let burn = burn_output(&model, &inputs.data, n);
    let batch = engine.run(&inputs.data, n).unwrap();
    let rows: Vec<f32> = inputs
        .data
        .chunks(engine.input_len())
        .flat_map(|image| engine.run(image, 1).unwrap())
        .collect();
    for (label, got) in [("batch", &batch), ("rows", &rows)] {
        let vs_burn = max_abs_diff(got, &burn);
        let vs_torch = max_abs_diff(got, &expected.data);
        println!("{checkpoint} {label}: vs burn {vs_burn:e}, vs PyTorch {vs_torch:e}");
        assert!(vs_burn <= 1e-5, "{checkpoint} {label}: vs burn {vs_burn:e}");
        assert!(
            vs_torch < 1e-4,
            "{checkpoint} {label}: vs PyTorch {vs_torch:e}"
        );
    }
}

#[test]
fn lwmodel_reference_weights_match() {
    check_reference(
        "LWModel",
        "ReLU6",
        "LWModel_ReLU6_affine_cls",
        "lw_outputs.npy",
    );
}

#[test]
fn lwcspmodel_reference_weights_match() {
    check_reference(
        "LWCSPModel",
        "SiLU",
        "LWCSPModel_SiLU_affine_facecls",
        "csp_outputs.npy",
    );
}
