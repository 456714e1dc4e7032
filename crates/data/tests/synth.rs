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
