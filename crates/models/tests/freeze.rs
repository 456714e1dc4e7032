//! `freeze_landmark`: after an optimizer step, every frozen tensor and BatchNorm running
//! statistic is bit-identical while the face-cls head has changed.

use burn::module::Module;
use burn::optim::{AdamConfig, GradientsParams};
use burn::store::{ModuleSnapshot, bridge};
use burn::tensor::{Device, Distribution, Tensor};
use fdfat_config::fixtures::shared_path;
use fdfat_models::{LandmarkModel, load_checkpoint};
use std::collections::BTreeMap;
use std::path::PathBuf;

type Tensors = BTreeMap<String, Vec<f32>>;

/// Every tensor of the model (parameters and running statistics) by path. `valid()` folds
/// the running statistics' pending update in.
fn snapshot(model: &LandmarkModel) -> Tensors {
    model
        .valid()
        .collect(None, None, true)
        .iter()
        .map(|t| {
            let data = bridge::to_data(t).unwrap().try_to_vec::<f32>().unwrap();
            (t.name.clone(), data)
        })
        .collect()
}

/// One Adam step on an L1 loss over the whole output row of a face-cls model, optionally
/// starting from `checkpoint`; returns the tensors before and after.
fn train_step(freeze: &str, checkpoint: Option<PathBuf>) -> (Tensors, Tensors) {
    let cfg =
        fdfat_config::resolve_flags(&[("face_cls", "true"), ("freeze_landmark", freeze)]).unwrap();
    let device = Device::default().autodiff();
    device.seed(7);
    let mut model = LandmarkModel::new(&cfg, &device).unwrap();
    if let Some(path) = checkpoint {
        model = load_checkpoint(model, path).unwrap().0;
    }
    let before = snapshot(&model);

    let x = Tensor::<4>::random([4, 3, 96, 96], Distribution::Uniform(-1.0, 1.0), &device);
    let target = Tensor::<2>::random([4, 141], Distribution::Uniform(-0.5, 0.5), &device);
    let loss = (model.forward(x) - target).abs().mean();
    let grads = GradientsParams::from_grads(loss.backward(), &model);
    let mut optimizer = AdamConfig::new().init();
    let model = optimizer.step(1e-2, model, grads);
    (before, snapshot(&model))
}

/// Asserts the face-cls head changed and everything else is bit-identical.
fn assert_only_face_head_changed(before: &Tensors, after: &Tensors) {
    assert_eq!(before.len(), after.len());
    let mut frozen = 0;
    for (name, old) in before {
        let new = &after[name];
        if name.starts_with("classifier.") {
            assert_ne!(old, new, "face-cls tensor `{name}` did not change");
        } else {
            assert!(
                old.iter().zip(new).all(|(a, b)| a.to_bits() == b.to_bits()),
                "frozen tensor `{name}` changed"
            );
            frozen += 1;
        }
    }
    // Every landmark tensor was compared, BatchNorm running statistics included.
    assert_eq!(frozen, before.len() - 12);
    assert!(
        before
            .keys()
            .any(|k| k.ends_with("running_var") && !k.starts_with("classifier"))
    );
}

#[test]
fn frozen_tensors_stay_bit_identical_and_the_face_head_trains() {
    let (before, after) = train_step("true", None);
    assert_only_face_head_changed(&before, &after);
}

#[test]
fn freezing_survives_loading_the_published_weights() {
    let Some(path) = shared_path("data/reference_checkpoints/LWModel_ReLU6_affine_cls/best.pt")
    else {
        return;
    };
    let (before, after) = train_step("true", Some(path));
    assert_only_face_head_changed(&before, &after);
}

#[test]
fn without_freezing_the_landmark_part_trains_too() {
    let (before, after) = train_step("false", None);
    for name in [
        "backbone.conv21.conv1.conv.weight",
        "backbone.conv21.conv1.bn.running_mean",
        "logit.layers.1.weight",
        "classifier.fc.weight",
    ] {
        assert_ne!(before[name], after[name], "`{name}` did not change");
    }
}
