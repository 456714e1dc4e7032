//! A reader for NumPy `.npy` arrays of float32 or float64 in C order (the parity fixtures),
//! returned as float32.
//!
//! ```no_run
//! let inputs = fdfat_models::npy::read_f32("inputs.npy").unwrap();
//! assert_eq!(inputs.shape, vec![6, 3, 96, 96]);
//! ```

use burn::tensor::{Device, Tensor, TensorData};
use std::path::{Path, PathBuf};

const MAGIC: &[u8] = b"\x93NUMPY";

/// A dense array read from a `.npy` file.
#[derive(Debug, Clone, PartialEq)]
pub struct NpyArray {
    /// Dimensions, outermost first.
    pub shape: Vec<usize>,
    /// Elements in C (row-major) order.
    pub data: Vec<f32>,
}

impl NpyArray {
    /// The array as a rank-`D` tensor on `device`; an error when its rank is not `D`.
    pub fn to_tensor<const D: usize>(&self, device: &Device) -> Result<Tensor<D>, NpyError> {
        if self.shape.len() != D {
            return Err(NpyError::Rank {
                expected: D,
                found: self.shape.clone(),
            });
        }
        let data = TensorData::new(self.data.clone(), self.shape.clone());
        Ok(Tensor::from_data(data, device))
    }
}

/// Why a `.npy` file could not be read.
#[derive(Debug, thiserror::Error)]
pub enum NpyError {
    /// The file could not be read.
    #[error("cannot read `{}`: {source}", path.display())]
    Io {
        /// The file.
        path: PathBuf,
        /// The underlying error.
        source: std::io::Error,
    },
    /// The file is not a `.npy` array this reader handles.
    #[error("`{}` is not a readable .npy array: {message}", path.display())]
    Format {
        /// The file.
        path: PathBuf,
        /// What is wrong.
        message: String,
    },
    /// The array has another rank than the caller needs.
    #[error("expected a rank-{expected} array, found shape {found:?}")]
    Rank {
        /// The rank asked for.
        expected: usize,
        /// The array's shape.
        found: Vec<usize>,
    },
}

/// Reads a float32 or float64 little-endian C-order `.npy` file as float32.
pub fn read_f32(path: impl AsRef<Path>) -> Result<NpyArray, NpyError> {
    let path = path.as_ref();
    let bytes = std::fs::read(path).map_err(|source| NpyError::Io {
        path: path.to_path_buf(),
        source,
    })?;
    parse_f32(&bytes).map_err(|message| NpyError::Format {
        path: path.to_path_buf(),
        message,
    })
}

/// Parses the bytes of a `.npy` file (see [`read_f32`]); the error says what is wrong.
pub fn parse_f32(bytes: &[u8]) -> Result<NpyArray, String> {
    let rest = bytes
        .strip_prefix(MAGIC)
        .ok_or("missing the \\x93NUMPY magic")?;
    let (&major, rest) = rest.split_first().ok_or("truncated header")?;
    let rest = rest.get(1..).ok_or("truncated header")?;
    let (header_len, rest) = match major {
        1 => {
            let len = rest.get(..2).ok_or("truncated header")?;
            (u16::from_le_bytes([len[0], len[1]]) as usize, &rest[2..])
        }
        2 | 3 => {
            let len = rest.get(..4).ok_or("truncated header")?;
            (
                u32::from_le_bytes([len[0], len[1], len[2], len[3]]) as usize,
                &rest[4..],
            )
        }
        v => return Err(format!("unsupported format version {v}")),
    };
    let header = rest.get(..header_len).ok_or("truncated header")?;
    let header = std::str::from_utf8(header).map_err(|_| "header is not text")?;
    let body = &rest[header_len..];

    let descr = dict_value(header, "descr")?;
    let fortran = dict_value(header, "fortran_order")?;
    let shape = parse_shape(dict_value(header, "shape")?)?;
    if fortran.trim() != "False" {
        return Err("Fortran-order arrays are not supported".into());
    }
    let count = shape
        .iter()
        .try_fold(1usize, |n, &d| n.checked_mul(d))
        .ok_or("shape overflows")?;
    let width = match descr.trim().trim_matches(['\'', '"']) {
        "<f4" => 4,
        "<f8" => 8,
        other => {
            return Err(format!(
                "dtype `{other}` is not little-endian float32/float64"
            ));
        }
    };
    let needed = count.checked_mul(width).ok_or("shape overflows")?;
    if body.len() != needed {
        return Err(format!(
            "shape {shape:?} needs {needed} data bytes, the file has {}",
            body.len()
        ));
    }
    let data = if width == 4 {
        body.chunks_exact(4)
            .map(|c| f32::from_le_bytes([c[0], c[1], c[2], c[3]]))
            .collect()
    } else {
        body.chunks_exact(8)
            .map(|c| f64::from_le_bytes([c[0], c[1], c[2], c[3], c[4], c[5], c[6], c[7]]) as f32)
            .collect()
    };
    Ok(NpyArray { shape, data })
}

