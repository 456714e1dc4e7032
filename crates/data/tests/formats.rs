//! Each loader parses the real fixtures of `../shared/data`, and bad input gives errors naming
//! the file and line (or is skipped and reported with `skip_bad`).

mod common;

use common::{config, data_yaml, read_ldmks};
use fdfat_config::Split;
use fdfat_config::fixtures::shared_path;
use fdfat_data::{CropBox, DataError, Dataset, EVAL_SCALE};

#[test]
fn facesynthetics_list_with_crlf_missing_newline_and_a_non_face() {
    let Some(samples) = shared_path("data/facesynthetics/samples") else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("train.txt"),
        "000001.png\r\n000000_seg.png\r\n\r\n000047.png",
    )
    .unwrap();
    let data = data_yaml(
        dir.path(),
        &format!(
            "base_path: {}\ntrain: {}\n",
            samples.display(),
            dir.path().join("train.txt").display()
        ),
    );
    let ds = Dataset::open(&data, Split::Train, &config(&[("cache", "False")])).unwrap();
    assert_eq!(ds.len(), 3);
    let s = &ds.samples()[0];
    assert!(s.is_face);
    assert_eq!(s.landmarks, read_ldmks(&samples.join("000001_ldmks.txt")));
    assert_eq!(s.image_size, [512, 512]);
    assert!(
        !ds.samples()[1].is_face,
        "an image without _ldmks.txt is a non-face"
    );
    assert!(ds.samples()[1].landmarks.is_empty());
    assert!(ds.samples()[2].image.ends_with("000047.png"));
}

#[test]
fn facesynthetics_folder_split_takes_every_annotated_image() {
    let Some(samples) = shared_path("data/facesynthetics/samples") else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let data = data_yaml(
        dir.path(),
        &format!("base_path: {}\nval: .\n", samples.display()),
    );
    let ds = Dataset::open(&data, Split::Val, &config(&[("cache", "False")])).unwrap();
    // 10 samples; the _seg.png masks have no _ldmks.txt and are not samples of a folder split.
    assert_eq!(ds.len(), 10);
    let names: Vec<String> = ds
        .samples()
        .iter()
        .map(|s| s.image.file_name().unwrap().to_string_lossy().into_owned())
        .collect();
    assert_eq!(names[0], "000000.png");
    assert_eq!(names[9], "000072.png");
    assert!(
        ds.samples()
            .iter()
            .all(|s| s.is_face && s.landmarks.len() == 70)
    );
}

#[test]
fn the_real_val_list_reports_its_missing_images() {
    let (Some(samples), Some(lists)) = (
        shared_path("data/facesynthetics/samples"),
        shared_path("data/facesynthetics/lists"),
    ) else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let data = data_yaml(
        dir.path(),
        &format!(
            "base_path: {}\nval: {}\n",
            samples.display(),
            lists.join("val.txt").display()
        ),
    );
    // Without skip_bad: the first missing image is an error naming the list and line.
    let err = Dataset::open(&data, Split::Val, &config(&[("cache", "False")])).unwrap_err();
    let msg = err.to_string();
    assert!(
        msg.contains("val.txt:1:") && msg.contains("does not exist"),
        "{msg}"
    );
    // With skip_bad: the two present samples (000005, 000010) load, 9,998 are reported.
    let ds = Dataset::open(
        &data,
        Split::Val,
        &config(&[("cache", "False"), ("skip_bad", "True")]),
    )
    .unwrap();
    assert_eq!(ds.len(), 2);
    assert_eq!(ds.skipped().len(), 9998);
    assert!(ds.skipped()[0].reason.contains("val.txt:1:"));
}

#[test]
fn ibug_300w_pts_variants_are_one_based_and_match_the_reference_boxes() {
    let (Some(root), Some(json)) = (
        shared_path("data/300w"),
        shared_path("reference/nme_shared_samples.json"),
    ) else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let data = data_yaml(
        dir.path(),
        &format!("base_path: {}\ntest: .\nformat: 300w\n", root.display()),
    );
    let ds = Dataset::open(&data, Split::Test, &config(&[("cache", "False")])).unwrap();
    assert_eq!(ds.len(), 33);
    assert_eq!(ds.scheme().name, "ibug68");
    let einstein = ds
        .samples()
        .iter()
        .find(|s| s.image.ends_with("einstein.jpg"))
        .unwrap();
    assert_eq!(einstein.landmarks.len(), 68);
    assert!((einstein.landmarks[0][0] - (357.417_25 - 1.0)).abs() < 1e-3);
    assert!((einstein.landmarks[67][1] - (350.577_85 - 1.0)).abs() < 1e-3);
    let doc: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(json).unwrap()).unwrap();
    let mut checked = 0;
    for s in doc["models"]["LWModel_ReLU6_affine_cls"]["samples"]
        .as_array()
        .unwrap()
    {
        if s["kind"] != "300w" {
            continue;
        }
        let image = s["image"].as_str().unwrap().trim_start_matches("300w/");
        let sample = ds
            .samples()
            .iter()
            .find(|x| x.image.ends_with(image))
            .unwrap();
        let b =
            CropBox::around_landmarks(&sample.landmarks, EVAL_SCALE, sample.image_size).unwrap();
        let want: Vec<i64> = s["crop_box"]
            .as_array()
            .unwrap()
            .iter()
            .map(|v| v.as_i64().unwrap())
            .collect();
        let got: Vec<i64> = b.to_array().iter().map(|&v| i64::from(v)).collect();
        assert_eq!(got, want, "{image}");
        checked += 1;
    }
    assert_eq!(checked, 33);
}

