//! The toy generator writes a FaceSynthetics-layout dataset that the loader reads back, with
//! landmarks on the drawn features and the true pose of every image.

use fdfat_config::{DataConfig, Split, resolve};
use fdfat_data::{Dataset, read_rgb, synth};

#[test]
fn synth_dataset_round_trips_through_the_loader() {
    let dir = tempfile::tempdir().unwrap();
    let yaml = synth::generate(dir.path(), 40, 7, 256, 2).unwrap();
    assert_eq!(yaml, dir.path().join("data.yaml"));
    let data = DataConfig::load(&yaml).unwrap();
    let cfg = resolve(None, &[]).unwrap();
    let train = Dataset::open(&data, Split::Train, &cfg).unwrap();
    let val = Dataset::open(&data, Split::Val, &cfg).unwrap();
    assert_eq!((train.len(), val.len()), (36, 4));
    for s in train.samples().iter().chain(val.samples()) {
        assert_eq!(s.landmarks.len(), 70);
        assert_eq!(s.image_size, [256, 256]);
        let pose = s.pose.expect("every toy image has its pose");
        assert!(pose.yaw.abs() <= 50.0 && pose.pitch.abs() <= 25.0 && pose.roll.abs() <= 25.0);
        for p in &s.landmarks {
            assert!(
                p[0] > 0.0 && p[0] < 256.0 && p[1] > 0.0 && p[1] < 256.0,
                "{p:?}"
            );
        }
    }
    // Same seed, same images; another seed, other images.
    let again = tempfile::tempdir().unwrap();
    synth::generate(again.path(), 3, 7, 256, 1).unwrap();
    let other = tempfile::tempdir().unwrap();
    synth::generate(other.path(), 3, 8, 256, 1).unwrap();
    let bytes = |d: &std::path::Path| std::fs::read(d.join("000002.png")).unwrap();
    assert_eq!(bytes(dir.path()), bytes(again.path()));
    assert_ne!(bytes(dir.path()), bytes(other.path()));
}

#[test]
fn landmarks_sit_on_the_drawn_features() {
    let dir = tempfile::tempdir().unwrap();
    synth::generate(dir.path(), 12, 3, 256, 2).unwrap();
    let luma = |p: &image::Rgb<u8>| {
        0.299 * f32::from(p.0[0]) + 0.587 * f32::from(p.0[1]) + 0.114 * f32::from(p.0[2])
    };
    let mut pupil_darker = 0;
    for i in 0..12 {
        let img = read_rgb(&dir.path().join(format!("{i:06}.png"))).unwrap();
        let text = std::fs::read_to_string(dir.path().join(format!("{i:06}_ldmks.txt"))).unwrap();
        let pts: Vec<[f32; 2]> = text
            .lines()
            .map(|l| {
                let v: Vec<f32> = l.split(' ').map(|x| x.parse().unwrap()).collect();
                [v[0], v[1]]
            })
            .collect();
        let at = |p: [f32; 2]| luma(img.get_pixel(p[0] as u32, p[1] as u32));
        // The pupils are drawn as near-black discs at landmarks 68 and 69 (unless a blink hides them).
        if at(pts[68]) < 45.0 && at(pts[69]) < 45.0 {
            pupil_darker += 1;
        }
    }
    assert!(
        pupil_darker >= 9,
        "dark pupils under the landmarks in only {pupil_darker} of 12 images"
    );
}

#[test]
fn sequences_are_written_in_the_300vw_layout_with_exact_still_and_turn_truth() {
    use fdfat_data::sequence::{SegmentKind, Sequence};
    let dir = tempfile::tempdir().unwrap();
    let spec = synth::SequenceSpec {
        count: 1,
        frames: 40,
        width: 160,
        height: 120,
        fps: 25.0,
        seed: 5,
        threads: 2,
    };
    let dirs = synth::generate_sequences(dir.path(), &spec).unwrap();
    assert_eq!(dirs, [dir.path().join("001")]);
    let seq = Sequence::open(&dirs[0], 30.0).unwrap();
    assert_eq!((seq.frames.len(), seq.fps), (40, 25.0));
    assert_eq!(seq.frames[0].number, 1);
    assert!((seq.frames[10].time - 0.4).abs() < 1e-12);
    let segments = seq.segments.clone().expect("segments.json");
    assert_eq!(segments[0].kind, SegmentKind::Still);
    assert_eq!(segments[0].start, 1);
    assert_eq!(segments.last().unwrap().end, 40);
    let truth: Vec<Vec<[f32; 2]>> = seq.frames.iter().map(|f| f.landmarks().unwrap()).collect();
    let moved = |a: usize, b: usize| {
        truth[a - 1]
            .iter()
            .zip(&truth[b - 1])
            .map(|(p, q)| (p[0] - q[0]).hypot(p[1] - q[1]))
            .fold(0.0f32, f32::max)
    };
    for seg in &segments {
        let span = moved(seg.start, seg.end);
        match seg.kind {
            SegmentKind::Still => assert!(span < 1e-3, "{seg:?} moved {span}"),
            _ => assert!(span > 1.0, "{seg:?} moved only {span}"),
        }
    }
    let first = read_rgb(&seq.frames[0].image.clone().unwrap()).unwrap();
    assert_eq!(first.dimensions(), (160, 120));
    for p in &truth[0] {
        assert!(
            p[0] > 0.0 && p[0] < 160.0 && p[1] > 0.0 && p[1] < 120.0,
            "{p:?}"
        );
    }
    // deterministic: the same seed writes the same annotations
    let again = tempfile::tempdir().unwrap();
    synth::generate_sequences(again.path(), &spec).unwrap();
    let pts = |d: &std::path::Path| std::fs::read(d.join("001/annot/000020.pts")).unwrap();
    assert_eq!(pts(dir.path()), pts(again.path()));
}
