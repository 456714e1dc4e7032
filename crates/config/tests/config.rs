//! Resolution, typing and error reporting of configurations, data YAMLs and landmark schemes.

use fdfat_config::keys::key_docs;
use fdfat_config::{
    Config, ConfigError, ConfigLoader, DataConfig, DeviceSpec, LandmarkScheme, ModelKind, Origin,
    Split, fixtures::shared_path, load_file, resolve, resolve_flags,
};
use std::path::Path;

fn write(dir: &Path, name: &str, text: &str) -> std::path::PathBuf {
    let path = dir.join(name);
    std::fs::write(&path, text).unwrap();
    path
}

fn flags(pairs: &[(&str, &str)]) -> Vec<(String, String)> {
    pairs
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect()
}

#[test]
fn every_documented_key_is_a_typed_field_and_back() {
    let cfg = resolve(None, &[]).unwrap();
    let yaml: serde_yaml_ng::Mapping =
        serde_yaml_ng::from_str(&fdfat_config::to_yaml(&cfg)).unwrap();
    let fields: Vec<&str> = yaml.keys().map(|k| k.as_str().unwrap()).collect();
    let documented: Vec<&str> = key_docs().iter().map(|d| d.name.as_str()).collect();
    assert_eq!(fields, documented);
    for doc in key_docs() {
        assert!(!doc.comment.is_empty(), "key `{}` has no comment", doc.name);
    }
}

#[test]
fn defaults_match_the_original_fdfat() {
    let cfg = resolve(None, &[]).unwrap();
    assert_eq!(cfg.model, ModelKind::LwModel);
    assert_eq!(
        (cfg.imgsz, cfg.batch_size, cfg.epoch, cfg.seed, cfg.lmk_num),
        (96, 64, 250, 22, 70)
    );
    assert_eq!(
        (cfg.lr, cfg.lre_factor, cfg.aug, cfg.muliplier),
        (0.002, 0.1, 0.5, 1.0)
    );
    assert_eq!(
        (cfg.face_cls_weight, cfg.aux_pose_weight, cfg.w_jaw),
        (0.01, 0.01, 2.0)
    );
    assert_eq!(cfg.optimizer.as_str(), "NAdam");
    assert_eq!(cfg.loss.as_str(), "L1Loss");
    assert_eq!(cfg.activation.as_str(), "ReLU6");
    assert_eq!(cfg.export_format, "tflite");
    assert!(cfg.pre_norm && cfg.cache && cfg.save && !cfg.face_cls && !cfg.override_);
}

#[test]
fn original_configs_load_unchanged() {
    let Some(dir) = shared_path("data/reference_checkpoints") else {
        return;
    };
    let mut loaded = 0;
    for model in ["LWModel_ReLU6_affine_cls", "LWCSPModel_SiLU_affine_facecls"] {
        for file in ["config_landmark.yaml", "config_facecls.yaml"] {
            let cfg = load_file(&dir.join(model).join(file)).unwrap();
            assert_eq!(cfg.face_cls, file == "config_facecls.yaml");
            assert_eq!(cfg.freeze_landmark, file == "config_facecls.yaml");
            loaded += 1;
        }
    }
    assert_eq!(loaded, 4);
    let csp = load_file(&dir.join("LWCSPModel_SiLU_affine_facecls/config_landmark.yaml")).unwrap();
    assert_eq!(csp.model, ModelKind::LwCspModel);
    assert_eq!(csp.activation.as_str(), "SiLU");
    assert_eq!(csp.device, "0");
    assert_eq!(
        DeviceSpec::parse(&csp.device),
        Ok(DeviceSpec::Fallback("0".into()))
    );
}

#[test]
fn flags_override_the_file_which_overrides_defaults() {
    let dir = tempfile::tempdir().unwrap();
    let file = write(
        dir.path(),
        "c.yaml",
        "lr: 0.01\nbatch_size: 32\noverride: True\n",
    );
    let cfg = resolve(
        Some(&file),
        &flags(&[("lr", "0.05"), ("pose_buckets", "30,60,90")]),
    )
    .unwrap();
    assert_eq!(cfg.lr, 0.05);
    assert_eq!(cfg.batch_size, 32);
    assert!(cfg.override_);
    assert_eq!(cfg.pose_buckets, vec![30.0, 60.0, 90.0]);
    assert_eq!(cfg.epoch, 250);
}

