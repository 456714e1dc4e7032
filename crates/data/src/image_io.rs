//! Image decoding with errors naming the file.

use crate::error::DataError;
use image::RgbImage;
use std::path::Path;

/// Decodes an image file (PNG, JPEG, BMP) into packed RGB8; gray, alpha and 16-bit images are
/// converted.
pub fn read_rgb(path: &Path) -> Result<RgbImage, DataError> {
    let reader = image::ImageReader::open(path)
        .map_err(|e| DataError::image(path, e))?
        .with_guessed_format()
        .map_err(|e| DataError::image(path, e))?;
    let decoded = reader.decode().map_err(|e| DataError::image(path, e))?;
    Ok(decoded.into_rgb8())
}
