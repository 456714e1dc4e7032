//! Helpers the benchmarks of fdfat-models, fdfat-kernels and fdfat-infer share (the other two
//! include this file by path): wall-clock timings, their medians and the model configuration
//! the benchmarks run.
#![allow(dead_code, reason = "each bench uses part of the helpers")]

use std::time::{Duration, Instant};

/// Wall times of `runs` calls of `f`.
pub fn timings(runs: usize, mut f: impl FnMut()) -> Vec<Duration> {
    (0..runs)
        .map(|_| {
            let start = Instant::now();
            f();
            start.elapsed()
        })
        .collect()
}

/// The median of `times`; zero when there are none.
pub fn median_of(mut times: Vec<Duration>) -> Duration {
    times.sort();
    times.get(times.len() / 2).copied().unwrap_or_default()
}

/// Median of `runs` timings of `f`, after `warmup` untimed calls.
pub fn median(warmup: usize, runs: usize, mut f: impl FnMut()) -> Duration {
    for _ in 0..warmup {
        f();
    }
    median_of(timings(runs, f))
}

/// `d` in milliseconds.
pub fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1e3
}

/// The configuration of `model` with `activation` and the face classifier.
pub fn config(model: &str, activation: &str) -> fdfat_config::Config {
    fdfat_config::resolve_flags(&[
        ("model", model),
        ("activation", activation),
        ("face_cls", "true"),
    ])
    .expect("valid benchmark configuration")
}
