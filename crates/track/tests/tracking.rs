//! The tracker on 300-VW sequence 001: one id across frames, landmarks near the annotations,
//! and the jitter of the landmarks with and without Kalman smoothing on still and moving
//! (shifted) frames. Run with `--nocapture` for the figures.

mod common;

use common::{LW_ONNX, detector, inter_ocular, landmarks, nme, shift_points, shifted, vw_frames};
use fdfat_config::Smoother;
use fdfat_track::{FaceTracker, FrameOutput, SmootherParams, SortParams, TrackerParams};
use image::RgbImage;

/// Frame rate of the synthetic sequences (the detector runs every 15 frames at 2 per second).
const FPS: f64 = 30.0;

fn tracker(smoother: Smoother) -> Option<FaceTracker> {
    let params = TrackerParams {
        detector_fps: 2.0,
        face_threshold: 0.5,
        sort: SortParams {
            smoother: SmootherParams::of(smoother),
            ..SortParams::default()
        },
    };
    Some(FaceTracker::new(detector()?, landmarks(LW_ONNX)?, params))
}

fn run(tracker: &mut FaceTracker, frames: &[RgbImage]) -> Vec<FrameOutput> {
    frames
        .iter()
        .enumerate()
        .map(|(k, f)| tracker.process(f, k as f64 / FPS).unwrap())
        .collect()
}

/// Mean over frames `1..` of the mean landmark motion from the previous frame, minus the known
/// image motion `step` per frame, in pixels.
fn jitter(outputs: &[FrameOutput], step: [f32; 2]) -> f32 {
    let tracks: Vec<&Vec<[f32; 2]>> = outputs.iter().map(|o| &o.faces[0].points).collect();
    let moves: Vec<f32> = tracks
        .windows(2)
        .map(|w| {
            w[0].iter()
                .zip(w[1])
                .map(|(a, b)| (b[0] - a[0] - step[0]).hypot(b[1] - a[1] - step[1]))
                .sum::<f32>()
                / w[0].len() as f32
        })
        .collect();
    moves.iter().sum::<f32>() / moves.len() as f32
}

#[test]
fn one_id_across_the_300vw_frames_with_landmarks_on_the_face() {
    let (Some(frames), Some(mut tracker)) = (vw_frames(), tracker(Smoother::Kalman)) else {
        return;
    };
    // 40 frames alternating the two annotated frames (3 video frames apart), 4 at a time
    let sequence: Vec<usize> = (0..40).map(|k| (k / 4) % 2).collect();
    let images: Vec<RgbImage> = sequence.iter().map(|&i| frames[i].0.clone()).collect();
    let outputs = run(&mut tracker, &images);
    let detections = outputs.iter().filter(|o| o.detected).count();
    assert_eq!(detections, 3, "the detector runs at frames 0, 15 and 30");
    let mut nmes = Vec::new();
    for (k, (out, &i)) in outputs.iter().zip(&sequence).enumerate() {
        assert_eq!(out.faces.len(), 1, "frame {k}: {} faces", out.faces.len());
        let face = &out.faces[0];
        assert_eq!(face.id, 0, "frame {k}");
        assert!(face.face_score.unwrap() > 0.5);
        let pose = face.pose.expect("a pose");
        assert!(pose.yaw.abs() < 45.0 && pose.pitch.abs() < 45.0, "{pose:?}");
        nmes.push(nme(&face.raw_points, &frames[i].1));
    }
    let mean = nmes.iter().sum::<f32>() / nmes.len() as f32;
    let max = nmes.iter().cloned().fold(0.0, f32::max);
    println!(
        "300-VW 001, 40 frames: NME of the raw landmarks mean {:.2}%, max {:.2}%",
        100.0 * mean,
        100.0 * max
    );
    assert!(mean < 0.065 && max < 0.08, "NME mean {mean}, max {max}");
}

#[test]
fn kalman_smoothing_reduces_jitter_on_still_and_shifted_frames() {
    let (Some(frames), Some(_)) = (vw_frames(), tracker(Smoother::Kalman)) else {
        return;
    };
    let (image, gt) = &frames[0];
    let iod = inter_ocular(gt);
    let n = 45;
    let still: Vec<RgbImage> = vec![image.clone(); n];
    let moving: Vec<RgbImage> = (0..n as i64).map(|k| shifted(image, 3 * k, k)).collect();
    let mut figures = Vec::new();
    for (name, seq, motion) in [
        ("still", &still, [0.0, 0.0]),
        ("shifted (3, 1) px/frame", &moving, [3.0, 1.0]),
    ] {
        let mut row = Vec::new();
        for smoother in [Smoother::None, Smoother::Kalman] {
            let outputs = run(&mut tracker(smoother).unwrap(), seq);
            assert!(
                outputs
                    .iter()
                    .all(|o| o.faces.len() == 1 && o.faces[0].id == 0)
            );
            let nmes: Vec<f32> = outputs
                .iter()
                .enumerate()
                .map(|(k, o)| {
                    let gt_k = shift_points(gt, motion[0] * k as f32, motion[1] * k as f32);
                    nme(&o.faces[0].points, &gt_k)
                })
                .collect();
            let mean_nme = nmes.iter().sum::<f32>() / n as f32;
            assert!(mean_nme < 0.07, "{name}, {smoother}: NME {mean_nme}");
            let (all, steady) = (jitter(&outputs, motion), jitter(&outputs[15..], motion));
            println!(
                "{name}, {}: jitter {:.3} px ({:.2}% IOD) over frames 1-{}, {:.3} px ({:.2}% IOD) from frame 16; NME {:.2}%",
                smoother,
                all,
                100.0 * all / iod,
                n - 1,
                steady,
                100.0 * steady / iod,
                100.0 * mean_nme
            );
            row.push((all, steady, mean_nme));
        }
        figures.push(row);
    }
    // still frames: the filters remove much of the crop-landmark feedback jitter
    let [still, moving] = [&figures[0], &figures[1]];
    assert!(still[1].0 < 0.75 * still[0].0, "still frames: {figures:?}");
    // moving frames: both follow the 3.16 px/frame motion closely and without a lag bias
    let speed = 10f32.sqrt();
    for (all, steady, _) in moving {
        assert!(
            *all < 0.15 * speed && *steady < 0.1 * speed,
            "shifted frames: {figures:?}"
        );
    }
    assert!(
        (moving[1].2 - moving[0].2).abs() < 0.005,
        "shifted frames: {figures:?}"
    );
}
