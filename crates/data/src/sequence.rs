//! Video sequences with per-frame landmarks in the 300-VW layout: a folder with `imgs/` (the
//! frames, `NNNNNN.jpg` or `.png`) and `annot/` (`NNNNNN.pts`, 68 iBUG points), and optionally
//! `segments.json` (written by `--task synth`: the frame rate and still / move / turn segments).
//!
//! A frame's number is its file stem when that is an integer (300-VW numbers frames from 1),
//! else its 1-based position; its time is `(number - first number) / fps`, so gaps in the
//! numbering keep their duration. `fps` comes from `segments.json`, else from the caller
//! (`track_input_fps`).

use crate::error::DataError;
use crate::formats::is_image;
use crate::formats::pts::read_pts;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

/// The file holding a sequence's frame rate and segment labels.
pub const SEGMENTS_FILE: &str = "segments.json";
/// The folder of a sequence's frames.
pub const FRAMES_DIR: &str = "imgs";
/// The folder of a sequence's `.pts` annotations.
pub const ANNOTATIONS_DIR: &str = "annot";
/// Points per annotation (iBUG 68).
pub const SEQUENCE_POINTS: usize = 68;

/// What the face does during a segment.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum SegmentKind {
    /// Held still: the true landmarks do not move.
    Still,
    /// Slow, smooth head and position motion.
    Move,
    /// A fast head turn.
    Turn,
}

/// A run of frames, by frame number, both ends included.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Segment {
    /// What the face does.
    pub kind: SegmentKind,
    /// First frame number.
    pub start: usize,
    /// Last frame number.
    pub end: usize,
}

impl Segment {
    /// Whether frame `number` lies in the segment.
    pub fn contains(&self, number: usize) -> bool {
        (self.start..=self.end).contains(&number)
    }
}

/// The contents of `segments.json`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SegmentsFile {
    /// Frames per second.
    pub fps: f64,
    /// The labelled segments, in frame order.
    pub segments: Vec<Segment>,
}

/// One frame of a sequence.
#[derive(Debug, Clone, PartialEq)]
pub struct SequenceFrame {
    /// The frame number (see the module documentation).
    pub number: usize,
    /// Seconds from the first frame.
    pub time: f64,
    /// The frame image, when `imgs/` has it.
    pub image: Option<PathBuf>,
    /// The annotation, when `annot/` has it.
    pub annotation: Option<PathBuf>,
}

impl SequenceFrame {
    /// The frame's 68 landmarks in 0-based pixels; a missing or malformed annotation is an
    /// error naming the file (or the frame).
    pub fn landmarks(&self) -> Result<Vec<[f32; 2]>, DataError> {
        let path = self.annotation.as_ref().ok_or_else(|| {
            DataError::annotation(
                self.image.clone().unwrap_or_default(),
                None,
                format!(
                    "frame {} has no annotation (annot/{:06}.pts)",
                    self.number, self.number
                ),
            )
        })?;
        read_pts(path, SEQUENCE_POINTS)
    }
}

/// A sequence folder.
#[derive(Debug, Clone, PartialEq)]
pub struct Sequence {
    /// The folder name.
    pub name: String,
    /// The folder.
    pub dir: PathBuf,
    /// Frames per second.
    pub fps: f64,
    /// Every frame with an image or an annotation, by number.
    pub frames: Vec<SequenceFrame>,
    /// The segment labels of `segments.json`, when present.
    pub segments: Option<Vec<Segment>>,
}

/// Whether `dir` is a sequence folder (it has an `imgs/` folder).
pub fn is_sequence(dir: &Path) -> bool {
    dir.join(FRAMES_DIR).is_dir()
}

/// The files of `dir` for which `keep` holds, by stem, sorted; an absent folder has none.
fn files_by_stem(
    dir: &Path,
    keep: impl Fn(&Path) -> bool,
) -> Result<BTreeMap<String, PathBuf>, DataError> {
    if !dir.is_dir() {
        return Ok(BTreeMap::new());
    }
    let entries = std::fs::read_dir(dir).map_err(|e| DataError::io("list", dir, e))?;
    let mut files = BTreeMap::new();
    for entry in entries {
        let path = entry.map_err(|e| DataError::io("list", dir, e))?.path();
        if let Some(stem) = path.file_stem().filter(|_| keep(&path)) {
            files.insert(stem.to_string_lossy().into_owned(), path.clone());
        }
    }
    Ok(files)
}