#[test]
fn ibug_300vw_frames_with_crlf_and_version_1_0() {
    let Some(root) = shared_path("data/300vw") else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let data = data_yaml(
        dir.path(),
        &format!("base_path: {}\ntrain: .\nformat: 300vw\n", root.display()),
    );
    let ds = Dataset::open(&data, Split::Train, &config(&[("cache", "False")])).unwrap();
    assert_eq!(ds.len(), 4);
    let s = &ds.samples()[3];
    assert!(
        s.image.ends_with("401/imgs/000732.jpg"),
        "{}",
        s.image.display()
    );
    assert_eq!(s.image_size, [700, 512]);
    assert!(
        ds.samples()[2]
            .annotation
            .as_ref()
            .unwrap()
            .ends_with("401/annot/000731.pts")
    );
    assert!((ds.samples()[2].landmarks[0][0] - (354.326_8 - 1.0)).abs() < 1e-3);
    // A list naming frames finds their .pts in the sibling annot/ folder.
    std::fs::write(dir.path().join("frames.txt"), "001/imgs/000009.jpg\n").unwrap();
    let data = data_yaml(
        dir.path(),
        &format!(
            "base_path: {}\ntrain: {}\nformat: 300vw\n",
            root.display(),
            dir.path().join("frames.txt").display()
        ),
    );
    let ds = Dataset::open(&data, Split::Train, &config(&[("cache", "False")])).unwrap();
    assert!(
        ds.samples()[0]
            .annotation
            .as_ref()
            .unwrap()
            .ends_with("001/annot/000009.pts")
    );
}

#[test]
fn wflw_207_and_197_field_lines_keep_rect_and_attributes() {
    let (Some(images), Some(lists)) = (
        shared_path("data/wflw/mmpose_sample"),
        shared_path("data/wflw/WFLW_annotations/list_98pt_test"),
    ) else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    // Synthetic 207-field lines from the mmpose sample's COCO keypoints (the real 207-field
    // lists are not among the fixtures).
    let doc: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(images.join("test_wflw.json")).unwrap())
            .unwrap();
    let mut lines = String::new();
    for (k, a) in doc["annotations"].as_array().unwrap().iter().enumerate() {
        let kp: Vec<f64> = a["keypoints"]
            .as_array()
            .unwrap()
            .iter()
            .map(|v| v.as_f64().unwrap())
            .collect();
        let file = doc["images"]
            .as_array()
            .unwrap()
            .iter()
            .find(|i| i["id"] == a["image_id"])
            .unwrap()["file_name"]
            .as_str()
            .unwrap();
        let pts: Vec<String> = kp
            .chunks(3)
            .flat_map(|c| [c[0].to_string(), c[1].to_string()])
            .collect();
        let bb: Vec<f64> = a["bbox"]
            .as_array()
            .unwrap()
            .iter()
            .map(|v| v.as_f64().unwrap())
            .collect();
        let attrs = if k == 1 { "1 0 0 1 0 1" } else { "0 0 0 0 0 0" };
        lines += &format!(
            "{} {} {} {} {} {attrs} {file}\n",
            pts.join(" "),
            bb[0],
            bb[1],
            bb[0] + bb[2],
            bb[1] + bb[3]
        );
    }
    std::fs::write(dir.path().join("list_98pt_rect_attr_test.txt"), &lines).unwrap();
    // Real 197-field lines (make-up subset) pointed at an available image.
    let makeup = std::fs::read_to_string(lists.join("list_98pt_test_makeup.txt")).unwrap();
    let subset: String = makeup
        .lines()
        .take(2)
        .map(|l| {
            let mut f: Vec<&str> = l.split_whitespace().collect();
            f.pop();
            format!("{} 7_Cheering_Cheering_7_16.jpg\n", f.join(" "))
        })
        .collect();
    std::fs::write(dir.path().join("list_98pt_test_makeup.txt"), &subset).unwrap();
    let data = data_yaml(
        dir.path(),
        &format!(
            "base_path: {}\ntrain: {}\ntest: {}\nformat: wflw\n",
            images.display(),
            dir.path().join("list_98pt_rect_attr_test.txt").display(),
            dir.path().join("list_98pt_test_makeup.txt").display()
        ),
    );
    let cfg = config(&[("cache", "False")]);
    let full = Dataset::open(&data, Split::Train, &cfg).unwrap();
    assert_eq!(full.len(), 4);
    assert_eq!(full.scheme().num_points, 98);
    let s = &full.samples()[1];
    let a = s.attributes.unwrap();
    assert_eq!(
        (a.pose, a.makeup, a.blur, a.occlusion),
        (Some(true), Some(true), Some(true), Some(false))
    );
    assert!(s.face_rect.is_some());
    assert_eq!(s.image_size, [1024, 1024]);
    let sub = Dataset::open(&data, Split::Test, &cfg).unwrap();
    assert_eq!(sub.len(), 2);
    let a = sub.samples()[0].attributes.unwrap();
    assert_eq!((a.makeup, a.pose), (Some(true), None));
    assert!(sub.samples()[0].face_rect.is_none());
    let first: Vec<f32> = makeup
        .split_whitespace()
        .take(2)
        .map(|v| v.parse().unwrap())
        .collect();
    assert_eq!(sub.samples()[0].landmarks[0], [first[0], first[1]]);
}