#[test]
fn resolve_flags_equals_resolve_without_a_file() {
    let pairs = [
        ("lr", "0.05"),
        ("pose_buckets", "30,60,90"),
        ("face_cls", "true"),
    ];
    let cfg = resolve_flags(&pairs).unwrap();
    assert_eq!(cfg, resolve(None, &flags(&pairs)).unwrap());
    assert_eq!(cfg.lr, 0.05);
    assert_eq!(cfg.pose_buckets, vec![30.0, 60.0, 90.0]);
    assert!(cfg.face_cls);
    assert_eq!(resolve_flags(&[]).unwrap(), resolve(None, &[]).unwrap());
    let err = resolve_flags(&[("bach_size", "3")])
        .unwrap_err()
        .to_string();
    assert!(err.contains("did you mean `batch_size`?"), "{err}");
}

#[test]
fn multiplier_is_an_alias_of_the_original_spelling() {
    let cfg = resolve(None, &flags(&[("multiplier", "0.5")])).unwrap();
    assert_eq!(cfg.muliplier, 0.5);
    let dir = tempfile::tempdir().unwrap();
    let file = write(dir.path(), "c.yaml", "multiplier: 2.0\n");
    assert_eq!(load_file(&file).unwrap().muliplier, 2.0);
}

#[test]
fn unknown_key_names_the_closest_key_file_and_line() {
    let dir = tempfile::tempdir().unwrap();
    let file = write(dir.path(), "c.yaml", "# comment\nepoch: 3\nlrr: 0.1\n");
    let err = load_file(&file).unwrap_err();
    match &err {
        ConfigError::UnknownKey {
            key,
            suggestion,
            origin,
        } => {
            assert_eq!(key, "lrr");
            assert_eq!(suggestion.as_deref(), Some("lr"));
            assert_eq!(
                origin,
                &Origin::File {
                    path: file.clone(),
                    line: Some(3)
                }
            );
        }
        other => panic!("unexpected error {other:?}"),
    }
    let text = err.to_string();
    assert!(
        text.contains("did you mean `lr`?") && text.contains("c.yaml:3"),
        "{text}"
    );
    let flag_err = resolve(None, &flags(&[("bach_size", "3")]))
        .unwrap_err()
        .to_string();
    assert!(
        flag_err.contains("did you mean `batch_size`?"),
        "{flag_err}"
    );
}

#[test]
fn wrong_type_names_key_expected_type_file_and_line() {
    let dir = tempfile::tempdir().unwrap();
    let file = write(dir.path(), "c.yaml", "lr: 0.1\nbatch_size: many\n");
    let text = load_file(&file).unwrap_err().to_string();
    assert!(text.contains("`batch_size`"), "{text}");
    assert!(text.contains("c.yaml:2"), "{text}");
    assert!(
        text.contains("non-negative integer") && text.contains("\"many\""),
        "{text}"
    );

    let bad_enum = write(dir.path(), "e.yaml", "optimizer: Adamm\n");
    let text = load_file(&bad_enum).unwrap_err().to_string();
    assert!(
        text.contains("`optimizer`") && text.contains("NAdam") && text.contains("e.yaml:1"),
        "{text}"
    );

    let bool_err = resolve(None, &flags(&[("face_cls", "maybe")]))
        .unwrap_err()
        .to_string();
    assert!(
        bool_err.contains("`face_cls`") && bool_err.contains("command line"),
        "{bool_err}"
    );
}

#[test]
fn out_of_range_values_name_the_range() {
    let dir = tempfile::tempdir().unwrap();
    let file = write(dir.path(), "c.yaml", "aug: 1.5\n");
    let text = load_file(&file).unwrap_err().to_string();
    assert!(
        text.contains("`aug`") && text.contains("[0, 1]") && text.contains("c.yaml:1"),
        "{text}"
    );
    for (key, value) in [
        ("lr", "-1"),
        ("batch_size", "0"),
        ("pose_buckets", "40,30"),
        ("device", "tpu"),
    ] {
        let err = resolve(None, &flags(&[(key, value)]))
            .unwrap_err()
            .to_string();
        assert!(err.contains(&format!("`{key}`")), "{err}");
    }
}

