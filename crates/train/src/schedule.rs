//! The learning-rate schedule of the original: `LinearLR(start_factor=1, end_factor=lre_factor,
//! total_iters=epoch)` stepped once per epoch.

/// Linear decay from `lr` (epoch 0) towards `lr * end_factor` (reached at epoch `epochs`).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct LinearSchedule {
    /// Initial learning rate.
    pub lr: f64,
    /// Final multiplier.
    pub end_factor: f64,
    /// Epochs over which the factor moves from 1 to `end_factor`.
    pub epochs: usize,
}

impl LinearSchedule {
    /// The schedule a configuration describes.
    pub fn from_config(cfg: &fdfat_config::Config) -> Self {
        Self {
            lr: cfg.lr,
            end_factor: cfg.lre_factor,
            epochs: cfg.epoch,
        }
    }

    /// Learning rate used during `epoch` (0-based).
    pub fn lr_at(&self, epoch: usize) -> f64 {
        let progress = epoch.min(self.epochs) as f64 / self.epochs.max(1) as f64;
        self.lr * (1.0 + (self.end_factor - 1.0) * progress)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn decays_linearly_like_torch_linear_lr() {
        let s = LinearSchedule {
            lr: 0.002,
            end_factor: 0.1,
            epochs: 250,
        };
        assert_eq!(s.lr_at(0), 0.002);
        // torch: factor after 125 scheduler steps = 1 + (0.1 - 1) * 125 / 250 = 0.55.
        assert!((s.lr_at(125) - 0.0011).abs() < 1e-12);
        assert!((s.lr_at(249) - 0.002 * (1.0 - 0.9 * 249.0 / 250.0)).abs() < 1e-12);
        assert!((s.lr_at(400) - 0.0002).abs() < 1e-12);
    }
}
