//! `--task predict`: landmarks, face score and head pose for every face of an image or of each
//! image of a folder (`input`). Faces come from the detector (`track_detector`); without one
//! each image is taken as one face crop, as the original's predictor does. Writes, per image,
//! `<stem>.json` and the rendered `<stem>.jpg` into the run directory.

use anyhow::{Context, anyhow, bail};
use fdfat_config::Config;
use fdfat_track::{FaceDetector, FaceDrawing, ImageRecord, LandmarkPredictor, Predictor, Renderer};
use std::path::{Path, PathBuf};
use std::time::Instant;

/// Runs the predict task.
pub fn run(cfg: &Config) -> anyhow::Result<()> {
    let input = cfg.input.as_deref().map(PathBuf::from).ok_or_else(|| {
        anyhow!("`input` must be set for --task predict (an image or a folder of images)")
    })?;
    let images = if input.is_dir() {
        let files = fdfat_track::image_files(&input)?;
        if files.is_empty() {
            bail!(
                "input `{}` holds no images (jpg, jpeg, png, bmp)",
                input.display()
            );
        }
        files
    } else if input.is_file() {
        vec![input.clone()]
    } else {
        bail!("input `{}` does not exist", input.display());
    };
    let landmarks = landmark_model(cfg)?;
    let detector = detector(cfg)?;
    if detector.is_none() {
        println!("no `track_detector`: each input image is taken as one face crop");
    }
    let renderer = Renderer::for_points(landmarks.points());
    let predictor = Predictor::new(detector, landmarks);
    let run_dir = fdfat_config::create_run_dir(cfg).context("cannot create the run directory")?;
    for path in &images {
        let image = fdfat_data::read_rgb(path)?;
        let start = Instant::now();
        let faces = predictor
            .predict(&image)
            .with_context(|| format!("predicting `{}`", path.display()))?;
        let elapsed = start.elapsed();
        let mut rendered = image.clone();
        for (k, face) in faces.iter().enumerate() {
            renderer.draw(
                &mut rendered,
                &FaceDrawing {
                    bbox: face.bbox(),
                    points: &face.landmarks.points,
                    pose: face.pose.as_ref(),
                    color: fdfat_track::track_color(k as u64),
                },
            );
        }
        let record = ImageRecord {
            image: path.display().to_string(),
            width: image.width(),
            height: image.height(),
            faces: faces.iter().map(|f| f.record()).collect(),
        };
        let stem = path
            .file_stem()
            .map_or_else(|| "image".into(), |s| s.to_string_lossy().into_owned());
        let json = run_dir.join(format!("{stem}.json"));
        let text = serde_json::to_string(&record)? + "\n";
        fdfat_config::write_atomic(&json, text.as_bytes())
            .with_context(|| format!("cannot write `{}`", json.display()))?;
        let picture = run_dir.join(format!("{stem}.jpg"));
        rendered
            .save(&picture)
            .with_context(|| format!("cannot write `{}`", picture.display()))?;
        println!(
            "{}: {} face(s) in {:.1} ms",
            path.display(),
            faces.len(),
            elapsed.as_secs_f64() * 1e3
        );
    }
    println!("results: {}", run_dir.display());
    Ok(())
}

/// The landmark model of `track_landmark` (else `checkpoint`) on the configured device.
pub fn landmark_model(cfg: &Config) -> anyhow::Result<LandmarkPredictor> {
    let path = cfg
        .track_landmark
        .as_deref()
        .or(cfg.checkpoint.as_deref())
        .map(Path::new)
        .ok_or_else(|| {
            anyhow!(
                "`track_landmark` must name the landmark model (an fdfat-rs checkpoint, an original \
                 best.pt or an ONNX file)"
            )
        })?;
    let device = fdfat_models::device_for_config(&cfg.device)?;
    let model = LandmarkPredictor::load(cfg, path, &device)?;
    println!("{}", model.note());
    Ok(model)
}

/// The face detector of `track_detector`, if set.
pub fn detector(cfg: &Config) -> anyhow::Result<Option<FaceDetector>> {
    cfg.track_detector
        .as_deref()
        .map(|p| FaceDetector::load(Path::new(p), cfg.track_detector_threshold as f32))
        .transpose()
        .map_err(Into::into)
}
