//! End-to-end tests of `--task track`: a folder of 300-VW frames and a video made from them
//! give per-frame JSON lines with one stable id and rendered frames; ffmpeg-dependent parts
//! are skipped (with a notice) where ffmpeg is not installed.

use fdfat_config::fixtures::shared_path;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

mod common;

use common::{fdfat, text};

fn has_ffmpeg() -> bool {
    let ok = Command::new("ffmpeg")
        .arg("-version")
        .output()
        .is_ok_and(|o| o.status.success());
    if !ok {
        eprintln!("SKIPPED: ffmpeg is not installed");
    }
    ok
}

/// A folder of `n` frames alternating the two annotated 300-VW frames of sequence 001, each
/// halved to 640x360.
fn frame_folder(dir: &Path, n: usize) -> Option<PathBuf> {
    let src = shared_path("data/300vw/001/imgs")?;
    let frames: Vec<image::RgbImage> = ["000006.jpg", "000009.jpg"]
        .iter()
        .map(|f| {
            let img = fdfat_data::read_rgb(&src.join(f)).unwrap();
            image::imageops::resize(&img, 640, 360, image::imageops::FilterType::Triangle)
        })
        .collect();
    let out = dir.join("frames");
    std::fs::create_dir_all(&out).unwrap();
    for k in 0..n {
        frames[(k / 3) % 2]
            .save(out.join(format!("{k:04}.png")))
            .unwrap();
    }
    Some(out)
}

fn models() -> Option<(PathBuf, PathBuf)> {
    Some((
        shared_path("data/face_detector/version-RFB-320.onnx")?,
        shared_path("data/reference_checkpoints/LWModel_ReLU6_affine_cls/model.onnx")?,
    ))
}

fn track(input: &Path, project: &Path, save: &Path, extra: &[&str]) -> Output {
    let (detector, model) = models().unwrap();
    let mut args = vec![
        "--task",
        "track",
        "--input",
        input.to_str().unwrap(),
        "--track_detector",
        detector.to_str().unwrap(),
        "--track_landmark",
        model.to_str().unwrap(),
        "--project",
        project.to_str().unwrap(),
        "--name",
        "trk",
        "--track_save",
        save.to_str().unwrap(),
    ];
    args.extend_from_slice(extra);
    fdfat(&args)
}

fn lines(project: &Path) -> Vec<serde_json::Value> {
    std::fs::read_to_string(project.join("trk/tracks.jsonl"))
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect()
}

#[test]
fn tracking_a_frame_folder_keeps_one_id_and_renders_every_frame() {
    let dir = tempfile::tempdir().unwrap();
    let (Some(frames), Some(_)) = (frame_folder(dir.path(), 20), models()) else {
        return;
    };
    let rendered = dir.path().join("rendered");
    let out = track(&frames, dir.path(), &rendered, &["--track_verbose", "true"]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    let stdout = text(&out.stdout);
    assert!(
        stdout.contains("frame 19: 1 face(s)") && stdout.contains("FPS"),
        "{stdout}"
    );
    assert!(stdout.contains("20 frames, 1 track(s)"), "{stdout}");
    let records = lines(dir.path());
    assert_eq!(records.len(), 20);
    for (k, r) in records.iter().enumerate() {
        assert_eq!(r["frame"], k);
        assert_eq!(r["name"], format!("{k:04}.png"));
        assert_eq!(r["detected"], k == 0 || k == 15, "frame {k}");
        let faces = r["faces"].as_array().unwrap();
        assert_eq!(faces.len(), 1, "frame {k}");
        assert_eq!(faces[0]["id"], 0);
        assert_eq!(faces[0]["landmarks"].as_array().unwrap().len(), 70);
        assert!(faces[0]["yaw"].is_f64() && faces[0]["face_score"].as_f64().unwrap() > 0.5);
    }
    assert_eq!(std::fs::read_dir(&rendered).unwrap().count(), 20);
    let first = image::open(rendered.join("000000.jpg")).unwrap();
    assert_eq!((first.width(), first.height()), (640, 360));
}

#[test]
fn tracking_a_video_reads_and_writes_it_through_ffmpeg() {
    let dir = tempfile::tempdir().unwrap();
    let (Some(frames), Some(_)) = (frame_folder(dir.path(), 12), models()) else {
        return;
    };
    if !has_ffmpeg() {
        return;
    }
    let video = dir.path().join("input.mp4");
    let made = Command::new("ffmpeg")
        .args(["-v", "error", "-y", "-framerate", "10", "-i"])
        .arg(frames.join("%04d.png"))
        .args(["-pix_fmt", "yuv420p"])
        .arg(&video)
        .status()
        .unwrap();
    assert!(made.success());
    let out_video = dir.path().join("out/tracked.mp4");
    let out = track(&video, dir.path(), &out_video, &[]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    let records = lines(dir.path());
    assert_eq!(records.len(), 12);
    // 10 frames per second from the video: the detector (2 per second) runs at frames 0 and 5
    let detected: Vec<usize> = records
        .iter()
        .filter(|r| r["detected"] == true)
        .map(|r| r["frame"].as_u64().unwrap() as usize)
        .collect();
    assert_eq!(detected, [0, 5, 10]);
    assert!(
        records
            .iter()
            .all(|r| r["faces"].as_array().unwrap().len() == 1 && r["faces"][0]["id"] == 0)
    );
    assert!((records[3]["time"].as_f64().unwrap() - 0.3).abs() < 1e-9);
    let probe = Command::new("ffprobe")
        .args([
            "-v",
            "error",
            "-count_frames",
            "-select_streams",
            "v:0",
            "-show_entries",
            "stream=nb_read_frames,width,height",
            "-of",
            "csv=p=0",
        ])
        .arg(&out_video)
        .output()
        .unwrap();
    assert_eq!(text(&probe.stdout).trim(), "640,360,12");
}

#[test]
fn track_names_what_is_missing() {
    let dir = tempfile::tempdir().unwrap();
    let out = fdfat(&["--task", "track", "--save", "false"]);
    assert_eq!(out.status.code(), Some(1));
    assert!(
        text(&out.stderr).contains("`input` must be set"),
        "{}",
        text(&out.stderr)
    );
    let input = dir.path().to_str().unwrap();
    let out = fdfat(&[
        "--task",
        "track",
        "--input",
        input,
        "--track_source",
        "webcam",
    ]);
    assert!(
        text(&out.stderr).contains("track_source `webcam`"),
        "{}",
        text(&out.stderr)
    );
    let out = fdfat(&["--task", "track", "--input", input]);
    assert!(
        text(&out.stderr).contains("holds no images"),
        "{}",
        text(&out.stderr)
    );
    let Some(frames) = frame_folder(dir.path(), 1) else {
        return;
    };
    let out = fdfat(&["--task", "track", "--input", frames.to_str().unwrap()]);
    assert!(
        text(&out.stderr).contains("`track_detector` must name"),
        "{}",
        text(&out.stderr)
    );
}