#[test]
fn malformed_yaml_names_the_file() {
    let dir = tempfile::tempdir().unwrap();
    let file = write(dir.path(), "c.yaml", "lr: [0.1\n");
    let text = load_file(&file).unwrap_err().to_string();
    assert!(text.contains("c.yaml") && text.contains("line"), "{text}");
    let missing = load_file(&dir.path().join("nope.yaml"))
        .unwrap_err()
        .to_string();
    assert!(missing.contains("nope.yaml"), "{missing}");
}

#[test]
fn saved_config_loads_back_identical() {
    let dir = tempfile::tempdir().unwrap();
    let cfg = resolve(
        None,
        &flags(&[
            ("name", "2"),
            ("checkpoint", "w/best.pt"),
            ("device", "cuda:0,1"),
        ]),
    )
    .unwrap();
    assert_eq!(cfg.name, "2");
    let path = dir.path().join("config.yaml");
    fdfat_config::save_config(&cfg, &path).unwrap();
    let again: Config = load_file(&path).unwrap();
    assert_eq!(again, cfg);
}

#[test]
fn run_directories_are_numbered_unless_override() {
    let dir = tempfile::tempdir().unwrap();
    let project = dir.path().to_str().unwrap();
    let cfg = resolve(None, &flags(&[("project", project), ("name", "exp")])).unwrap();
    let first = fdfat_config::create_run_dir(&cfg).unwrap();
    let second = fdfat_config::create_run_dir(&cfg).unwrap();
    let third = fdfat_config::create_run_dir(&cfg).unwrap();
    assert_eq!(first, dir.path().join("exp"));
    assert_eq!(second, dir.path().join("exp2"));
    assert_eq!(third, dir.path().join("exp3"));
    assert_eq!(load_file(&second.join("config.yaml")).unwrap(), cfg);
    let over = resolve(
        None,
        &flags(&[("project", project), ("name", "exp"), ("override", "true")]),
    )
    .unwrap();
    assert_eq!(fdfat_config::create_run_dir(&over).unwrap(), first);
}

#[test]
fn data_yaml_resolves_splits_and_reports_missing_files() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::create_dir(dir.path().join("imgs")).unwrap();
    write(dir.path(), "val.txt", "000000.png");
    let yaml = write(
        dir.path(),
        "data.yaml",
        "base_path: .\ntrain: train.txt\nval: val.txt\nformat: 300w\n",
    );
    let data = DataConfig::load(&yaml).unwrap();
    assert_eq!(data.scheme(), "ibug68");
    assert_eq!(
        data.split_path(Split::Val).unwrap(),
        dir.path().join("./val.txt")
    );
    let missing = data.split_path(Split::Train).unwrap_err().to_string();
    assert!(missing.contains("train.txt"), "{missing}");
    let no_test = data.split_path(Split::Test).unwrap_err().to_string();
    assert!(no_test.contains("test"), "{no_test}");

    let typo = write(dir.path(), "typo.yaml", "base_path: .\nvall: val.txt\n");
    let text = DataConfig::load(&typo).unwrap_err().to_string();
    assert!(
        text.contains("did you mean `val`?") && text.contains("typo.yaml:2"),
        "{text}"
    );
    let absent = DataConfig::load(&dir.path().join("none.yaml"))
        .unwrap_err()
        .to_string();
    assert!(absent.contains("none.yaml"), "{absent}");
}

