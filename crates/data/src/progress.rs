//! Progress bars (indicatif) for long parsing, caching and generation; hidden when stderr is
//! not a terminal.

use indicatif::{ProgressBar, ProgressStyle};

/// A progress bar of `len` steps labelled `what`.
pub(crate) fn bar(len: usize, what: &str) -> ProgressBar {
    let bar = ProgressBar::new(len as u64);
    let style = ProgressStyle::with_template("{msg:>14} [{bar:30}] {pos}/{len} ({per_sec}, {eta})")
        .map(|s| s.progress_chars("=> "))
        .unwrap_or_else(|_| ProgressStyle::default_bar());
    bar.set_style(style);
    bar.set_message(what.to_string());
    bar
}
