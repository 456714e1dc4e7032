//! Benchmark (not a test) of predict and track on the CPU at 640x480 with one face (the 300-VW
//! frame 001/000006 cropped to 4:3 around the face and resized), with the shared RFB-320
//! detector and the published LWModel (ONNX in tract, `best.pt` in burn):
//!
//! - predict: detector + landmarks + head pose per image, as median milliseconds and FPS;
//! - track: 300 frames at 30 FPS of input (the detector at 2 per second, the landmark model in
//!   the predicted box in between), the frame moved by a few pixels each frame;
//! - the stages alone.
//!
//! `cargo bench -p fdfat-track --bench track` (`-- --quick` for fewer repetitions); the
//! fixtures come from `../shared` or `$FDFAT_SHARED`.

use fdfat_config::fixtures::shared_path;
use fdfat_track::{
    FaceBox, FaceDetector, FaceTracker, LandmarkPredictor, PoseEstimator, Predictor, SortParams,
    TrackerParams,
};
use image::RgbImage;
use std::path::Path;
use std::time::{Duration, Instant};

/// Median of `runs` timings of `f`, after `warmup` untimed calls.
fn median(warmup: usize, runs: usize, mut f: impl FnMut()) -> Duration {
    for _ in 0..warmup {
        f();
    }
    let mut times: Vec<Duration> = (0..runs)
        .map(|_| {
            let start = Instant::now();
            f();
            start.elapsed()
        })
        .collect();
    times.sort();
    times[times.len() / 2]
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1e3
}

/// The 640x480 benchmark frame and the face's landmark extent in it.
fn frame(dir: &Path) -> (RgbImage, FaceBox) {
    let image = fdfat_data::read_rgb(&dir.join("imgs/000006.jpg")).expect("300-VW frame");
    let text = std::fs::read_to_string(dir.join("annot/000006.pts")).expect("annotation");
    let points: Vec<[f32; 2]> = text
        .split('{')
        .nth(1)
        .and_then(|b| b.split('}').next())
        .unwrap_or_default()
        .lines()
        .filter_map(|l| {
            let mut it = l.split_whitespace().filter_map(|v| v.parse::<f32>().ok());
            Some([it.next()?, it.next()?])
        })
        .collect();
    let face = FaceBox::around_points(&points, 1.0).expect("68 points");
    // a 4:3 window of the full height, centred on the face where the image allows
    let (w, h) = (image.height() * 4 / 3, image.height());
    let x0 =
        (face.center()[0] as i64 - i64::from(w) / 2).clamp(0, i64::from(image.width() - w)) as u32;
    let window = image::imageops::crop_imm(&image, x0, 0, w, h).to_image();
    let out = image::imageops::resize(&window, 640, 480, image::imageops::FilterType::Triangle);
    let s = 640.0 / w as f32;
    let face = FaceBox::new(
        (face.x0 - x0 as f32) * s,
        face.y0 * s,
        (face.x1 - x0 as f32) * s,
        face.y1 * s,
    );
    (out, face)
}

/// `image` moved right by `dx` pixels, edges repeated.
fn shifted(image: &RgbImage, dx: u32) -> RgbImage {
    RgbImage::from_fn(image.width(), image.height(), |x, y| {
        *image.get_pixel(x.saturating_sub(dx), y)
    })
}

fn main() {
    let quick = std::env::args().any(|a| a == "--quick");
    let runs = if quick { 20 } else { 100 };
    let (Some(vw), Some(rfb), Some(onnx), Some(pt)) = (
        shared_path("data/300vw/001"),
        shared_path("data/face_detector/version-RFB-320.onnx"),
        shared_path("data/reference_checkpoints/LWModel_ReLU6_affine_cls/model.onnx"),
        shared_path("data/reference_checkpoints/LWModel_ReLU6_affine_cls/best.pt"),
    ) else {
        return;
    };
    let (image, face) = frame(&vw);
    let cfg = fdfat_config::resolve(None, &[]).expect("defaults");
    let (device, _) = fdfat_models::device_for(&fdfat_config::DeviceSpec::Cpu);
    let detector =
        || FaceDetector::load(&rfb, cfg.track_detector_threshold as f32).expect("detector");
    let onnx_model = || LandmarkPredictor::load(&cfg, &onnx, &device).expect("ONNX model");
    let pt_model = || LandmarkPredictor::load(&cfg, &pt, &device).expect("best.pt");
    println!(
        "640x480 frame, one face of {:.0} px; {} threads available",
        face.width(),
        std::thread::available_parallelism().map_or(1, |n| n.get())
    );

    let det = detector();
    let found = det.detect(&image).expect("detection");
    assert_eq!(found.len(), 1, "the benchmark frame has one face");
    let t = median(5, runs, || {
        std::hint::black_box(det.detect(&image).expect("detection"));
    });
    println!("detector RFB-320 (tract, 1 thread):  {:7.2} ms", ms(t));
    let region = face.landmark_crop(0.0, 1.5);
    for (name, model) in [
        ("landmarks LWModel ONNX (tract)", onnx_model()),
        ("landmarks LWModel best.pt (burn)", pt_model()),
    ] {
        let t = median(5, runs, || {
            std::hint::black_box(model.predict(&image, &region).expect("landmarks"));
        });
        println!("{name:36} {:7.2} ms", ms(t));
    }
    let pose = PoseEstimator::for_points(70).expect("pose");
    let points = onnx_model()
        .predict(&image, &region)
        .expect("landmarks")
        .expect("inside")
        .points;
    let t = median(5, runs, || {
        std::hint::black_box(pose.solve(&points, 640, 480));
    });
    println!("head pose (PnP, 68 points):          {:7.2} ms", ms(t));

    for (name, model) in [("ONNX", onnx_model()), ("best.pt", pt_model())] {
        let predictor = Predictor::new(Some(detector()), model);
        let t = median(3, runs, || {
            std::hint::black_box(predictor.predict(&image).expect("predict"));
        });
        println!(
            "predict ({name:7}): {:7.2} ms per image, {:6.1} FPS",
            ms(t),
            1e3 / ms(t)
        );
    }

    let frames: Vec<RgbImage> = (0..30).map(|k| shifted(&image, (k % 10) * 2)).collect();
    let total = if quick { 90 } else { 300 };
    for (name, model) in [("ONNX", onnx_model()), ("best.pt", pt_model())] {
        let params = TrackerParams {
            detector_fps: cfg.track_detector_fps,
            face_threshold: cfg.track_face_threshold as f32,
            sort: SortParams::default(),
        };
        let mut tracker = FaceTracker::new(detector(), model, params);
        let start = Instant::now();
        let mut reported = 0;
        for k in 0..total {
            let out = tracker
                .process(&frames[k % frames.len()], k as f64 / 30.0)
                .expect("track");
            reported += out.faces.len();
        }
        let elapsed = start.elapsed();
        println!(
            "track   ({name:7}): {:7.2} ms per frame, {:6.1} FPS ({total} frames, {reported} faces reported)",
            ms(elapsed) / total as f64,
            total as f64 / elapsed.as_secs_f64()
        );
    }
}