#[test]
fn builtin_schemes_hold_the_reference_facts() {
    let s70 = LandmarkScheme::load("facesynthetics70").unwrap();
    let s68 = LandmarkScheme::load("ibug68").unwrap();
    let s98 = LandmarkScheme::load("wflw98").unwrap();
    assert_eq!(
        (s70.num_points, s68.num_points, s98.num_points),
        (70, 68, 98)
    );
    assert_eq!(s70.eye_corners, [36, 45]);
    assert_eq!(s68.eye_corners, [36, 45]);
    assert_eq!(s98.eye_corners, [60, 72]);
    assert_eq!(
        s70.mapping_to("ibug68").unwrap(),
        (0..68).collect::<Vec<_>>().as_slice()
    );
    assert_eq!(s98.mapping_to("ibug68").unwrap().len(), 68);
    let perm70 = s70.flip_permutation();
    assert_eq!(
        (perm70[0], perm70[36], perm70[68], perm70[30], perm70[62]),
        (16, 45, 69, 30, 62)
    );
    let perm98 = s98.flip_permutation();
    assert_eq!(
        (perm98[0], perm98[16], perm98[60], perm98[96], perm98[54]),
        (32, 16, 72, 97, 54)
    );
    assert_eq!(
        s68.pupils,
        vec![(36..42).collect::<Vec<_>>(), (42..48).collect::<Vec<_>>()]
    );
    assert_eq!(s70.mean_shape_3d.as_ref().unwrap().len(), 70);
    let weights: Vec<_> = s70
        .parts
        .iter()
        .filter_map(|p| p.weight_key.clone())
        .collect();
    let cfg = resolve(None, &[]).unwrap();
    assert!(weights.iter().all(|k| cfg.part_weight(k).is_some()));
    assert_eq!(LandmarkScheme::for_points(98).unwrap().name, "wflw98");
}

#[test]
fn a_broken_scheme_file_is_rejected_with_its_name() {
    let dir = tempfile::tempdir().unwrap();
    let text = std::fs::read_to_string(
        Path::new(env!("CARGO_MANIFEST_DIR")).join("../../configs/landmarks/ibug68.yaml"),
    )
    .unwrap()
    .replace("eye_corners: [36, 45]", "eye_corners: [36, 68]");
    let path = write(dir.path(), "bad.yaml", &text);
    let err = LandmarkScheme::load(path.to_str().unwrap())
        .unwrap_err()
        .to_string();
    assert!(
        err.contains("bad.yaml") && err.contains("out of range"),
        "{err}"
    );
    let unknown = LandmarkScheme::load("ibug69").unwrap_err().to_string();
    assert!(unknown.contains("ibug68"), "{unknown}");
}

#[test]
fn device_values_parse_and_original_values_fall_back() {
    assert_eq!(DeviceSpec::parse("cpu"), Ok(DeviceSpec::Cpu));
    assert_eq!(DeviceSpec::parse("wgpu"), Ok(DeviceSpec::Wgpu));
    assert_eq!(DeviceSpec::parse("cuda:1"), Ok(DeviceSpec::Cuda(vec![1])));
    assert_eq!(
        DeviceSpec::parse("cuda:0,1"),
        Ok(DeviceSpec::Cuda(vec![0, 1]))
    );
    assert_eq!(DeviceSpec::parse("cuda:all"), Ok(DeviceSpec::CudaAll));
    assert_eq!(
        DeviceSpec::parse("mps"),
        Ok(DeviceSpec::Fallback("mps".into()))
    );
    assert!(DeviceSpec::parse("cuda:x").is_err());
}

#[test]
fn loader_remembers_origins() {
    let mut loader = ConfigLoader::new();
    loader.merge_flag("epoch", "5").unwrap();
    assert_eq!(loader.origin("epoch"), Origin::Flag);
    assert_eq!(loader.origin("lr"), Origin::Default);
    assert_eq!(loader.build().unwrap().epoch, 5);
}

#[test]
fn shipped_training_configs_load_and_mirror_the_published_stages() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../configs/train");
    for (file, model, face_cls) in [
        ("lwmodel_landmark.yaml", ModelKind::LwModel, false),
        ("lwmodel_facecls.yaml", ModelKind::LwModel, true),
        ("lwcsp_landmark.yaml", ModelKind::LwCspModel, false),
        ("lwcsp_facecls.yaml", ModelKind::LwCspModel, true),
    ] {
        let cfg = load_file(&dir.join(file)).unwrap();
        assert_eq!(
            (cfg.model, cfg.face_cls, cfg.freeze_landmark),
            (model, face_cls, face_cls),
            "{file}"
        );
        assert_eq!(cfg.checkpoint.is_some(), face_cls, "{file}");
        if face_cls {
            assert_eq!(cfg.face_cls_weight, 1e-5, "{file}");
        }
    }
}
