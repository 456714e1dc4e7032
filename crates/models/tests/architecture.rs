//! Parameter counts, multiply-adds, output layout and input-size checks of both architectures,
//! against figures derived from the original PyTorch module definitions.

use burn::tensor::{Device, Distribution, Tensor};
use fdfat_config::resolve_flags;
use fdfat_models::{LandmarkModel, ModelError, model_summary};

fn model(flags: &[(&str, &str)]) -> LandmarkModel {
    LandmarkModel::new(&resolve_flags(flags).unwrap(), &Device::default()).unwrap()
}

/// Configuration flags, trainable parameters, BatchNorm running statistics (0: not checked).
type CountCase<'a> = (&'a [(&'a str, &'a str)], usize, usize);

#[test]
fn parameter_counts_match_pytorch() {
    // Counted with torch on the original module definitions.
    let cases: &[CountCase] = &[
        (&[("face_cls", "true")], 429_206, 8_640),
        (&[], 428_085, 8_448),
        (&[("aux_pose", "true")], 563_772, 9_024),
        (
            &[("face_cls", "true"), ("aux_pose", "true")],
            564_893,
            9_216,
        ),
        (
            &[("face_cls", "true"), ("activation", "PReLU")],
            429_207,
            8_640,
        ),
        (&[("face_cls", "true"), ("muliplier", "0.5")], 171_238, 0),
        (&[("face_cls", "true"), ("muliplier", "0.75")], 284_254, 0),
        (
            &[("model", "LWCSPModel"), ("face_cls", "true")],
            482_165,
            3_184,
        ),
        (&[("model", "LWCSPModel")], 481_044, 2_992),
        (
            &[("model", "LWCSPModel"), ("aux_pose", "true")],
            621_339,
            3_568,
        ),
        (
            &[
                ("model", "LWCSPModel"),
                ("face_cls", "true"),
                ("aux_pose", "true"),
            ],
            622_460,
            3_760,
        ),
        (
            &[
                ("model", "LWCSPModel"),
                ("face_cls", "true"),
                ("muliplier", "0.5"),
            ],
            131_809,
            0,
        ),
        (
            &[
                ("model", "LWCSPModel"),
                ("face_cls", "true"),
                ("muliplier", "1.25"),
            ],
            739_351,
            0,
        ),
    ];
    for (flags, params, stats) in cases {
        let summary = model_summary(&resolve_flags(flags).unwrap()).unwrap();
        assert_eq!(summary.params, *params, "{flags:?}");
        if *stats > 0 {
            assert_eq!(summary.running_stats, *stats, "{flags:?}");
        }
        assert_eq!(model(flags).num_trainable_params(), *params, "{flags:?}");
    }
}

#[test]
fn multiply_adds_match_the_published_figures() {
    // Convolution and linear multiply-adds per 96x96 image, counted with torch hooks; the
    // published 33.2 M and 61.4 M.
    let lw = model_summary(&resolve_flags(&[("face_cls", "true")]).unwrap()).unwrap();
    assert_eq!(lw.macs, 33_206_880);
    assert!((lw.macs as f64 / 33.2e6 - 1.0).abs() < 0.01);
    let csp = resolve_flags(&[("model", "LWCSPModel"), ("face_cls", "true")]).unwrap();
    let csp = model_summary(&csp).unwrap();
    assert_eq!(csp.macs, 61_391_296);
    assert!((csp.macs as f64 / 61.4e6 - 1.0).abs() < 0.01);
    // Without the face-cls head, and with the pose head.
    let plain = resolve_flags(&[]).unwrap();
    assert_eq!(model_summary(&plain).unwrap().macs, 33_144_608);
    let pose = resolve_flags(&[
        ("model", "LWCSPModel"),
        ("face_cls", "true"),
        ("aux_pose", "true"),
    ])
    .unwrap();
    assert_eq!(model_summary(&pose).unwrap().macs, 93_242_971);
}

