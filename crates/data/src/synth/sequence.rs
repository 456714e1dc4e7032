//! Toy video sequences with known truth: one toy person per sequence, in front of a fixed
//! background, moving along a script of segments: holds (still), slow smooth moves (head pose,
//! position and size drift) and fast head turns. Each frame gets fresh sensor noise, so a held
//! face still shows the measurement jitter of a real camera.
//!
//! Written in the 300-VW layout: `NNN/imgs/NNNNNN.jpg` (JPEG quality 95), `NNN/annot/NNNNNN.pts`
//! (the exact projected 68 iBUG points, 1-based pixels) and `NNN/segments.json` (the frame rate
//! and every segment with its frame numbers). Frames are numbered from 1, as in 300-VW.
//!
//! Within a segment of `d` frames starting at frame `s`, frame `s + j` shows the state
//! `A + (B - A) e((j + 1) / d)` between the segment's start state `A` (the previous segment's
//! end) and its end state `B`, with the ease `e(u) = (1 - cos(pi u)) / 2`; a still segment has
//! `A = B`, so its true landmarks are identical in every frame.

use super::face::{Identity, Placement, random_identity};
use super::render::{Light, Palette, background, draw_face};
use super::{mean_face, parallel};
use crate::error::DataError;
use crate::rng::rng_for;
use crate::sample::Pose;
use crate::sequence::{
    ANNOTATIONS_DIR, FRAMES_DIR, SEQUENCE_POINTS, Segment, SegmentKind, SegmentsFile, write_pts,
    write_segments,
};
use image::RgbImage;
use image::codecs::jpeg::JpegEncoder;
use rand::Rng;
use std::path::{Path, PathBuf};

/// Key separating the sequence RNG streams from the still images'.
const SEQUENCE_KEY: u64 = 0x5345_5155_454E_4345;
/// JPEG quality of the written frames.
const JPEG_QUALITY: u8 = 95;

/// What to render.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct SequenceSpec {
    /// Number of sequences.
    pub count: usize,
    /// Frames per sequence.
    pub frames: usize,
    /// Frame width in pixels.
    pub width: u32,
    /// Frame height in pixels.
    pub height: u32,
    /// Frames per second (written to `segments.json`).
    pub fps: f64,
    /// Random seed.
    pub seed: u64,
    /// Rendering threads.
    pub threads: usize,
}

/// The face's state at one frame.
#[derive(Debug, Clone, Copy, PartialEq)]
struct State {
    yaw: f64,
    pitch: f64,
    roll: f64,
    /// Face centre as fractions of the frame width and height.
    centre: [f64; 2],
    /// Face width as a fraction of the frame width.
    width: f64,
}

impl State {
    fn lerp(&self, to: &Self, t: f64) -> Self {
        let mix = |a: f64, b: f64| a + (b - a) * t;
        Self {
            yaw: mix(self.yaw, to.yaw),
            pitch: mix(self.pitch, to.pitch),
            roll: mix(self.roll, to.roll),
            centre: [
                mix(self.centre[0], to.centre[0]),
                mix(self.centre[1], to.centre[1]),
            ],
            width: mix(self.width, to.width),
        }
    }

    fn placement(&self, size: [u32; 2]) -> Placement {
        Placement {
            pose: Pose {
                yaw: self.yaw as f32,
                pitch: self.pitch as f32,
                roll: self.roll as f32,
            },
            centre: [
                self.centre[0] * f64::from(size[0]),
                self.centre[1] * f64::from(size[1]),
            ],
            width: self.width,
        }
    }
}

/// One scripted segment: its kind, first frame (0-based), length and end state.
#[derive(Debug, Clone, Copy, PartialEq)]
struct Scripted {
    kind: SegmentKind,
    start: usize,
    len: usize,
    from: State,
    to: State,
}

/// The cosine ease from 0 to 1.
fn ease(u: f64) -> f64 {
    (1.0 - (std::f64::consts::PI * u.clamp(0.0, 1.0)).cos()) / 2.0
}

