//! Which epoch is best (`best_metric`: the validation loss as the original, or the NME) and
//! when a run stops before its last epoch (`patience`, `time`).

use crate::state::TrainState;
use fdfat_config::{BestMetric, Config};
use std::fmt;
use std::time::Duration;

/// Why a run stopped before its last epoch.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum EarlyStop {
    /// `best_metric` has not improved for `patience` epochs.
    Patience {
        /// The metric.
        metric: BestMetric,
        /// Epochs without improvement.
        epochs: usize,
    },
    /// The wall-clock budget (`time`, hours) is spent.
    Time {
        /// The budget in hours.
        hours: f64,
    },
}

impl fmt::Display for EarlyStop {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Patience { metric, epochs } => write!(
                f,
                "val {metric} has not improved for {epochs} epochs (patience)"
            ),
            Self::Time { hours } => write!(f, "the time budget of {hours} h is spent (time)"),
        }
    }
}

/// Scores epochs by `best_metric` and decides early stops.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Judge {
    /// What picks the best epoch.
    pub metric: BestMetric,
    /// Epochs without improvement before stopping (0: never).
    pub patience: usize,
    /// Wall-clock budget (`None`: none).
    pub budget: Option<Duration>,
}

impl Judge {
    /// The rules `cfg` sets.
    pub fn from_config(cfg: &Config) -> Self {
        Self {
            metric: cfg.best_metric,
            patience: cfg.patience,
            budget: (cfg.time > 0.0).then(|| Duration::from_secs_f64(cfg.time * 3600.0)),
        }
    }

    /// The score of a validation (lower is better).
    pub fn score(&self, loss: f64, nme: f64) -> f64 {
        match self.metric {
            BestMetric::Loss => loss,
            BestMetric::Nme => nme,
        }
    }

    /// Whether to stop after the epochs `state` has completed, `elapsed` into this session.
    pub fn stop(&self, state: &TrainState, elapsed: Duration) -> Option<EarlyStop> {
        let stale = state.epoch.saturating_sub(state.best_epoch);
        if self.patience > 0 && stale >= self.patience {
            return Some(EarlyStop::Patience {
                metric: self.metric,
                epochs: stale,
            });
        }
        match self.budget {
            Some(budget) if elapsed >= budget => Some(EarlyStop::Time {
                hours: budget.as_secs_f64() / 3600.0,
            }),
            _ => None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn judge(metric: BestMetric, patience: usize, hours: f64) -> Judge {
        let cfg = fdfat_config::resolve_flags(&[
            ("best_metric", metric.as_str()),
            ("patience", &patience.to_string()),
            ("time", &hours.to_string()),
        ])
        .unwrap();
        Judge::from_config(&cfg)
    }

    #[test]
    fn the_metric_picks_the_score() {
        assert_eq!(judge(BestMetric::Loss, 0, 0.0).score(0.5, 0.1), 0.5);
        assert_eq!(judge(BestMetric::Nme, 0, 0.0).score(0.5, 0.1), 0.1);
    }

    #[test]
    fn patience_counts_epochs_since_the_best() {
        let j = judge(BestMetric::Nme, 3, 0.0);
        let state = |epoch, best_epoch| TrainState {
            epoch,
            best_score: 0.1,
            best_epoch,
        };
        let now = Duration::ZERO;
        assert_eq!(j.stop(&state(5, 3), now), None);
        assert_eq!(
            j.stop(&state(6, 3), now),
            Some(EarlyStop::Patience {
                metric: BestMetric::Nme,
                epochs: 3
            })
        );
        // off by default
        assert_eq!(
            judge(BestMetric::Loss, 0, 0.0).stop(&state(100, 1), now),
            None
        );
    }

    #[test]
    fn the_time_budget_stops_after_the_epoch_that_spends_it() {
        let j = judge(BestMetric::Loss, 0, 0.5);
        let state = TrainState {
            epoch: 2,
            best_score: 0.1,
            best_epoch: 2,
        };
        assert_eq!(j.stop(&state, Duration::from_secs(1799)), None);
        let stop = j.stop(&state, Duration::from_secs(1800)).unwrap();
        assert_eq!(stop, EarlyStop::Time { hours: 0.5 });
        assert!(stop.to_string().contains("0.5 h"));
    }
}
