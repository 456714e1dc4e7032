//! What a checkpoint load transferred, left at initial values, and ignored.

use std::fmt;
use std::path::PathBuf;

/// A checkpoint container.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CheckpointFormat {
    /// The original fdfat `best.pt` (a PyTorch zip pickle, float16 weights cast to float32).
    Pytorch,
    /// The project's own burnpack checkpoint (float32).
    Burnpack,
}

impl fmt::Display for CheckpointFormat {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::Pytorch => "PyTorch checkpoint of the original fdfat",
            Self::Burnpack => "fdfat-rs burnpack checkpoint",
        })
    }
}

/// The outcome of [`crate::load_checkpoint`]: nothing is skipped without being listed here.
#[derive(Debug, Clone, PartialEq)]
pub struct LoadReport {
    /// The checkpoint.
    pub path: PathBuf,
    /// Its container.
    pub format: CheckpointFormat,
    /// Model tensors (parameters and BatchNorm running statistics) loaded from it.
    pub transferred: usize,
    /// Model tensors in total.
    pub model_tensors: usize,
    /// Model tensors of heads the checkpoint lacks, which kept their fresh initial values.
    pub fresh: Vec<String>,
    /// Checkpoint tensors of heads the configuration turns off, by checkpoint name.
    pub ignored: Vec<String>,
    /// BatchNorm `num_batches_tracked` counters in the checkpoint (burn keeps none).
    pub batch_counters: usize,
    /// Repeats of a shared PReLU activation's slope under other blocks' names (loaded once).
    pub shared_copies: usize,
}

/// The optional head a tensor path belongs to, by its first segment.
pub(crate) fn head_of(path: &str) -> Option<&'static str> {
    match path.split('.').next() {
        Some("classifier") => Some("face-cls head"),
        Some("aux") => Some("pose head"),
        _ => None,
    }
}

/// `names` grouped by head, as `face-cls head classifier.* (12 tensors)`.
fn by_head(names: &[String]) -> String {
    let mut groups: Vec<(&str, &str, usize)> = Vec::new();
    for name in names {
        let head = head_of(name).unwrap_or("other");
        let prefix = name.split('.').next().unwrap_or(name);
        match groups.iter_mut().find(|(h, _, _)| *h == head) {
            Some((_, _, count)) => *count += 1,
            None => groups.push((head, prefix, 1)),
        }
    }
    groups
        .iter()
        .map(|(head, prefix, count)| format!("{head} `{prefix}.*` ({count} tensors)"))
        .collect::<Vec<_>>()
        .join(", ")
}

impl fmt::Display for LoadReport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "loaded `{}` ({}): transferred {}/{} tensors",
            self.path.display(),
            self.format,
            self.transferred,
            self.model_tensors
        )?;
        if !self.fresh.is_empty() {
            write!(
                f,
                "\n  kept initial values (not in the checkpoint): {}",
                by_head(&self.fresh)
            )?;
        }
        if !self.ignored.is_empty() {
            write!(
                f,
                "\n  ignored (heads the configuration turns off): {}",
                by_head(&self.ignored)
            )?;
        }
        if self.batch_counters > 0 {
            write!(
                f,
                "\n  ignored {} BatchNorm num_batches_tracked counters (burn keeps none)",
                self.batch_counters
            )?;
        }
        if self.shared_copies > 0 {
            write!(
                f,
                "\n  ignored {} repeats of the shared PReLU slope `act.weight` (loaded once)",
                self.shared_copies
            )?;
        }
        Ok(())
    }
}