impl Sequence {
    /// Reads the sequence folder `dir`, with `default_fps` unless `segments.json` gives one.
    pub fn open(dir: &Path, default_fps: f64) -> Result<Self, DataError> {
        if !is_sequence(dir) {
            return Err(DataError::Invalid {
                what: "sequence folder",
                message: format!(
                    "`{}` has no {FRAMES_DIR}/ folder (expected {FRAMES_DIR}/ and {ANNOTATIONS_DIR}/, the 300-VW layout)",
                    dir.display()
                ),
            });
        }
        let images = files_by_stem(&dir.join(FRAMES_DIR), is_image)?;
        let annotations = files_by_stem(&dir.join(ANNOTATIONS_DIR), |p| {
            p.extension().is_some_and(|e| e == "pts")
        })?;
        let mut stems: Vec<&String> = images.keys().chain(annotations.keys()).collect();
        stems.sort();
        stems.dedup();
        if stems.is_empty() {
            return Err(DataError::EmptySplit {
                path: dir.to_path_buf(),
                hint: format!(": no frames in {FRAMES_DIR}/ and no .pts in {ANNOTATIONS_DIR}/"),
            });
        }
        let parsed: Option<Vec<usize>> = stems.iter().map(|s| s.parse().ok()).collect();
        let numbers = match parsed {
            Some(numbers) => {
                // numeric names in numeric order (`10` after `9`)
                let mut order: Vec<usize> = (0..stems.len()).collect();
                order.sort_by_key(|&k| numbers[k]);
                stems = order.iter().map(|&k| stems[k]).collect();
                order.iter().map(|&k| numbers[k]).collect()
            }
            None => (1..=stems.len()).collect::<Vec<usize>>(),
        };
        let segments_path = dir.join(SEGMENTS_FILE);
        let labels = if segments_path.is_file() {
            Some(read_segments(&segments_path)?)
        } else {
            None
        };
        let fps = labels.as_ref().map_or(default_fps, |l| l.fps);
        let first = numbers[0];
        let frames = stems
            .iter()
            .zip(&numbers)
            .map(|(stem, &n)| SequenceFrame {
                number: n,
                time: (n - first) as f64 / fps,
                image: images.get(*stem).cloned(),
                annotation: annotations.get(*stem).cloned(),
            })
            .collect();
        Ok(Self {
            name: dir.file_name().map_or_else(
                || dir.display().to_string(),
                |n| n.to_string_lossy().into_owned(),
            ),
            dir: dir.to_path_buf(),
            fps,
            frames,
            segments: labels.map(|l| l.segments),
        })
    }

    /// The sequence at `root`, or every sequence folder directly under it, sorted by name.
    pub fn find_all(root: &Path, default_fps: f64) -> Result<Vec<Self>, DataError> {
        if is_sequence(root) {
            return Ok(vec![Self::open(root, default_fps)?]);
        }
        let entries = std::fs::read_dir(root).map_err(|e| DataError::io("list", root, e))?;
        let mut dirs = Vec::new();
        for entry in entries {
            let path = entry.map_err(|e| DataError::io("list", root, e))?.path();
            if is_sequence(&path) {
                dirs.push(path);
            }
        }
        dirs.sort();
        if dirs.is_empty() {
            return Err(DataError::EmptySplit {
                path: root.to_path_buf(),
                hint: format!(
                    ": neither a sequence folder nor a folder of them (each with {FRAMES_DIR}/ and {ANNOTATIONS_DIR}/)"
                ),
            });
        }
        dirs.iter().map(|d| Self::open(d, default_fps)).collect()
    }
}

/// Reads and checks `segments.json`: a positive frame rate, segments with `start <= end`.
fn read_segments(path: &Path) -> Result<SegmentsFile, DataError> {
    let text = std::fs::read_to_string(path).map_err(|e| DataError::io("read", path, e))?;
    let file: SegmentsFile = serde_json::from_str(&text)
        .map_err(|e| DataError::annotation(path, Some(e.line()), e.to_string()))?;
    if !(file.fps.is_finite() && file.fps > 0.0) {
        return Err(DataError::annotation(
            path,
            None,
            format!("`fps` is {}, expected a number > 0", file.fps),
        ));
    }
    if let Some(bad) = file.segments.iter().find(|s| s.start > s.end) {
        return Err(DataError::annotation(
            path,
            None,
            format!("segment {bad:?} ends before it starts"),
        ));
    }
    Ok(file)
}

/// Writes `segments.json` into the sequence folder `dir`.
pub fn write_segments(dir: &Path, file: &SegmentsFile) -> Result<(), DataError> {
    let path = dir.join(SEGMENTS_FILE);
    let text = serde_json::to_string_pretty(file).map_err(|e| DataError::Invalid {
        what: "segments",
        message: e.to_string(),
    })?;
    std::fs::write(&path, text).map_err(|e| DataError::io("write", &path, e))
}