#[test]
fn summary_rows_add_up_and_print_as_a_table() {
    let summary = model_summary(&resolve_flags(&[("face_cls", "true")]).unwrap()).unwrap();
    let names: Vec<&str> = summary.rows.iter().map(|r| r.name.as_str()).collect();
    assert_eq!(names.first(), Some(&"backbone.conv11"));
    assert!(names.contains(&"classifier") && names.contains(&"mainstream.convp3"));
    assert_eq!(names.last(), Some(&"logit"));
    assert_eq!(
        summary.rows.iter().map(|r| r.params).sum::<usize>(),
        summary.params
    );
    assert_eq!(
        summary.rows.iter().map(|r| r.macs).sum::<u64>(),
        summary.macs
    );
    let stem = &summary.rows[0];
    assert_eq!(
        (stem.output.as_str(), stem.params),
        ("16x48x48", 16 * 27 + 32 + 1)
    );
    let text = summary.to_string();
    assert!(text.contains("LWModel (ReLU6"), "{text}");
    assert!(text.contains("429,206 trainable parameters"), "{text}");
    assert!(text.contains("(33.2 M)"), "{text}");
    assert!(
        text.lines().any(|l| l.starts_with("mainstream.convp2")),
        "{text}"
    );
}

#[test]
fn output_rows_hold_landmarks_then_face_score_then_pose() {
    let device = Device::default();
    for (kind, points) in [("LWModel", "70"), ("LWCSPModel", "68")] {
        let flags = [
            ("model", kind),
            ("lmk_num", points),
            ("face_cls", "true"),
            ("aux_pose", "true"),
        ];
        let model = model(&flags);
        let n: usize = points.parse().unwrap();
        assert_eq!(model.landmark_outputs(), 2 * n);
        assert_eq!(model.face_cls_index(), Some(2 * n));
        assert_eq!(model.pose_range(), Some(2 * n + 1..2 * n + 4));
        assert_eq!(model.output_len(), 2 * n + 4);
        let x = Tensor::<4>::random([2, 3, 96, 96], Distribution::Uniform(-1.0, 1.0), &device);
        let out = model.forward(x);
        assert_eq!(out.dims(), [2, 2 * n + 4]);
        let values = out.into_data().try_to_vec::<f32>().unwrap();
        for row in values.chunks(2 * n + 4) {
            assert!(row[..2 * n].iter().all(|v| v.abs() < 1.0), "tanh landmarks");
            assert!((0.0..=1.0).contains(&row[2 * n]), "sigmoid face score");
            assert!(row[2 * n + 1..].iter().all(|v| v.abs() < 1.0), "tanh pose");
        }
    }
    let plain = model(&[]);
    assert_eq!((plain.face_cls_index(), plain.pose_range()), (None, None));
}

#[test]
fn every_activation_builds_and_runs() {
    let device = Device::default();
    for activation in fdfat_config::Activation::NAMES {
        let model = model(&[("model", "LWCSPModel"), ("activation", activation)]);
        let out = model.forward(Tensor::<4>::zeros([1, 3, 64, 64], &device));
        assert_eq!(out.dims(), [1, 140], "{activation}");
    }
}

#[test]
fn unsupported_sizes_and_inputs_are_errors() {
    // 100 px: the pooled residual of mainstream.convp2 halves an odd 13x13 map.
    let odd = resolve_flags(&[("imgsz", "100")]).unwrap();
    let err = LandmarkModel::new(&odd, &Device::default()).unwrap_err();
    let ModelError::InvalidConfig { key, reason, .. } = &err else {
        panic!("{err}");
    };
    assert_eq!(*key, "imgsz");
    assert!(reason.contains("mainstream.convp2"), "{reason}");
    let larger = resolve_flags(&[("imgsz", "128")]).unwrap();
    assert!(LandmarkModel::new(&larger, &Device::default()).is_ok());

    let err = model_summary(&resolve_flags(&[("muliplier", "0.05")]).unwrap()).unwrap_err();
    assert!(
        matches!(
            err,
            ModelError::InvalidConfig {
                key: "muliplier",
                ..
            }
        ),
        "{err}"
    );

    let model = model(&[]);
    assert!(model.check_input([4, 3, 96, 96]).is_ok());
    assert!(model.check_input([4, 1, 96, 96]).is_err());
    assert!(model.check_input([0, 3, 96, 96]).is_err());
    assert!(model.check_input([1, 3, 100, 100]).is_err());
    assert!(model.check_input([1, 3, 8, 8]).is_err());
    // A small size that passes the check does run.
    assert!(model.check_input([1, 3, 16, 16]).is_ok());
    let out = model.forward(Tensor::<4>::zeros([1, 3, 16, 16], &Device::default()));
    assert_eq!(out.dims(), [1, 140]);
}
