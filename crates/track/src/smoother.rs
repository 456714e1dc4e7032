//! The landmark smoother of a track (`track_smoother`): none (the measurements as they are),
//! the original's Kalman filter per landmark (one constant-velocity step per update, whatever
//! the time between updates), or a One-Euro filter per coordinate timed by the input.

use crate::kalman::PointFilter;
use crate::one_euro::{OneEuro, OneEuroParams};
use fdfat_config::{Config, Smoother};

/// Which smoother a track uses, with the One-Euro parameters.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct SmootherParams {
    /// The smoother (`track_smoother`).
    pub kind: Smoother,
    /// One-Euro parameters (`track_one_euro_*`), used when `kind` is `one_euro`.
    pub one_euro: OneEuroParams,
}

impl SmootherParams {
    /// The smoother of `cfg` (`track_smoother`, `track_one_euro_*`).
    pub fn from_config(cfg: &Config) -> Self {
        Self {
            kind: cfg.track_smoother,
            one_euro: OneEuroParams {
                min_cutoff: cfg.track_one_euro_min_cutoff,
                beta: cfg.track_one_euro_beta,
                d_cutoff: cfg.track_one_euro_d_cutoff,
            },
        }
    }

    /// `kind` with the default One-Euro parameters.
    pub fn of(kind: Smoother) -> Self {
        Self {
            kind,
            one_euro: OneEuroParams::default(),
        }
    }
}

impl Default for SmootherParams {
    /// The Kalman filter, as the original.
    fn default() -> Self {
        Self::of(Smoother::Kalman)
    }
}

/// The filter state of one track's landmarks.
#[derive(Debug, Clone, PartialEq)]
enum State {
    /// The last measurement.
    None(Vec<[f32; 2]>),
    /// One Kalman filter per landmark.
    Kalman(Vec<PointFilter>),
    /// `[x, y]` One-Euro filters per landmark.
    OneEuro(Vec<[OneEuro; 2]>),
}

/// The smoother of one track's landmarks.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct LandmarkSmoother {
    params: SmootherParams,
    state: State,
}

impl LandmarkSmoother {
    /// A smoother starting at `points`, measured at `time` seconds.
    pub(crate) fn new(params: &SmootherParams, points: &[[f32; 2]], time: f64) -> Self {
        let state = match params.kind {
            Smoother::None => State::None(points.to_vec()),
            Smoother::Kalman => {
                State::Kalman(points.iter().map(|&p| PointFilter::new(p)).collect())
            }
            Smoother::OneEuro => State::OneEuro(
                points
                    .iter()
                    .map(|p| p.map(|v| OneEuro::new(f64::from(v), time)))
                    .collect(),
            ),
        };
        Self {
            params: *params,
            state,
        }
    }

    /// Number of landmarks.
    fn len(&self) -> usize {
        match &self.state {
            State::None(points) => points.len(),
            State::Kalman(filters) => filters.len(),
            State::OneEuro(filters) => filters.len(),
        }
    }

    /// Takes in `points` measured at `time` seconds on a face `scale` pixels wide. A
    /// measurement with another number of points restarts the smoother there.
    pub(crate) fn update(&mut self, points: &[[f32; 2]], time: f64, scale: f32) {
        if self.len() != points.len() {
            *self = Self::new(&self.params, points, time);
            return;
        }
        match &mut self.state {
            State::None(last) => last.copy_from_slice(points),
            State::Kalman(filters) => {
                for (filter, &p) in filters.iter_mut().zip(points) {
                    filter.step(p);
                }
            }
            State::OneEuro(filters) => {
                let params = &self.params.one_euro;
                for (pair, p) in filters.iter_mut().zip(points) {
                    for (filter, &v) in pair.iter_mut().zip(p) {
                        filter.filter(f64::from(v), time, f64::from(scale), params);
                    }
                }
            }
        }
    }

    /// The smoothed landmarks.
    pub(crate) fn points(&self) -> Vec<[f32; 2]> {
        match &self.state {
            State::None(points) => points.clone(),
            State::Kalman(filters) => filters.iter().map(PointFilter::position).collect(),
            State::OneEuro(filters) => filters
                .iter()
                .map(|pair| pair.map(|f| f.value() as f32))
                .collect(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Mean frame-to-frame motion of the smoothed points of a face 500 px wide over frames
    /// alternating +-1 px about a fixed point, after a 60-frame settling period.
    fn still_motion(kind: Smoother) -> f32 {
        let mut s = LandmarkSmoother::new(&SmootherParams::of(kind), &[[10.0, 10.0]], 0.0);
        let mut last = s.points()[0];
        let mut total = 0.0;
        for k in 1..=120 {
            let noise = if k % 2 == 0 { 1.0 } else { -1.0 };
            s.update(&[[10.0 + noise, 10.0]], k as f64 / 30.0, 500.0);
            let now = s.points()[0];
            if k > 60 {
                total += (now[0] - last[0]).abs();
            }
            last = now;
        }
        total / 60.0
    }

    #[test]
    fn each_smoother_damps_noise_as_designed() {
        assert!((still_motion(Smoother::None) - 2.0).abs() < 1e-6);
        assert!(still_motion(Smoother::Kalman) < 1.0);
        assert!(still_motion(Smoother::OneEuro) < 0.4);
    }

    #[test]
    fn a_new_point_count_restarts_the_smoother() {
        for kind in [Smoother::None, Smoother::Kalman, Smoother::OneEuro] {
            let mut s = LandmarkSmoother::new(&SmootherParams::of(kind), &[[0.0, 0.0]], 0.0);
            s.update(&[[5.0, 5.0], [7.0, 7.0]], 0.1, 100.0);
            assert_eq!(s.points(), vec![[5.0, 5.0], [7.0, 7.0]], "{kind}");
        }
    }
}
