//! Number parsing for annotation text, with errors naming file and line.

use crate::error::DataError;
use std::path::Path;

/// Parses a finite number, or an error naming `path:line`.
pub(crate) fn finite(text: &str, path: &Path, line: usize) -> Result<f32, DataError> {
    match text.parse::<f32>() {
        Ok(v) if v.is_finite() => Ok(v),
        Ok(_) => Err(DataError::annotation(
            path,
            Some(line),
            format!("`{text}` is not a finite number"),
        )),
        Err(_) => Err(DataError::annotation(
            path,
            Some(line),
            format!("`{text}` is not a number"),
        )),
    }
}

/// Parses a line holding exactly one `x y` pair.
pub(crate) fn point(text: &str, path: &Path, line: usize) -> Result<[f32; 2], DataError> {
    let mut fields = text.split_whitespace();
    match (fields.next(), fields.next(), fields.next()) {
        (Some(x), Some(y), None) => Ok([finite(x, path, line)?, finite(y, path, line)?]),
        _ => Err(DataError::annotation(
            path,
            Some(line),
            format!("expected two numbers `x y`, found `{}`", text.trim()),
        )),
    }
}

/// Reads a text file, naming it in the error.
pub(crate) fn read_text(path: &Path) -> Result<String, DataError> {
    std::fs::read_to_string(path).map_err(|e| DataError::io("read", path, e))
}

/// An error for a wrong number of points.
pub(crate) fn count_error(path: &Path, found: usize, expected: usize) -> DataError {
    DataError::annotation(
        path,
        None,
        format!("has {found} points, the landmark scheme expects {expected}"),
    )
}