/// The text of `key`'s value in the header dictionary (`{'descr': '<f4', ...}`).
fn dict_value<'a>(header: &'a str, key: &str) -> Result<&'a str, String> {
    let quoted = [format!("'{key}'"), format!("\"{key}\"")];
    let start = quoted
        .iter()
        .find_map(|q| header.find(q.as_str()).map(|i| i + q.len()))
        .ok_or_else(|| format!("header has no `{key}`"))?;
    let value = header[start..]
        .trim_start()
        .strip_prefix(':')
        .ok_or_else(|| format!("header `{key}` has no value"))?
        .trim_start();
    let end = if value.starts_with('(') {
        value.find(')').map(|i| i + 1)
    } else {
        value.find([',', '}'])
    }
    .ok_or_else(|| format!("header `{key}` is not terminated"))?;
    Ok(&value[..end])
}

/// `(6, 3, 96, 96)`, `(6,)` or `()` as dimensions.
fn parse_shape(text: &str) -> Result<Vec<usize>, String> {
    let inner = text
        .trim()
        .strip_prefix('(')
        .and_then(|t| t.strip_suffix(')'))
        .ok_or_else(|| format!("shape `{text}` is not a tuple"))?;
    inner
        .split(',')
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(|s| {
            s.parse()
                .map_err(|_| format!("shape `{text}` has a bad dimension `{s}`"))
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn npy(descr: &str, shape: &str, body: &[u8]) -> Vec<u8> {
        let mut header =
            format!("{{'descr': '{descr}', 'fortran_order': False, 'shape': {shape}, }}");
        while !(MAGIC.len() + 4 + header.len() + 1).is_multiple_of(64) {
            header.push(' ');
        }
        header.push('\n');
        let mut bytes = MAGIC.to_vec();
        bytes.extend([1, 0]);
        bytes.extend((header.len() as u16).to_le_bytes());
        bytes.extend(header.as_bytes());
        bytes.extend(body);
        bytes
    }

    #[test]
    fn reads_float32_and_float64() {
        let f32s: Vec<u8> = [1.5f32, -2.0, 3.25, 0.0, 7.0, 8.0]
            .iter()
            .flat_map(|v| v.to_le_bytes())
            .collect();
        let array = parse_f32(&npy("<f4", "(2, 3)", &f32s)).unwrap();
        assert_eq!(array.shape, vec![2, 3]);
        assert_eq!(array.data, vec![1.5, -2.0, 3.25, 0.0, 7.0, 8.0]);

        let f64s: Vec<u8> = [0.5f64, 9.0].iter().flat_map(|v| v.to_le_bytes()).collect();
        let array = parse_f32(&npy("<f8", "(2,)", &f64s)).unwrap();
        assert_eq!(array.shape, vec![2]);
        assert_eq!(array.data, vec![0.5, 9.0]);
    }

    #[test]
    fn rejects_other_dtypes_and_short_bodies() {
        let err = parse_f32(&npy("<i8", "(1,)", &[0; 8])).unwrap_err();
        assert!(err.contains("<i8"), "{err}");
        let err = parse_f32(&npy("<f4", "(3,)", &[0; 8])).unwrap_err();
        assert!(err.contains("needs 12 data bytes"), "{err}");
        assert!(parse_f32(b"not an npy file").is_err());
    }

    #[test]
    fn rank_is_checked_when_making_a_tensor() {
        let array = NpyArray {
            shape: vec![2, 2],
            data: vec![1.0, 2.0, 3.0, 4.0],
        };
        let device = Device::default();
        assert!(array.to_tensor::<3>(&device).is_err());
        let tensor = array.to_tensor::<2>(&device).unwrap();
        assert_eq!(tensor.dims(), [2, 2]);
    }
}