/// Writes 68 landmarks (0-based pixels) as an iBUG `.pts` file (1-based pixels).
pub fn write_pts(path: &Path, points: &[[f32; 2]]) -> Result<(), DataError> {
    use std::fmt::Write as _;
    let mut text = format!("version: 1\nn_points: {}\n{{\n", points.len());
    for p in points {
        let _ = writeln!(text, "{:.3} {:.3}", p[0] + 1.0, p[1] + 1.0);
    }
    text.push_str("}\n");
    std::fs::write(path, text).map_err(|e| DataError::io("write", path, e))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sequence_dir(frames: &[&str], annotated: &[&str]) -> tempfile::TempDir {
        let dir = tempfile::tempdir().unwrap();
        std::fs::create_dir_all(dir.path().join(FRAMES_DIR)).unwrap();
        std::fs::create_dir_all(dir.path().join(ANNOTATIONS_DIR)).unwrap();
        for f in frames {
            image::RgbImage::new(8, 8)
                .save(dir.path().join(FRAMES_DIR).join(format!("{f}.png")))
                .unwrap();
        }
        let points: Vec<[f32; 2]> = (0..68).map(|i| [i as f32, 2.0 * i as f32]).collect();
        for a in annotated {
            write_pts(
                &dir.path().join(ANNOTATIONS_DIR).join(format!("{a}.pts")),
                &points,
            )
            .unwrap();
        }
        dir
    }

    #[test]
    fn frames_are_numbered_and_timed_by_their_names() {
        let dir = sequence_dir(&["000006", "000009"], &["000006", "000009"]);
        let seq = Sequence::open(dir.path(), 30.0).unwrap();
        let numbers: Vec<usize> = seq.frames.iter().map(|f| f.number).collect();
        assert_eq!(numbers, [6, 9]);
        assert!((seq.frames[1].time - 0.1).abs() < 1e-12);
        let points = seq.frames[1].landmarks().unwrap();
        assert_eq!(points.len(), 68);
        assert!((points[3][1] - 6.0).abs() < 1e-4, "{:?}", points[3]);
        assert!(seq.segments.is_none());
    }

    #[test]
    fn unpadded_numbers_sort_numerically_and_other_names_by_position() {
        let dir = sequence_dir(&["10", "9"], &["10", "9"]);
        let seq = Sequence::open(dir.path(), 10.0).unwrap();
        let frames: Vec<(usize, f64)> = seq.frames.iter().map(|f| (f.number, f.time)).collect();
        assert_eq!(frames, [(9, 0.0), (10, 0.1)]);
        let dir = sequence_dir(&["b", "a"], &["a"]);
        let seq = Sequence::open(dir.path(), 10.0).unwrap();
        let numbers: Vec<usize> = seq.frames.iter().map(|f| f.number).collect();
        assert_eq!(numbers, [1, 2]);
        assert!(seq.frames[0].annotation.is_some() && seq.frames[1].annotation.is_none());
    }

    #[test]
    fn segments_give_the_frame_rate_and_labels() {
        let dir = sequence_dir(&["000001", "000002"], &["000001", "000002"]);
        let labels = SegmentsFile {
            fps: 25.0,
            segments: vec![Segment {
                kind: SegmentKind::Still,
                start: 1,
                end: 2,
            }],
        };
        write_segments(dir.path(), &labels).unwrap();
        let seq = Sequence::open(dir.path(), 30.0).unwrap();
        assert_eq!(seq.fps, 25.0);
        assert_eq!(seq.segments, Some(labels.segments));
        std::fs::write(
            dir.path().join(SEGMENTS_FILE),
            "{\"fps\": 0, \"segments\": []}",
        )
        .unwrap();
        let err = Sequence::open(dir.path(), 30.0).unwrap_err().to_string();
        assert!(err.contains(SEGMENTS_FILE) && err.contains("fps"), "{err}");
    }

    #[test]
    fn missing_and_malformed_annotations_name_the_frame_and_file() {
        let dir = sequence_dir(&["000001", "000002", "000003"], &["000001", "000003"]);
        std::fs::write(
            dir.path().join(ANNOTATIONS_DIR).join("000003.pts"),
            "version: 1\nn_points: 68\n{\n1 2\n}\n",
        )
        .unwrap();
        let seq = Sequence::open(dir.path(), 30.0).unwrap();
        let missing = seq.frames[1].landmarks().unwrap_err().to_string();
        assert!(
            missing.contains("frame 2") && missing.contains("000002"),
            "{missing}"
        );
        let malformed = seq.frames[2].landmarks().unwrap_err().to_string();
        assert!(malformed.contains("000003.pts"), "{malformed}");
    }

    #[test]
    fn a_folder_of_sequences_is_found_and_an_empty_one_is_an_error() {
        let root = tempfile::tempdir().unwrap();
        for name in ["b", "a"] {
            let src = sequence_dir(&["000001"], &["000001"]);
            std::fs::rename(src.path(), root.path().join(name)).unwrap();
        }
        let all = Sequence::find_all(root.path(), 30.0).unwrap();
        let names: Vec<&str> = all.iter().map(|s| s.name.as_str()).collect();
        assert_eq!(names, ["a", "b"]);
        let empty = tempfile::tempdir().unwrap();
        let err = Sequence::find_all(empty.path(), 30.0)
            .unwrap_err()
            .to_string();
        assert!(err.contains("neither a sequence folder"), "{err}");
    }
}
