//! Per-stage timings of a run (`track_verbose`): total time, calls and mean per stage, in the
//! order stages were first seen.

use std::fmt;
use std::time::Duration;

/// Accumulated time of one stage.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Stage {
    /// Stage name.
    pub name: &'static str,
    /// Total time.
    pub total: Duration,
    /// Number of timed calls.
    pub calls: usize,
}

impl Stage {
    /// Mean milliseconds per call (0 without calls).
    pub fn mean_ms(&self) -> f64 {
        if self.calls == 0 {
            0.0
        } else {
            self.total.as_secs_f64() * 1e3 / self.calls as f64
        }
    }
}

/// Stage timings of a run.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct StageTimes {
    stages: Vec<Stage>,
}

impl StageTimes {
    /// No stage timed yet.
    pub fn new() -> Self {
        Self::default()
    }

    /// Adds `calls` calls taking `total` to `name`.
    pub fn add(&mut self, name: &'static str, total: Duration, calls: usize) {
        match self.stages.iter_mut().find(|s| s.name == name) {
            Some(stage) => {
                stage.total += total;
                stage.calls += calls;
            }
            None => self.stages.push(Stage { name, total, calls }),
        }
    }

    /// The stages, in the order first added.
    pub fn stages(&self) -> &[Stage] {
        &self.stages
    }

    /// A stage by name.
    pub fn get(&self, name: &str) -> Option<&Stage> {
        self.stages.iter().find(|s| s.name == name)
    }
}

impl fmt::Display for StageTimes {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let parts: Vec<String> = self
            .stages
            .iter()
            .map(|s| format!("{} {:.2} ms x{}", s.name, s.mean_ms(), s.calls))
            .collect();
        f.write_str(&parts.join(", "))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accumulates_by_name_in_first_seen_order() {
        let mut t = StageTimes::new();
        t.add("read", Duration::from_millis(4), 1);
        t.add("landmarks", Duration::from_millis(3), 2);
        t.add("read", Duration::from_millis(2), 1);
        assert_eq!(t.stages().len(), 2);
        assert!((t.get("read").unwrap().mean_ms() - 3.0).abs() < 1e-9);
        assert_eq!(t.to_string(), "read 3.00 ms x2, landmarks 1.50 ms x2");
        assert_eq!(
            Stage {
                name: "x",
                total: Duration::ZERO,
                calls: 0
            }
            .mean_ms(),
            0.0
        );
    }
}