#[test]
fn wflw_subset_list_without_images_is_reported_when_skipping() {
    let Some(lists) = shared_path("data/wflw/WFLW_annotations/list_98pt_test") else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let data = data_yaml(
        dir.path(),
        &format!(
            "base_path: {}\ntest: list_98pt_test_largepose.txt\nformat: wflw\n",
            lists.display()
        ),
    );
    let err = Dataset::open(
        &data,
        Split::Test,
        &config(&[("cache", "False"), ("skip_bad", "True")]),
    )
    .unwrap_err();
    assert!(matches!(err, DataError::EmptySplit { .. }), "{err}");
    assert!(
        err.to_string().contains("all 326 entries were skipped"),
        "{err}"
    );
}

fn bad_case(ldmks: &str) -> String {
    let dir = tempfile::tempdir().unwrap();
    image::RgbImage::new(8, 8)
        .save(dir.path().join("a.png"))
        .unwrap();
    std::fs::write(dir.path().join("a_ldmks.txt"), ldmks).unwrap();
    std::fs::write(dir.path().join("list.txt"), "a.png\n").unwrap();
    let data = data_yaml(dir.path(), "base_path: .\ntrain: list.txt\n");
    Dataset::open(&data, Split::Train, &config(&[("cache", "False")]))
        .unwrap_err()
        .to_string()
}

#[test]
fn malformed_annotations_name_file_and_line() {
    let ok_line = "1.0 2.0\n";
    let msg = bad_case(&ok_line.repeat(69));
    assert!(
        msg.contains("a_ldmks.txt") && msg.contains("69 points") && msg.contains("expects 70"),
        "{msg}"
    );
    let msg = bad_case(&(ok_line.repeat(3) + "1.0 abc\n" + &ok_line.repeat(66)));
    assert!(
        msg.contains("a_ldmks.txt:4:") && msg.contains("`abc` is not a number"),
        "{msg}"
    );
    let msg = bad_case(&(ok_line.repeat(9) + "NaN 2\n" + &ok_line.repeat(60)));
    assert!(
        msg.contains("a_ldmks.txt:10:") && msg.contains("not a finite number"),
        "{msg}"
    );
    let msg = bad_case(&(ok_line.repeat(5) + "1 2 3\n" + &ok_line.repeat(64)));
    assert!(
        msg.contains("a_ldmks.txt:6:") && msg.contains("two numbers"),
        "{msg}"
    );
}