/// A random script of `frames` frames: hold, turn, hold, move, repeated, starting still.
fn script(frames: usize, rng: &mut impl Rng) -> Vec<Scripted> {
    let mut state = State {
        yaw: rng.random_range(-15.0..15.0),
        pitch: rng.random_range(-8.0..8.0),
        roll: rng.random_range(-8.0..8.0),
        centre: [rng.random_range(0.42..0.58), rng.random_range(0.42..0.58)],
        width: rng.random_range(0.22..0.3),
    };
    let mut out = Vec::new();
    let mut start = 0;
    let pattern = [
        SegmentKind::Still,
        SegmentKind::Turn,
        SegmentKind::Still,
        SegmentKind::Move,
    ];
    for kind in pattern.iter().cycle() {
        if start >= frames {
            break;
        }
        let (len, to) = match kind {
            SegmentKind::Still => (rng.random_range(12..19), state),
            SegmentKind::Turn => {
                // a fast turn across the front, to the other side
                let side = if state.yaw > 0.0 { -1.0 } else { 1.0 };
                let yaw = side * rng.random_range(15.0..30.0);
                let to = State {
                    yaw,
                    pitch: (state.pitch + rng.random_range(-5.0..5.0)).clamp(-12.0, 12.0),
                    centre: [
                        (state.centre[0] + rng.random_range(-0.03..0.03)).clamp(0.35, 0.65),
                        state.centre[1],
                    ],
                    ..state
                };
                (rng.random_range(6..10), to)
            }
            SegmentKind::Move => {
                let to = State {
                    yaw: (state.yaw + rng.random_range(-10.0..10.0)).clamp(-35.0, 35.0),
                    pitch: (state.pitch + rng.random_range(-8.0..8.0)).clamp(-12.0, 12.0),
                    roll: (state.roll + rng.random_range(-10.0..10.0)).clamp(-15.0, 15.0),
                    centre: [
                        (state.centre[0] + rng.random_range(-0.12..0.12)).clamp(0.35, 0.65),
                        (state.centre[1] + rng.random_range(-0.06..0.06)).clamp(0.4, 0.6),
                    ],
                    width: (state.width * rng.random_range(0.9..1.1)).clamp(0.2, 0.32),
                };
                (rng.random_range(18..27), to)
            }
        };
        let len = len.min(frames - start);
        out.push(Scripted {
            kind: *kind,
            start,
            len,
            from: state,
            to,
        });
        state = to;
        start += len;
    }
    out
}

/// The state of 0-based frame `k` under `script`.
fn state_at(script: &[Scripted], k: usize) -> State {
    let seg = script
        .iter()
        .find(|s| (s.start..s.start + s.len).contains(&k))
        .or(script.last())
        .expect("a script has at least one segment");
    let u = (k + 1).saturating_sub(seg.start) as f64 / seg.len as f64;
    seg.from.lerp(&seg.to, ease(u))
}

/// Everything fixed over one sequence.
struct Scene {
    identity: Identity,
    hair: Option<f64>,
    palette: Palette,
    light: Light,
    background: RgbImage,
    script: Vec<Scripted>,
}

impl Scene {
    fn random(mean: &[[f64; 3]], spec: &SequenceSpec, rng: &mut impl Rng) -> Self {
        let identity = random_identity(mean, rng);
        let volume = rng.random_range(0.0..25.0);
        let hair = rng.random_bool(0.75).then_some(volume);
        let mut background_image = RgbImage::new(spec.width, spec.height);
        background(&mut background_image, rng);
        Self {
            identity,
            hair,
            palette: Palette::random(rng),
            light: Light::random(rng),
            background: background_image,
            script: script(spec.frames, rng),
        }
    }
}

