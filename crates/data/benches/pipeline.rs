//! Training-pipeline throughput (decode + crop + augment + normalise at 96 px) on the
//! FaceSynthetics samples of `../shared/data`, repeated to `FDFAT_BENCH_IMAGES` images (default
//! 320), or on the train split of the data YAML `FDFAT_BENCH_DATA`, with the thread counts of
//! `FDFAT_BENCH_THREADS` (default `1,2`), without and with the crop cache. Every sample goes through the
//! augmentation chain with the default per-augmentation probabilities (`aug: 1.0`), as the
//! original pipeline did, so the figures compare with `scripts/pipeline_reference.py`.
//! Run: `cargo bench -p fdfat-data --bench pipeline` (`-- --quick`: one epoch per setting;
//! `-- --stages`: also the cost of each stage).

use fdfat_config::{DataConfig, Split, resolve_flags};
use fdfat_data::{Dataset, Loader, LoaderMode};
use std::sync::Arc;
use std::time::Instant;

fn main() {
    let quick = std::env::args().any(|a| a == "--quick");
    let threads: Vec<usize> = std::env::var("FDFAT_BENCH_THREADS")
        .ok()
        .map(|v| v.split(',').filter_map(|t| t.trim().parse().ok()).collect())
        .filter(|t: &Vec<usize>| !t.is_empty())
        .unwrap_or_else(|| vec![1, 2]);
    let dir = tempfile::tempdir().expect("temporary folder");
    let (data, what) = match std::env::var("FDFAT_BENCH_DATA") {
        Ok(yaml) => (
            DataConfig::load(std::path::Path::new(&yaml)).expect("FDFAT_BENCH_DATA: a data YAML"),
            format!("the train split of {yaml}"),
        ),
        Err(_) => {
            let Some(samples) = fdfat_config::fixtures::shared_path("data/facesynthetics/samples")
            else {
                eprintln!("no FaceSynthetics samples: nothing to measure");
                return;
            };
            if std::env::args().any(|a| a == "--stages") {
                stages(&samples);
            }
            (
                shared_samples(&samples, dir.path()),
                "FaceSynthetics images (512x512 PNG)".into(),
            )
        }
    };
    println!("pipeline: {what} -> 96x96, batch 64, aug 1.0");
    println!(
        "{:<10} {:>7} {:>10} {:>12}",
        "crop cache", "threads", "images/s", "per thread"
    );
    for crop_cache in [false, true] {
        for &threads in &threads {
            let workers = threads.to_string();
            let cfg = resolve_flags(&[
                ("cache", "False"),
                ("aug", "1.0"),
                ("crop_cache", if crop_cache { "True" } else { "False" }),
                ("workers", &workers),
            ])
            .expect("config");
            let ds = Arc::new(Dataset::open(&data, Split::Train, &cfg).expect("dataset"));
            if crop_cache {
                let t = Instant::now();
                let cache = ds.crop_cache(cfg.imgsz, threads).expect("crop cache");
                println!(
                    "  (crop cache built in {:.2} s, {:.1} MB)",
                    t.elapsed().as_secs_f64(),
                    cache.size_bytes() as f64 / 1e6
                );
            }
            let epochs = if quick { 1 } else { 3 };
            let mut best = 0.0f64;
            for epoch in 0..epochs {
                let t = Instant::now();
                let mut n = 0;
                let mode = LoaderMode::Train { epoch, seed: 22 };
                for batch in Loader::new(ds.clone(), &cfg, mode, 64, threads).expect("loader") {
                    n += batch.expect("batch").len();
                }
                best = best.max(n as f64 / t.elapsed().as_secs_f64());
            }
            println!(
                "{:<10} {:>7} {:>10.0} {:>12.0}",
                if crop_cache { "on" } else { "off" },
                threads,
                best,
                best / threads as f64
            );
        }
    }
}

/// The ten shared FaceSynthetics samples repeated to `FDFAT_BENCH_IMAGES` images (default
/// 320) as a list in `dir`, and its data configuration.
fn shared_samples(samples: &std::path::Path, dir: &std::path::Path) -> DataConfig {
    let images: usize = std::env::var("FDFAT_BENCH_IMAGES")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(320);
    let list: String = (0..images)
        .map(|i| {
            format!(
                "{}\n",
                samples
                    .join(format!("{}.png", SAMPLES[i % SAMPLES.len()]))
                    .display()
            )
        })
        .collect();
    std::fs::write(dir.join("train.txt"), list).expect("list");
    std::fs::write(dir.join("data.yaml"), "base_path: .\ntrain: train.txt\n").expect("yaml");
    DataConfig::load(&dir.join("data.yaml")).expect("data yaml")
}

/// The shared FaceSynthetics samples the default measurement repeats.
const SAMPLES: [&str; 10] = [
    "000000", "000001", "000002", "000003", "000004", "000005", "000010", "000047", "000058",
    "000072",
];

/// Single-thread cost of the stages: decode, crop + resize, photometric augmentation.
fn stages(samples: &std::path::Path) {
    let names = SAMPLES;
    use fdfat_data::augment::{AugmentConfig, apply_photometric};
    use rand::SeedableRng;
    let paths: Vec<_> = names
        .iter()
        .map(|n| samples.join(format!("{n}.png")))
        .collect();
    let reps = 5;
    let t = Instant::now();
    let mut decoded = Vec::new();
    for _ in 0..reps {
        decoded = paths
            .iter()
            .map(|p| fdfat_data::read_rgb(p).expect("decode"))
            .collect();
    }
    let per = t.elapsed().as_secs_f64() * 1e3 / (reps * paths.len()) as f64;
    println!("stage decode PNG 512x512: {per:.2} ms/image");
    let crop = fdfat_data::CropBox {
        x0: 140,
        y0: 180,
        x1: 390,
        y1: 430,
    };
    let t = Instant::now();
    let mut rgb = Vec::new();
    for _ in 0..reps {
        for img in &decoded {
            rgb = fdfat_data::crop_resize_rgb(img, &crop, 96);
        }
    }
    let per = t.elapsed().as_secs_f64() * 1e3 / (reps * decoded.len()) as f64;
    println!("stage crop + resize to 96: {per:.3} ms/image");
    let cfg = resolve_flags(&[]).expect("config");
    let p = AugmentConfig {
        enabled: true,
        ..AugmentConfig::from_config(&cfg)
    };
    let mut rng = rand::rngs::StdRng::seed_from_u64(1);
    let n = 400;
    let t = Instant::now();
    for _ in 0..n {
        let mut img = rgb.clone();
        apply_photometric(&mut img, 96, &p, &mut rng).expect("augment");
    }
    let per = t.elapsed().as_secs_f64() * 1e3 / n as f64;
    println!("stage photometric augmentation (default probabilities): {per:.3} ms/image");
    for (name, q) in [
        (
            "jpeg",
            AugmentConfig {
                jpeg: 1.0,
                ..AugmentConfig::none()
            },
        ),
        (
            "noise",
            AugmentConfig {
                noise: 1.0,
                ..AugmentConfig::none()
            },
        ),
        (
            "blur",
            AugmentConfig {
                blur: 1.0,
                ..AugmentConfig::none()
            },
        ),
        (
            "color",
            AugmentConfig {
                color: 1.0,
                ..AugmentConfig::none()
            },
        ),
    ] {
        let t = Instant::now();
        for _ in 0..n {
            let mut img = rgb.clone();
            apply_photometric(&mut img, 96, &q, &mut rng).expect("augment");
        }
        println!(
            "  {name}: {:.3} ms",
            t.elapsed().as_secs_f64() * 1e3 / n as f64
        );
    }
}