#[test]
fn malformed_pts_name_file_and_line() {
    let dir = tempfile::tempdir().unwrap();
    image::RgbImage::new(8, 8)
        .save(dir.path().join("f.png"))
        .unwrap();
    let body: String = (0..68).map(|i| format!("{i}.5 3\n")).collect();
    let cases = [
        (
            format!("version: 1\nn_points: 68\n{{\n{body}"),
            "no closing `}`",
        ),
        (
            format!("version: 1\nn_points: 67\n{{\n{body}}}"),
            "declares n_points: 67",
        ),
        (
            format!("version: one\nn_points: 68\n{{\n{body}}}"),
            "f.pts:1:",
        ),
        (
            format!("hello\n{{\n{body}}}"),
            "f.pts:1: expected a `version:`",
        ),
    ];
    for (text, want) in cases {
        std::fs::write(dir.path().join("f.pts"), text).unwrap();
        let data = data_yaml(dir.path(), "base_path: .\ntrain: .\nformat: 300w\n");
        let msg = Dataset::open(&data, Split::Train, &config(&[("cache", "False")]))
            .unwrap_err()
            .to_string();
        assert!(msg.contains(want), "{msg} lacks {want}");
    }
}

#[test]
fn missing_base_path_empty_list_and_missing_image() {
    let dir = tempfile::tempdir().unwrap();
    let cfg = config(&[("cache", "False")]);
    let data = data_yaml(dir.path(), "base_path: nowhere\ntrain: list.txt\n");
    let msg = Dataset::open(&data, Split::Train, &cfg)
        .unwrap_err()
        .to_string();
    assert!(
        msg.contains("base_path") && msg.contains("nowhere"),
        "{msg}"
    );

    std::fs::write(dir.path().join("list.txt"), "\n\n").unwrap();
    let data = data_yaml(dir.path(), "base_path: .\ntrain: list.txt\n");
    let err = Dataset::open(&data, Split::Train, &cfg).unwrap_err();
    assert!(
        matches!(err, DataError::EmptySplit { .. }) && err.to_string().contains("list.txt"),
        "{err}"
    );

    std::fs::write(dir.path().join("list.txt"), "gone.png\n").unwrap();
    let msg = Dataset::open(&data, Split::Train, &cfg)
        .unwrap_err()
        .to_string();
    assert!(
        msg.contains("list.txt:1:") && msg.contains("gone.png"),
        "{msg}"
    );

    let msg = Dataset::open(&data, Split::Val, &cfg)
        .unwrap_err()
        .to_string();
    assert!(msg.contains("`val`"), "{msg}");
}

#[test]
fn corrupt_image_is_an_error_or_skipped() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("a.png"), b"not a png at all").unwrap();
    std::fs::write(dir.path().join("a_ldmks.txt"), "1 2\n".repeat(70)).unwrap();
    std::fs::write(dir.path().join("list.txt"), "a.png\n").unwrap();
    let data = data_yaml(dir.path(), "base_path: .\ntrain: list.txt\n");
    let msg = Dataset::open(&data, Split::Train, &config(&[("cache", "False")]))
        .unwrap_err()
        .to_string();
    assert!(msg.contains("a.png"), "{msg}");
}

#[test]
fn annotation_cache_is_used_and_invalidated_when_the_list_changes() {
    let dir = tempfile::tempdir().unwrap();
    for name in ["a", "b"] {
        image::RgbImage::new(8, 8)
            .save(dir.path().join(format!("{name}.png")))
            .unwrap();
        std::fs::write(
            dir.path().join(format!("{name}_ldmks.txt")),
            "1 2\n".repeat(70),
        )
        .unwrap();
    }
    std::fs::write(dir.path().join("list.txt"), "a.png\n").unwrap();
    let data = data_yaml(dir.path(), "base_path: .\ntrain: list.txt\n");
    let cfg = config(&[]);
    let first = Dataset::open(&data, Split::Train, &cfg).unwrap();
    assert!(dir.path().join("list.txt.fdfat.cache").is_file());
    // Annotations edited behind the cache's back: the cached values are used.
    std::fs::write(dir.path().join("a_ldmks.txt"), "5 6\n".repeat(70)).unwrap();
    let cached = Dataset::open(&data, Split::Train, &cfg).unwrap();
    assert_eq!(cached.samples(), first.samples());
    // The list changes: the cache is rebuilt.
    std::fs::write(dir.path().join("list.txt"), "a.png\nb.png\n").unwrap();
    let fresh = Dataset::open(&data, Split::Train, &cfg).unwrap();
    assert_eq!(fresh.len(), 2);
    assert_eq!(fresh.samples()[0].landmarks[0], [5.0, 6.0]);
}

#[test]
fn example_data_yamls_parse() {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../datasets");
    let mut n = 0;
    for entry in std::fs::read_dir(&dir).unwrap() {
        let path = entry.unwrap().path();
        if path.extension().is_some_and(|e| e == "yaml") {
            let data = fdfat_config::DataConfig::load(&path).unwrap();
            assert!(
                data.train.is_some() && data.val.is_some(),
                "{}",
                path.display()
            );
            n += 1;
        }
    }
    assert_eq!(n, 5);
}