/// Renders `spec.count` sequences into `out/001`, `out/002`, ... (created if needed),
/// deterministically from `spec.seed`; returns the sequence folders.
pub fn generate_sequences(out: &Path, spec: &SequenceSpec) -> Result<Vec<PathBuf>, DataError> {
    if spec.count == 0 || spec.frames == 0 {
        return Err(DataError::Invalid {
            what: "synth_sequences / synth_frames",
            message: "at least one sequence of at least one frame".into(),
        });
    }
    if spec.width < 64 || spec.height < 64 {
        return Err(DataError::Invalid {
            what: "synth_frame_width / synth_frame_height",
            message: format!(
                "{}x{} px is too small (at least 64x64)",
                spec.width, spec.height
            ),
        });
    }
    let mean = mean_face()?;
    let mut dirs = Vec::with_capacity(spec.count);
    for s in 0..spec.count {
        let dir = out.join(format!("{:03}", s + 1));
        for sub in [FRAMES_DIR, ANNOTATIONS_DIR] {
            let path = dir.join(sub);
            std::fs::create_dir_all(&path).map_err(|e| DataError::io("create", &path, e))?;
        }
        let mut rng = rng_for(&[SEQUENCE_KEY, spec.seed, s as u64]);
        let scene = Scene::random(&mean, spec, &mut rng);
        let label = format!("sequence {}/{}", s + 1, spec.count);
        parallel(spec.frames, spec.threads, &label, |k| {
            write_frame(&dir, &scene, spec, s, k)
        })?;
        let segments = scene
            .script
            .iter()
            .map(|seg| Segment {
                kind: seg.kind,
                start: seg.start + 1,
                end: seg.start + seg.len,
            })
            .collect();
        write_segments(
            &dir,
            &SegmentsFile {
                fps: spec.fps,
                segments,
            },
        )?;
        dirs.push(dir);
    }
    Ok(dirs)
}

/// Renders and writes 0-based frame `k` of sequence `s` with its annotation.
fn write_frame(
    dir: &Path,
    scene: &Scene,
    spec: &SequenceSpec,
    s: usize,
    k: usize,
) -> Result<(), DataError> {
    let size = [spec.width, spec.height];
    let face = scene.identity.place(
        &state_at(&scene.script, k).placement(size),
        size,
        scene.hair,
    );
    let mut img = scene.background.clone();
    draw_face(&mut img, &face, &scene.palette);
    let mut noise = rng_for(&[SEQUENCE_KEY, spec.seed, s as u64, k as u64 + 1]);
    scene.light.apply(&mut img, &mut noise);
    let name = format!("{:06}", k + 1);
    let path = dir.join(FRAMES_DIR).join(format!("{name}.jpg"));
    let file = std::fs::File::create(&path).map_err(|e| DataError::io("write", &path, e))?;
    JpegEncoder::new_with_quality(std::io::BufWriter::new(file), JPEG_QUALITY)
        .encode_image(&img)
        .map_err(|e| DataError::image(&path, e))?;
    write_pts(
        &dir.join(ANNOTATIONS_DIR).join(format!("{name}.pts")),
        &face.landmarks[..SEQUENCE_POINTS],
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn scripts_start_still_cover_every_frame_and_hold_still_segments() {
        let mut rng = rng_for(&[1]);
        let script = script(100, &mut rng);
        assert_eq!(script[0].kind, SegmentKind::Still);
        assert_eq!(script[1].kind, SegmentKind::Turn);
        assert!(script.iter().any(|s| s.kind == SegmentKind::Move));
        let mut next = 0;
        for seg in &script {
            assert_eq!(seg.start, next);
            next += seg.len;
            if seg.kind == SegmentKind::Still {
                assert_eq!(seg.from, seg.to);
            }
        }
        assert_eq!(next, 100);
        // each segment ends exactly at its end state, the next starts from it
        for pair in script.windows(2) {
            assert_eq!(
                state_at(&script, pair[0].start + pair[0].len - 1),
                pair[0].to
            );
            assert_eq!(pair[1].from, pair[0].to);
        }
        let turn = &script[1];
        assert!((turn.to.yaw - turn.from.yaw).abs() >= 15.0);
    }
}
