//! The learning-rate schedule, stepped once per epoch as the original steps its
//! `LinearLR(start_factor=1, end_factor=lre_factor, total_iters=epoch)`: optionally after a
//! linear warm-up (`warmup_epochs`), and linear (the original) or cosine (`lr_schedule`).

use fdfat_config::LrSchedule;

/// The learning rate of each epoch.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Schedule {
    /// Peak (and, without warm-up, initial) learning rate.
    pub lr: f64,
    /// Final multiplier, reached at epoch `epochs`.
    pub end_factor: f64,
    /// Epochs of the run.
    pub epochs: usize,
    /// Epochs of linear warm-up: epoch `e < warmup` uses `lr * (e + 1) / (warmup + 1)`.
    pub warmup: usize,
    /// The decay after the warm-up.
    pub kind: LrSchedule,
}

impl Schedule {
    /// The schedule a configuration describes.
    pub fn from_config(cfg: &fdfat_config::Config) -> Self {
        Self {
            lr: cfg.lr,
            end_factor: cfg.lre_factor,
            epochs: cfg.epoch,
            warmup: cfg.warmup_epochs,
            kind: cfg.lr_schedule,
        }
    }

    /// Learning rate used during `epoch` (0-based).
    pub fn lr_at(&self, epoch: usize) -> f64 {
        if epoch < self.warmup {
            return self.lr * (epoch + 1) as f64 / (self.warmup + 1) as f64;
        }
        let span = self.epochs.saturating_sub(self.warmup).max(1);
        let progress = (epoch - self.warmup).min(span) as f64 / span as f64;
        let factor = match self.kind {
            LrSchedule::Linear => 1.0 + (self.end_factor - 1.0) * progress,
            LrSchedule::Cosine => {
                let cosine = (1.0 + (std::f64::consts::PI * progress).cos()) / 2.0;
                self.end_factor + (1.0 - self.end_factor) * cosine
            }
        };
        self.lr * factor
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn schedule(kind: LrSchedule, warmup: usize) -> Schedule {
        Schedule {
            lr: 0.002,
            end_factor: 0.1,
            epochs: 250,
            warmup,
            kind,
        }
    }

    #[test]
    fn decays_linearly_like_torch_linear_lr() {
        let s = schedule(LrSchedule::Linear, 0);
        assert_eq!(s.lr_at(0), 0.002);
        // torch: factor after 125 scheduler steps = 1 + (0.1 - 1) * 125 / 250 = 0.55.
        assert!((s.lr_at(125) - 0.0011).abs() < 1e-12);
        assert!((s.lr_at(249) - 0.002 * (1.0 - 0.9 * 249.0 / 250.0)).abs() < 1e-12);
        assert!((s.lr_at(400) - 0.0002).abs() < 1e-12);
    }

    #[test]
    fn cosine_starts_at_lr_halves_the_way_midway_and_ends_at_the_factor() {
        let s = schedule(LrSchedule::Cosine, 0);
        assert_eq!(s.lr_at(0), 0.002);
        assert!((s.lr_at(125) - 0.0011).abs() < 1e-12);
        assert!((s.lr_at(250) - 0.0002).abs() < 1e-12);
        // slower than linear early, faster late
        let linear = schedule(LrSchedule::Linear, 0);
        assert!(s.lr_at(50) > linear.lr_at(50) && s.lr_at(200) < linear.lr_at(200));
    }

    #[test]
    fn warm_up_ramps_to_lr_then_the_schedule_starts() {
        let s = schedule(LrSchedule::Cosine, 3);
        let ramp: Vec<f64> = (0..4).map(|e| s.lr_at(e) / 0.002).collect();
        assert!((ramp[0] - 0.25).abs() < 1e-12 && (ramp[2] - 0.75).abs() < 1e-12);
        assert_eq!(s.lr_at(3), 0.002);
        assert!((s.lr_at(250) - 0.0002).abs() < 1e-12);
    }
}
