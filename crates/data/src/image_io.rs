//! Image decoding with errors naming the file. PNG files are decoded with the `png` crate (the
//! rows a crop needs are kept); other formats go through `image`.

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
    if bytes.starts_with(&[0xFF, 0xD8]) && !jpeg_is_complete(&bytes) {
        // the `image` crate decodes a cut JPEG without a word, the missing part grey (PIL, the
        // original's reader, refuses it)
        return Err(DataError::image(
            path,
            "the JPEG is truncated: its scan data has no end-of-image marker",
        ));
    }
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

/// Whether a JPEG's last scan (`FF DA`) is followed by the end-of-image marker (`FF D9`).
/// Entropy-coded data never holds `FF D9` (a data `FF` is followed by `00` or a restart
/// marker), so a file cut inside its scan data has none after its last scan.
fn jpeg_is_complete(bytes: &[u8]) -> bool {
    let last_scan = bytes.windows(2).rposition(|w| w == [0xFF, 0xDA]);
    last_scan.is_some_and(|start| bytes[start..].windows(2).any(|w| w == [0xFF, 0xD9]))
}

/// PNG decoding with the `png` crate, whole frames at once (twice as fast as row by row, even
/// for a crop that needs only the top rows), keeping the first `rows` rows; `None` for palette
/// files (decoded by `image`).
fn png_top(bytes: &[u8], rows: u32) -> Result<Option<TopRows>, String> {
    let text = |e: png::DecodingError| e.to_string();
    let mut decoder = png::Decoder::new(std::io::Cursor::new(bytes));
    decoder.set_transformations(Transformations::normalize_to_color8());
    let mut reader = decoder.read_info().map_err(text)?;
    let (width, height) = (reader.info().width, reader.info().height);
    let (color, _) = reader.output_color_type();
    if color == ColorType::Indexed {
        return Ok(None);
    }
    let size = reader
        .output_buffer_size()
        .ok_or("the image is too large to decode")?;
    let mut frame = vec![0u8; size];
    let info = reader.next_frame(&mut frame).map_err(text)?;
    let take = rows.min(height);
    let (w, line) = (width as usize, info.line_size);
    let lines = frame.chunks_exact(line).take(take as usize);
    let data = match color {
        ColorType::Rgb => {
            frame.truncate(line * take as usize);
            frame
        }
        ColorType::Rgba => lines
            .flat_map(|row| {
                row[..w * 4]
                    .chunks_exact(4)
                    .flat_map(|p| [p[0], p[1], p[2]])
            })
            .collect(),
        ColorType::Grayscale => lines
            .flat_map(|row| row[..w].iter().flat_map(|&g| [g, g, g]))
            .collect(),
        ColorType::GrayscaleAlpha => lines
            .flat_map(|row| row[..w * 2].chunks_exact(2).flat_map(|p| [p[0]; 3]))
            .collect(),
        ColorType::Indexed => unreachable!("palette files returned above"),
    };
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
    fn png_color_types_decode_to_rgb_and_keep_the_rows_asked() {
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

    #[test]
    fn a_jpeg_cut_short_is_an_error_naming_it() {
        let dir = tempfile::tempdir().unwrap();
        let noise = image::RgbImage::from_fn(96, 96, |x, y| {
            let v = (x * 7919 + y * 104_729) % 251;
            image::Rgb([v as u8, (v * 3 % 256) as u8, (v * 5 % 256) as u8])
        });
        let path = dir.path().join("face.jpg");
        noise.save(&path).unwrap();
        let bytes = std::fs::read(&path).unwrap();
        assert!(bytes.len() > 3000, "{} bytes", bytes.len());
        assert_eq!(read_rgb(&path).unwrap().dimensions(), (96, 96));
        // the first 3,000 bytes: `image` alone decodes them, half grey
        let cut = dir.path().join("cut.jpg");
        std::fs::write(&cut, &bytes[..3000]).unwrap();
        assert!(image::load_from_memory(&bytes[..3000]).is_ok());
        let err = read_rgb(&cut).unwrap_err().to_string();
        assert!(
            err.contains("cut.jpg") && err.contains("truncated"),
            "{err}"
        );
        // trailing bytes after the end-of-image marker are fine
        let padded = dir.path().join("padded.jpg");
        std::fs::write(&padded, [&bytes[..], b"trailer"].concat()).unwrap();
        assert!(read_rgb(&padded).is_ok());
    }
}
