//! iBUG `.pts` files (300-W, 300-VW): `version: 1` (or `1.0`), `n_points: 68`, `{`, one `x y`
//! line per point in 1-based pixels, `}`; LF or CRLF. The image is beside the `.pts` (300-W) or
//! in a sibling frame folder (300-VW: `annot/NNNNNN.pts` with `imgs/NNNNNN.jpg`).

use super::numbers::{count_error, finite, point, read_text};
use super::{IMAGE_EXTS, ParseContext, is_image, sample, with_existing_ext};
use crate::error::DataError;
use crate::sample::Sample;
use std::path::{Path, PathBuf};

/// Sibling folders holding the frames of a 300-VW style `annot/` folder.
const FRAME_DIRS: &[&str] = &["imgs", "images", "frames", "img"];
/// Folders holding the `.pts` files of a 300-VW style frame folder.
const ANNOT_DIRS: &[&str] = &["annot", "annots", "annotations"];

/// Whether `path` is a `.pts` file.
pub(crate) fn is_annotation(path: &Path) -> bool {
    path.extension().is_some_and(|e| e == "pts")
}

/// A list line naming an image (its `.pts` is found) or a `.pts` (its image is found).
pub(crate) fn from_listed(
    list: &Path,
    line: usize,
    file: &Path,
    ctx: &ParseContext,
) -> Result<Sample, DataError> {
    if is_annotation(file) {
        if !file.is_file() {
            return Err(DataError::annotation(
                list,
                Some(line),
                format!("annotation `{}` does not exist", file.display()),
            ));
        }
        return from_annotation(file, ctx);
    }
    if !is_image(file) || !file.is_file() {
        return Err(DataError::annotation(
            list,
            Some(line),
            format!(
                "`{}` is neither an existing image nor a .pts file",
                file.display()
            ),
        ));
    }
    let ann = pts_of(file).ok_or_else(|| {
        DataError::annotation(
            list,
            Some(line),
            format!("no .pts annotation found for `{}`", file.display()),
        )
    })?;
    let landmarks = read_pts(&ann, ctx.num_points)?;
    Ok(sample(file.to_path_buf(), Some(ann), landmarks))
}

/// A `.pts` file: its landmarks and the image beside it or in a sibling frame folder.
pub(crate) fn from_annotation(ann: &Path, ctx: &ParseContext) -> Result<Sample, DataError> {
    let image = image_of(ann).ok_or_else(|| {
        DataError::annotation(
            ann,
            None,
            "no image with the same name beside it or in a sibling imgs/ folder",
        )
    })?;
    let landmarks = read_pts(ann, ctx.num_points)?;
    Ok(sample(image, Some(ann.to_path_buf()), landmarks))
}

fn image_of(ann: &Path) -> Option<PathBuf> {
    let stem = ann.with_extension("");
    if let Some(p) = with_existing_ext(&stem, IMAGE_EXTS) {
        return Some(p);
    }
    let name = stem.file_name()?;
    let seq = ann.parent()?.parent()?;
    FRAME_DIRS
        .iter()
        .find_map(|d| with_existing_ext(&seq.join(d).join(name), IMAGE_EXTS))
}

fn pts_of(image: &Path) -> Option<PathBuf> {
    let beside = image.with_extension("pts");
    if beside.is_file() {
        return Some(beside);
    }
    let name = image.file_stem()?;
    let seq = image.parent()?.parent()?;
    ANNOT_DIRS
        .iter()
        .map(|d| seq.join(d).join(name).with_extension("pts"))
        .find(|p| p.is_file())
}

/// Reads a `.pts` file into 0-based pixel points, checking its header and point count.
pub(crate) fn read_pts(path: &Path, expected: usize) -> Result<Vec<[f32; 2]>, DataError> {
    let text = read_text(path)?;
    let mut declared: Option<usize> = None;
    let mut points: Option<Vec<[f32; 2]>> = None;
    let mut closed = false;
    for (i, raw) in text.lines().enumerate() {
        let n = i + 1;
        let line = raw.trim();
        if line.is_empty() {
            continue;
        }
        if closed {
            return Err(DataError::annotation(
                path,
                Some(n),
                "text after the closing `}`",
            ));
        }
        match &mut points {
            None => {
                if line == "{" {
                    points = Some(Vec::with_capacity(declared.unwrap_or(expected)));
                } else if let Some(v) = line.strip_prefix("version:") {
                    finite(v.trim(), path, n)?;
                } else if let Some(v) = line.strip_prefix("n_points:") {
                    let v = v.trim();
                    declared = Some(v.parse().map_err(|_| {
                        DataError::annotation(path, Some(n), format!("`{v}` is not a point count"))
                    })?);
                } else {
                    return Err(DataError::annotation(
                        path,
                        Some(n),
                        format!("expected a `version:`, `n_points:` or `{{` line, found `{line}`"),
                    ));
                }
            }
            Some(pts) => {
                if line == "}" {
                    closed = true;
                } else {
                    let [x, y] = point(line, path, n)?;
                    pts.push([x - 1.0, y - 1.0]);
                }
            }
        }
    }
    let points = points.ok_or_else(|| DataError::annotation(path, None, "no `{` line"))?;
    if !closed {
        return Err(DataError::annotation(path, None, "no closing `}` line"));
    }
    if let Some(d) = declared
        && d != points.len()
    {
        return Err(DataError::annotation(
            path,
            None,
            format!("declares n_points: {d} but lists {} points", points.len()),
        ));
    }
    if points.len() != expected {
        return Err(count_error(path, points.len(), expected));
    }
    Ok(points)
}
