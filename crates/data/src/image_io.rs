//! Image decoding with errors naming the file. PNG files are decoded row by row with the `png`
//! crate, stopping after the last row a crop needs; other formats go through `image`.

use crate::error::DataError;
use image::RgbImage;
use png::{ColorType, Transformations};
use std::path::Path;

/// Decodes an image file (PNG, JPEG, BMP) into packed RGB8; gray, alpha, palette and 16-bit
/// images are converted.
pub fn read_rgb(path: &Path) -> Result<RgbImage, DataError> {
    let top = read_rgb_top(path, u32::MAX)?;
    RgbImage::from_raw(top.width, top.rows, top.data)
        .ok_or_else(|| DataError::image(path, "decoded size mismatch"))
}

/// The first rows of a decoded image.
pub(crate) struct TopRows {
    /// `width * rows * 3` RGB8 bytes.
    pub data: Vec<u8>,
    /// Image width.
    pub width: u32,
    /// Image height (all rows).
    pub height: u32,
    /// Rows decoded (`min(height, asked)`).
    pub rows: u32,
}

/// Decodes at least the first `rows` rows of an image as RGB8 (a PNG stops there; other formats
/// decode whole).
pub(crate) fn read_rgb_top(path: &Path, rows: u32) -> Result<TopRows, DataError> {
    let bytes = std::fs::read(path).map_err(|e| DataError::image(path, e))?;
    if bytes.starts_with(b"\x89PNG\r\n\x1a\n")
        && let Some(top) = png_top(&bytes, rows).map_err(|e| DataError::image(path, e))?
    {
        return Ok(top);
    }
    let img = image::load_from_memory(&bytes)
        .map_err(|e| DataError::image(path, e))?
        .into_rgb8();
    let (width, height) = img.dimensions();
    Ok(TopRows {
        data: img.into_raw(),
        width,
        height,
        rows: height,
    })
}

/// Row-by-row PNG decoding; `None` for interlaced and palette files (decoded by `image`).
fn png_top(bytes: &[u8], rows: u32) -> Result<Option<TopRows>, String> {
    let text = |e: png::DecodingError| e.to_string();
    let mut decoder = png::Decoder::new(std::io::Cursor::new(bytes));
    decoder.set_transformations(Transformations::normalize_to_color8());
    let mut reader = decoder.read_info().map_err(text)?;
    let info = reader.info();
    if info.interlaced {
        return Ok(None);
    }
    let (width, height) = (info.width, info.height);
    let (color, _) = reader.output_color_type();
    let take = rows.min(height);
    let w = width as usize;
    let mut data = Vec::with_capacity(w * take as usize * 3);
    for _ in 0..take {
        let row = reader
            .next_row()
            .map_err(text)?
            .ok_or("image data ends before the last row")?;
        let px = row.data();
        match color {
            ColorType::Rgb => data.extend_from_slice(&px[..w * 3]),
            ColorType::Rgba => px
                .chunks_exact(4)
                .take(w)
                .for_each(|p| data.extend_from_slice(&p[..3])),
            ColorType::Grayscale => px[..w]
                .iter()
                .for_each(|&g| data.extend_from_slice(&[g, g, g])),
            ColorType::GrayscaleAlpha => px
                .chunks_exact(2)
                .take(w)
                .for_each(|p| data.extend_from_slice(&[p[0]; 3])),
            ColorType::Indexed => return Ok(None),
        }
    }
    Ok(Some(TopRows {
        data,
        width,
        height,
        rows: take,
    }))
}

#[cfg(test)]
mod tests {
    use super::*;
    use image::{DynamicImage, GrayAlphaImage, LumaA, Rgba, RgbaImage};

    #[test]
    fn png_color_types_decode_to_rgb_and_stop_early() {
        let dir = tempfile::tempdir().unwrap();
        let rgba = RgbaImage::from_fn(5, 4, |x, y| Rgba([x as u8 * 10, y as u8 * 20, 7, 128]));
        let gray = GrayAlphaImage::from_fn(5, 4, |x, y| LumaA([(x + y) as u8 * 9, 255]));
        for (name, img) in [
            ("rgba.png", DynamicImage::from(rgba)),
            ("gray.png", DynamicImage::from(gray)),
        ] {
            let path = dir.path().join(name);
            img.save(&path).unwrap();
            let want = img.to_rgb8();
            let full = read_rgb(&path).unwrap();
            assert_eq!(full, want, "{name}");
            let top = read_rgb_top(&path, 2).unwrap();
            assert_eq!((top.width, top.height, top.rows), (5, 4, 2));
            assert_eq!(top.data, want.as_raw()[..5 * 2 * 3].to_vec());
        }
    }
}
