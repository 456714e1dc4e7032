//! The allocator of the training binaries: mimalloc, with the memory it frees kept mapped.
//!
//! A training step allocates and frees every layer's feature maps and gradients (100 KB to
//! 20 MB each). glibc's malloc maps and unmaps blocks that large each time; mimalloc reuses
//! them, but by default returns freed pages to the system once they have been idle a while
//! (`purge_delay`), so later steps faulted them back in and the kernel zeroed every page again
//! (81,000 page faults in the models benchmark against 760 without purging, and about a fifth
//! of the samples `perf` takes in a training step in `clear_page_erms`). [`keep_freed_memory`]
//! turns the purging off.

use std::ffi::c_int;

/// The global allocator the binaries declare.
pub use mimalloc::MiMalloc;

/// `mi_option_purge_delay`: its place in mimalloc's `mi_option_e` (`mimalloc.h`), which
/// `libmimalloc-sys` does not name (a test checks it against `MIMALLOC_PURGE_DELAY`).
const PURGE_DELAY: c_int = 15;

/// Keeps the memory mimalloc frees mapped for reuse (purge delay -1) unless the environment
/// variable `MIMALLOC_PURGE_DELAY` chose a delay; returns whether it changed the setting. Call
/// it first thing in `main`.
pub fn keep_freed_memory() -> bool {
    if std::env::var_os("MIMALLOC_PURGE_DELAY").is_some() {
        return false;
    }
    // SAFETY: setting an option is a plain call into mimalloc, initialised by the first
    // allocation; the binaries call this before starting threads.
    unsafe { libmimalloc_sys::mi_option_set(PURGE_DELAY, -1) };
    true
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The purge delay mimalloc runs with.
    fn purge_delay() -> std::ffi::c_long {
        // SAFETY: reading an option is a plain call into mimalloc.
        unsafe { libmimalloc_sys::mi_option_get(PURGE_DELAY) }
    }

    /// This test's name, to run it again in a child process.
    const NAME: &str = "alloc::tests::the_option_is_the_purge_delay_and_turns_off";

    #[test]
    fn the_option_is_the_purge_delay_and_turns_off() {
        if std::env::var_os("FDFAT_ALLOC_CHILD").is_some() {
            println!("purge_delay={}", purge_delay());
            return;
        }
        // mimalloc reads MIMALLOC_PURGE_DELAY into the option at PURGE_DELAY
        let exe = std::env::current_exe().expect("test binary");
        let child = std::process::Command::new(exe)
            .args(["--exact", NAME, "--nocapture", "--test-threads=1"])
            .env("FDFAT_ALLOC_CHILD", "1")
            .env("MIMALLOC_PURGE_DELAY", "1234")
            .output()
            .expect("child test runs");
        let stdout = String::from_utf8_lossy(&child.stdout);
        assert!(
            stdout.contains("purge_delay=1234"),
            "child printed: {stdout}"
        );
        if keep_freed_memory() {
            assert_eq!(purge_delay(), -1);
        }
    }
}
