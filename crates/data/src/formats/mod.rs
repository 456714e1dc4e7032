//! Annotation formats: each turns one split entry (a list line or a file found in a split
//! folder) into a [`Sample`](crate::Sample).

pub(crate) mod facecrops;
pub(crate) mod facesynthetics;
pub(crate) mod numbers;
pub(crate) mod pts;
pub(crate) mod wflw;

use crate::error::DataError;
use crate::sample::{Pose, Sample};
use fdfat_config::DataFormat;
use std::collections::HashMap;
use std::path::{Path, PathBuf};

/// One unit of parsing work, in split order.
#[derive(Debug, Clone)]
pub(crate) enum Entry {
    /// A list line naming a file (image or annotation) relative to the dataset root.
    Listed {
        /// The list file.
        list: PathBuf,
        /// 1-based line.
        line: usize,
        /// The file it names, resolved against the root.
        file: PathBuf,
    },
    /// An annotation file (or, for face crops, an image) found in a split folder.
    Found(PathBuf),
    /// A WFLW list line (the whole line is the annotation).
    WflwLine {
        /// The list file.
        list: PathBuf,
        /// 1-based line.
        line: usize,
        /// The line text.
        text: String,
    },
}

/// What a parser needs besides the entry.
pub(crate) struct ParseContext<'a> {
    /// Dataset root (`base_path`).
    pub root: &'a Path,
    /// Number of points of the dataset's scheme.
    pub num_points: usize,
    /// True poses by image path relative to the root (`poses.txt` of a toy dataset).
    pub poses: &'a HashMap<String, Pose>,
}

/// Whether a file found while walking a split folder is an entry of `format`.
pub(crate) fn is_entry_file(format: DataFormat, path: &Path) -> bool {
    match format {
        DataFormat::FaceSynthetics => facesynthetics::is_annotation(path),
        DataFormat::Ibug300W | DataFormat::Ibug300Vw => pts::is_annotation(path),
        DataFormat::Wflw => path.extension().is_some_and(|e| e == "txt"),
        DataFormat::FaceCrops => facecrops::is_crop(path),
    }
}

/// Parses one entry into a sample, reading the image header for its size.
pub(crate) fn parse(
    format: DataFormat,
    entry: &Entry,
    ctx: &ParseContext,
) -> Result<Sample, DataError> {
    let mut sample = match (format, entry) {
        (_, Entry::WflwLine { list, line, text }) => wflw::parse_line(list, *line, text, ctx)?,
        (DataFormat::Wflw, _) => not_a_list_line(entry)?,
        (DataFormat::FaceSynthetics, Entry::Listed { list, line, file }) => {
            facesynthetics::from_listed(list, *line, file, ctx)?
        }
        (DataFormat::FaceSynthetics, Entry::Found(ann)) => {
            facesynthetics::from_annotation(ann, ctx)?
        }
        (DataFormat::Ibug300W | DataFormat::Ibug300Vw, Entry::Listed { list, line, file }) => {
            pts::from_listed(list, *line, file, ctx)?
        }
        (DataFormat::Ibug300W | DataFormat::Ibug300Vw, Entry::Found(ann)) => {
            pts::from_annotation(ann, ctx)?
        }
        (DataFormat::FaceCrops, Entry::Listed { list, line, file }) => {
            facecrops::from_listed(list, *line, file)?
        }
        (DataFormat::FaceCrops, Entry::Found(image)) => facecrops::from_image(image, None)?,
    };
    sample.image_size = image_size(&sample.image)?;
    Ok(sample)
}

/// A WFLW split resolves into list lines; a single file is not a WFLW sample.
fn not_a_list_line(entry: &Entry) -> Result<Sample, DataError> {
    let path = match entry {
        Entry::Listed { file, .. } | Entry::Found(file) => file.clone(),
        Entry::WflwLine { list, .. } => list.clone(),
    };
    Err(DataError::annotation(
        path,
        None,
        "WFLW samples come from list lines, not from single files",
    ))
}

/// Width and height from the image header, with an error naming a missing or unreadable image.
pub(crate) fn image_size(path: &Path) -> Result<[u32; 2], DataError> {
    if !path.is_file() {
        return Err(DataError::image(path, "file not found"));
    }
    image::image_dimensions(path)
        .map(|(w, h)| [w, h])
        .map_err(|e| DataError::image(path, e))
}

/// A sample skeleton with no size yet (filled by [`parse`]).
pub(crate) fn sample(
    image: PathBuf,
    annotation: Option<PathBuf>,
    landmarks: Vec<[f32; 2]>,
) -> Sample {
    Sample {
        image,
        annotation,
        is_face: !landmarks.is_empty(),
        landmarks,
        image_size: [0, 0],
        face_rect: None,
        attributes: None,
        pose: None,
    }
}

/// The first existing file among `stem` with each of `exts`.
pub(crate) fn with_existing_ext(stem: &Path, exts: &[&str]) -> Option<PathBuf> {
    exts.iter()
        .map(|e| stem.with_extension(e))
        .find(|p| p.is_file())
}

/// Image file extensions the loaders look for, in order.
pub(crate) const IMAGE_EXTS: &[&str] = &["png", "jpg", "jpeg", "PNG", "JPG", "JPEG", "bmp"];

/// Whether a path names an image file by its extension.
pub(crate) fn is_image(path: &Path) -> bool {
    path.extension()
        .and_then(|e| e.to_str())
        .is_some_and(|e| IMAGE_EXTS.contains(&e))
}
