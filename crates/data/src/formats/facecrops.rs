//! Face / non-face crops written by `--task facecrops`: images under a `1/` folder are faces,
//! under a `0/` folder non-faces; neither has landmarks.

use super::{is_image, sample};
use crate::error::DataError;
use crate::sample::Sample;
use std::path::Path;

/// The class folder name of a face crop.
pub(crate) const FACE_DIR: &str = "1";
/// The class folder name of a non-face crop.
pub(crate) const NON_FACE_DIR: &str = "0";

/// Whether `path` is an image inside a `0/` or `1/` folder.
pub(crate) fn is_crop(path: &Path) -> bool {
    is_image(path) && class_of(path).is_some()
}

fn class_of(path: &Path) -> Option<bool> {
    match path.parent()?.file_name()?.to_str()? {
        FACE_DIR => Some(true),
        NON_FACE_DIR => Some(false),
        _ => None,
    }
}

/// A list line naming a crop.
pub(crate) fn from_listed(list: &Path, line: usize, file: &Path) -> Result<Sample, DataError> {
    from_image(file, Some((list, line)))
}

/// A crop image; its class comes from its folder.
pub(crate) fn from_image(
    image: &Path,
    origin: Option<(&Path, usize)>,
) -> Result<Sample, DataError> {
    let is_face = class_of(image).ok_or_else(|| {
        let message = format!(
            "face crop `{}` is not in a `{FACE_DIR}/` (face) or `{NON_FACE_DIR}/` (non-face) folder",
            image.display()
        );
        match origin {
            Some((list, line)) => DataError::annotation(list, Some(line), message),
            None => DataError::annotation(image, None, message),
        }
    })?;
    let mut s = sample(image.to_path_buf(), None, Vec::new());
    s.is_face = is_face;
    Ok(s)
}
