//! The evaluation crop reproduces the reference inputs (`reference/parity/inputs.npy` rows 0-3,
//! made with numpy + cv2.resize INTER_LINEAR) and crop boxes (`nme_shared_samples.json`).

use fdfat_config::fixtures::shared_path;
use fdfat_data::{CropBox, EVAL_SCALE, eval_crop, read_rgb};
use std::path::Path;

/// A minimal reader of little-endian float32 `.npy` files: (shape, values).
fn read_npy_f32(path: &Path) -> (Vec<usize>, Vec<f32>) {
    let bytes = std::fs::read(path).unwrap();
    assert_eq!(&bytes[..6], b"\x93NUMPY", "not an npy file");
    let (header_len, start) = match bytes[6] {
        1 => (u16::from_le_bytes([bytes[8], bytes[9]]) as usize, 10),
        _ => (
            u32::from_le_bytes(bytes[8..12].try_into().unwrap()) as usize,
            12,
        ),
    };
    let header = std::str::from_utf8(&bytes[start..start + header_len]).unwrap();
    assert!(header.contains("'descr': '<f4'") && header.contains("'fortran_order': False"));
    let shape_text = header
        .split("'shape': (")
        .nth(1)
        .unwrap()
        .split(')')
        .next()
        .unwrap();
    let shape: Vec<usize> = shape_text
        .split(',')
        .filter(|s| !s.trim().is_empty())
        .map(|s| s.trim().parse().unwrap())
        .collect();
    let values = bytes[start + header_len..]
        .chunks_exact(4)
        .map(|c| f32::from_le_bytes(c.try_into().unwrap()))
        .collect();
    (shape, values)
}

fn landmarks(path: &Path) -> Vec<[f32; 2]> {
    std::fs::read_to_string(path)
        .unwrap()
        .lines()
        .filter(|l| !l.trim().is_empty())
        .map(|l| {
            let mut it = l.split_whitespace().map(|v| v.parse::<f32>().unwrap());
            [it.next().unwrap(), it.next().unwrap()]
        })
        .collect()
}

#[test]
fn eval_crop_matches_the_reference_inputs() {
    let (Some(samples), Some(parity)) = (
        shared_path("data/facesynthetics/samples"),
        shared_path("reference/parity/inputs.npy"),
    ) else {
        return;
    };
    let (shape, reference) = read_npy_f32(&parity);
    assert_eq!(shape, vec![6, 3, 96, 96]);
    let per = 3 * 96 * 96;
    let mut total_off = 0usize;
    for row in 0..4 {
        let id = format!("{row:06}");
        let image = read_rgb(&samples.join(format!("{id}.png"))).unwrap();
        let lmk = landmarks(&samples.join(format!("{id}_ldmks.txt")));
        let input = eval_crop(&image, &lmk, 96, true).unwrap();
        let want = &reference[row * per..(row + 1) * per];
        let mut off_by_one = 0;
        for (k, (a, b)) in input.pixels.iter().zip(want).enumerate() {
            let levels = ((a - b) * 127.5).abs();
            assert!(levels < 1.01, "row {row} value {k}: {a} vs {b}");
            if levels > 0.01 {
                off_by_one += 1;
            }
        }
        total_off += off_by_one;
        eprintln!(
            "row {row}: crop {:?}, {off_by_one} of {per} values differ by one level",
            input.crop
        );
    }
    // cv2's fixed-point arithmetic is reproduced bit for bit.
    assert_eq!(total_off, 0, "{total_off} values differ by one level");
}

#[test]
fn eval_crop_boxes_match_the_reference_json() {
    let (Some(data), Some(json)) = (
        shared_path("data"),
        shared_path("reference/nme_shared_samples.json"),
    ) else {
        return;
    };
    let doc: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(json).unwrap()).unwrap();
    let mut checked = 0;
    for model in doc["models"].as_object().unwrap().values() {
        for s in model["samples"].as_array().unwrap() {
            if s["kind"] != "facesynthetics" {
                continue;
            }
            let image = data.join(s["image"].as_str().unwrap());
            let ldmks = image.with_file_name(format!(
                "{}_ldmks.txt",
                image.file_stem().unwrap().to_string_lossy()
            ));
            let (w, h) = image::image_dimensions(&image).unwrap();
            let b = CropBox::around_landmarks(&landmarks(&ldmks), EVAL_SCALE, [w, h]).unwrap();
            let want: Vec<i32> = s["crop_box"]
                .as_array()
                .unwrap()
                .iter()
                .map(|v| v.as_i64().unwrap() as i32)
                .collect();
            assert_eq!(b.to_array().to_vec(), want, "{}", image.display());
            checked += 1;
        }
    }
    assert!(checked >= 4, "only {checked} samples checked");
}
