//! `--task track`: faces tracked through a video file or a folder of frames (`input`; a V4L2
//! camera with `track_source: camera`), with the detector of `track_detector` and the landmark
//! model of `track_landmark`. Writes one JSON line per frame to `<run dir>/tracks.jsonl`, the
//! rendered frames to `track_save` (a video file or a folder), and with `track_verbose` the
//! per-stage timings and frames per second of every frame.

use anyhow::{Context, anyhow, bail};
use fdfat_config::Config;
use fdfat_track::{
    FaceDrawing, FaceTracker, FrameSink, FrameSource, Renderer, StageTimes, TrackerParams,
};
use indicatif::{ProgressBar, ProgressStyle};
use std::collections::BTreeSet;
use std::io::{LineWriter, Write};
use std::path::Path;
use std::time::{Duration, Instant};

/// The camera read when `input` is unset with `track_source: camera`.
const DEFAULT_CAMERA: &str = "/dev/video0";

/// Runs the track task.
pub fn run(cfg: &Config) -> anyhow::Result<()> {
    let mut source = match cfg.track_source.as_str() {
        "camera" => FrameSource::camera(Path::new(cfg.input.as_deref().unwrap_or(DEFAULT_CAMERA)))?,
        "video" => {
            let input = cfg.input.as_deref().ok_or_else(|| {
                anyhow!("`input` must be set for --task track (a video file or a folder of frames)")
            })?;
            FrameSource::open(Path::new(input), cfg.track_input_fps)?
        }
        other => bail!("track_source `{other}`: expected video or camera"),
    };
    let detector = crate::predict::detector(cfg)?.ok_or_else(|| {
        anyhow!("`track_detector` must name the face detector ONNX file (version-RFB-320.onnx or version-slim-320.onnx)")
    })?;
    let landmarks = crate::predict::landmark_model(cfg)?;
    let renderer = Renderer::for_points(landmarks.points());
    let mut tracker = FaceTracker::new(detector, landmarks, TrackerParams::from_config(cfg));
    let run_dir = fdfat_config::create_run_dir(cfg).context("cannot create the run directory")?;
    let jsonl_path = run_dir.join("tracks.jsonl");
    let mut jsonl = LineWriter::new(
        std::fs::File::create(&jsonl_path)
            .with_context(|| format!("cannot create `{}`", jsonl_path.display()))?,
    );
    if cfg.track_visualize && cfg.track_save.is_none() {
        println!(
            "track_visualize: fdfat-rs opens no window; set `track_save` to keep the rendered frames"
        );
    }
    let bar = progress(source.len_hint(), cfg.track_verbose);
    let mut sink: Option<FrameSink> = None;
    let mut times = StageTimes::new();
    let mut ids = BTreeSet::new();
    let (mut frames, started) = (0usize, Instant::now());
    loop {
        let read_start = Instant::now();
        let Some(frame) = source.next_frame()? else {
            break;
        };
        times.add("read", read_start.elapsed(), 1);
        let out = tracker
            .process(&frame.image, frame.time)
            .with_context(|| format!("tracking frame {}", frame.index))?;
        let t = out.timings;
        if let Some(d) = t.detector {
            times.add("detector", d, 1);
        }
        times.add("landmarks", t.landmarks, t.landmark_runs);
        times.add("tracking", t.tracking, 1);
        let process = t.detector.unwrap_or_default() + t.landmarks + t.tracking;
        times.add("process", process, 1);
        ids.extend(out.faces.iter().map(|f| f.id));
        let record = out.record(frame.index, frame.time, frame.name.clone());
        serde_json::to_writer(&mut jsonl, &record)?;
        writeln!(jsonl).with_context(|| format!("cannot write `{}`", jsonl_path.display()))?;
        if let Some(save) = &cfg.track_save {
            let render_start = Instant::now();
            let mut image = frame.image;
            for face in &out.faces {
                renderer.draw(
                    &mut image,
                    &FaceDrawing {
                        bbox: face.bbox,
                        points: &face.points,
                        pose: face.pose.as_ref(),
                        color: fdfat_track::track_color(face.id),
                    },
                );
            }
            let sink = match &mut sink {
                Some(sink) => sink,
                None => sink.insert(FrameSink::create(
                    Path::new(save),
                    image.width(),
                    image.height(),
                    source.fps(),
                )?),
            };
            sink.write(frame.index, &image)?;
            times.add("render+write", render_start.elapsed(), 1);
        }
        if cfg.track_verbose {
            println!(
                "frame {}: {} face(s){} | detector {} | landmarks {:.2} ms x{} | tracking {:.2} ms | {:.0} FPS",
                frame.index,
                out.faces.len(),
                if out.detected { ", detected" } else { "" },
                t.detector
                    .map_or_else(|| "-".into(), |d| format!("{:.2} ms", ms(d))),
                ms(t.landmarks),
                t.landmark_runs,
                ms(t.tracking),
                1e3 / ms(process).max(1e-3),
            );
        }
        bar.inc(1);
        frames += 1;
    }
    bar.finish_and_clear();
    if let Some(sink) = sink {
        sink.finish()?;
    }
    jsonl.flush()?;
    let wall = started.elapsed().as_secs_f64();
    let process = times.get("process").map_or(0.0, |s| s.total.as_secs_f64());
    println!(
        "{frames} frames, {} track(s); {:.1} FPS processing (detector, landmarks, tracking), {:.1} FPS end to end",
        ids.len(),
        frames as f64 / process.max(1e-9),
        frames as f64 / wall.max(1e-9),
    );
    println!("per stage: {times}");
    println!("tracks: {}", jsonl_path.display());
    if let Some(save) = &cfg.track_save {
        println!("rendered frames: {save}");
    }
    Ok(())
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1e3
}

fn progress(len: Option<usize>, hidden: bool) -> ProgressBar {
    if hidden {
        return ProgressBar::hidden();
    }
    let bar = len.map_or_else(ProgressBar::new_spinner, |n| ProgressBar::new(n as u64));
    bar.set_style(
        ProgressStyle::with_template("track [{bar:30}] {pos}/{len} ({per_sec}, eta {eta})")
            .unwrap_or_else(|_| ProgressStyle::default_bar())
            .progress_chars("=> "),
    );
    bar
}
