//! A split of the data YAML resolved into parsing entries: a list file (one name per line,
//! relative to `base_path`) or a folder (every annotated file under it, recursively, sorted).

use crate::error::DataError;
use crate::formats::{Entry, is_entry_file};
use crate::rng::Fnv;
use fdfat_config::DataFormat;
use std::path::{Path, PathBuf};

/// The entries of a split and a fingerprint of what they were read from.
pub(crate) struct SplitEntries {
    /// The entries, in split order.
    pub entries: Vec<Entry>,
    /// Changes whenever the list file (or the folder's annotation files) change.
    pub fingerprint: u64,
}

/// Resolves a split path (list file or folder) of a dataset rooted at `root`.
pub(crate) fn resolve(
    root: &Path,
    split: &Path,
    format: DataFormat,
) -> Result<SplitEntries, DataError> {
    let mut hash = Fnv::new();
    let entries = if split.is_dir() {
        let mut files = Vec::new();
        walk(split, format, &mut files)?;
        files.sort();
        let mut entries = Vec::with_capacity(files.len());
        for file in files {
            hash.write(file.to_string_lossy().as_bytes());
            let meta = std::fs::metadata(&file).map_err(|e| DataError::io("read", &file, e))?;
            hash.write(&meta.len().to_le_bytes());
            if let Ok(modified) = meta.modified()
                && let Ok(since) = modified.duration_since(std::time::UNIX_EPOCH)
            {
                hash.write(&since.as_nanos().to_le_bytes());
            }
            if format == DataFormat::Wflw {
                entries.extend(list_entries(root, &file, format, &mut hash)?);
            } else {
                entries.push(Entry::Found(file));
            }
        }
        entries
    } else {
        list_entries(root, split, format, &mut hash)?
    };
    hash.write(root.to_string_lossy().as_bytes());
    hash.write(split.to_string_lossy().as_bytes());
    hash.write(format!("{format:?}").as_bytes());
    if entries.is_empty() {
        let hint = if split.is_dir() {
            format!(" (no {format:?} annotation file under this folder)")
        } else {
            " (the list file has no non-empty line)".to_string()
        };
        return Err(DataError::EmptySplit {
            path: split.to_path_buf(),
            hint,
        });
    }
    Ok(SplitEntries {
        entries,
        fingerprint: hash.finish(),
    })
}

/// The entries of one list file; blank lines and `#` comments are skipped, CRLF accepted.
fn list_entries(
    root: &Path,
    list: &Path,
    format: DataFormat,
    hash: &mut Fnv,
) -> Result<Vec<Entry>, DataError> {
    let bytes = std::fs::read(list).map_err(|e| DataError::io("read", list, e))?;
    hash.write(&bytes);
    let text = String::from_utf8(bytes).map_err(|e| {
        DataError::annotation(list, None, format!("list file is not UTF-8 text: {e}"))
    })?;
    let mut entries = Vec::new();
    for (i, raw) in text.lines().enumerate() {
        let line = raw.trim();
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        let entry = if format == DataFormat::Wflw {
            Entry::WflwLine {
                list: list.to_path_buf(),
                line: i + 1,
                text: line.to_string(),
            }
        } else {
            Entry::Listed {
                list: list.to_path_buf(),
                line: i + 1,
                file: root.join(line),
            }
        };
        entries.push(entry);
    }
    Ok(entries)
}

fn walk(dir: &Path, format: DataFormat, out: &mut Vec<PathBuf>) -> Result<(), DataError> {
    let read = std::fs::read_dir(dir).map_err(|e| DataError::io("list", dir, e))?;
    for item in read {
        let item = item.map_err(|e| DataError::io("list", dir, e))?;
        let path = item.path();
        if item.file_name().to_string_lossy().starts_with('.') {
            continue;
        }
        let kind = item
            .file_type()
            .map_err(|e| DataError::io("list", &path, e))?;
        if kind.is_dir() || (kind.is_symlink() && path.is_dir()) {
            walk(&path, format, out)?;
        } else if is_entry_file(format, &path) {
            out.push(path);
        }
    }
    Ok(())
}
