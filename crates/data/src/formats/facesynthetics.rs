//! Microsoft FaceSynthetics: `NNNNNN.png` with `NNNNNN_ldmks.txt` (one `x y` line per point,
//! 0-based pixels). A listed image without `_ldmks.txt` is a non-face sample, as in the original.

use super::numbers::{count_error, point, read_text};
use super::{IMAGE_EXTS, ParseContext, sample, with_existing_ext};
use crate::error::DataError;
use crate::sample::Sample;
use std::path::{Path, PathBuf};

const SUFFIX: &str = "_ldmks.txt";

/// Whether `path` is a `_ldmks.txt` annotation.
pub(crate) fn is_annotation(path: &Path) -> bool {
    path.file_name()
        .and_then(|n| n.to_str())
        .is_some_and(|n| n.ends_with(SUFFIX))
}

/// `dir/NNNNNN.png` -> `dir/NNNNNN_ldmks.txt`.
pub(crate) fn annotation_of(image: &Path) -> PathBuf {
    let stem = image.file_stem().unwrap_or_default().to_string_lossy();
    image.with_file_name(format!("{stem}{SUFFIX}"))
}

/// A list line: the image, with its landmarks when `_ldmks.txt` exists (else a non-face).
pub(crate) fn from_listed(
    list: &Path,
    line: usize,
    file: &Path,
    ctx: &ParseContext,
) -> Result<Sample, DataError> {
    if is_annotation(file) {
        return from_annotation(file, ctx);
    }
    if !file.is_file() {
        return Err(DataError::annotation(
            list,
            Some(line),
            format!("image `{}` does not exist", file.display()),
        ));
    }
    let ann = annotation_of(file);
    let landmarks = if ann.is_file() {
        read_landmarks(&ann, ctx.num_points)?
    } else {
        Vec::new()
    };
    let has = !landmarks.is_empty();
    let mut s = sample(file.to_path_buf(), has.then_some(ann), landmarks);
    s.pose = pose_of(file, ctx);
    Ok(s)
}

/// An annotation found in a split folder: its image is beside it (`.png` or `.jpg`).
pub(crate) fn from_annotation(ann: &Path, ctx: &ParseContext) -> Result<Sample, DataError> {
    let name = ann.file_name().unwrap_or_default().to_string_lossy();
    let stem = ann.with_file_name(name.trim_end_matches(SUFFIX));
    let image = with_existing_ext(&stem, IMAGE_EXTS).ok_or_else(|| {
        DataError::annotation(
            ann,
            None,
            "no image (.png/.jpg) with the same name beside it",
        )
    })?;
    let landmarks = read_landmarks(ann, ctx.num_points)?;
    let mut s = sample(image.clone(), Some(ann.to_path_buf()), landmarks);
    s.pose = pose_of(&image, ctx);
    Ok(s)
}

/// Reads `n` lines of `x y` (CRLF and trailing blank lines accepted).
pub(crate) fn read_landmarks(path: &Path, n: usize) -> Result<Vec<[f32; 2]>, DataError> {
    let text = read_text(path)?;
    let mut points = Vec::with_capacity(n);
    for (i, line) in text.lines().enumerate() {
        if line.trim().is_empty() {
            continue;
        }
        points.push(point(line, path, i + 1)?);
    }
    if points.len() != n {
        return Err(count_error(path, points.len(), n));
    }
    Ok(points)
}

fn pose_of(image: &Path, ctx: &ParseContext) -> Option<crate::sample::Pose> {
    if ctx.poses.is_empty() {
        return None;
    }
    let rel = image.strip_prefix(ctx.root).unwrap_or(image);
    ctx.poses
        .get(&rel.to_string_lossy().replace('\\', "/"))
        .copied()
}
