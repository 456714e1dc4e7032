//! The One-Euro filter (Casiez, Roussel and Vogel, CHI 2012) of one coordinate: an exponential
//! low-pass filter whose cutoff frequency rises with the signal's speed, so a still landmark is
//! smoothed strongly and a moving one follows with little lag.
//!
//! At each sample `x` taken `dt` seconds after the previous one:
//!
//! - `alpha(fc) = 1 / (1 + 1 / (2 pi fc dt))`, the smoothing factor of a first-order low-pass
//!   filter with cutoff `fc` Hz sampled every `dt` seconds;
//! - the speed `dx = (x - x̂_prev) / dt` is low-passed at `d_cutoff`: `dx̂ = dx̂_prev + alpha(d_cutoff)
//!   (dx - dx̂_prev)`;
//! - the cutoff is `fc = min_cutoff + beta |dx̂| / scale`, where `scale` (pixels) makes the speed
//!   one of face widths per second, so the same parameters fit small and large faces;
//! - the output is `x̂ = x̂_prev + alpha(fc) (x - x̂_prev)`.
//!
//! Time comes from the input (frame times), never the wall clock, so runs are reproducible.

/// The filter's parameters (`track_one_euro_*` keys).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct OneEuroParams {
    /// Cutoff frequency in Hz of a still signal (lower: smoother when still).
    pub min_cutoff: f64,
    /// Cutoff increase in Hz per face width per second of speed (higher: less lag in motion).
    pub beta: f64,
    /// Cutoff frequency in Hz of the speed estimate.
    pub d_cutoff: f64,
}

impl Default for OneEuroParams {
    /// The defaults of `configs/default.yaml`, tuned on rendered sequences (see the README).
    fn default() -> Self {
        Self {
            min_cutoff: 0.5,
            beta: 15.0,
            d_cutoff: 4.0,
        }
    }
}

/// The smoothing factor of a first-order low-pass filter with `cutoff` Hz sampled every `dt`
/// seconds.
fn alpha(cutoff: f64, dt: f64) -> f64 {
    let tau = 1.0 / (2.0 * std::f64::consts::PI * cutoff);
    1.0 / (1.0 + tau / dt)
}

/// The state of one filtered coordinate.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct OneEuro {
    value: f64,
    speed: f64,
    time: f64,
}

impl OneEuro {
    /// A filter starting at `value`, at rest, at `time` seconds.
    pub fn new(value: f64, time: f64) -> Self {
        Self {
            value,
            speed: 0.0,
            time,
        }
    }

    /// The filtered value.
    pub fn value(&self) -> f64 {
        self.value
    }

    /// Filters `value` sampled at `time` seconds; `scale` is the face width in pixels. A sample
    /// at or before the previous one's time, or a value that is not finite, leaves the filter
    /// unchanged.
    pub fn filter(&mut self, value: f64, time: f64, scale: f64, params: &OneEuroParams) -> f64 {
        let dt = time - self.time;
        if !(dt > 0.0 && value.is_finite()) {
            return self.value;
        }
        let raw_speed = (value - self.value) / dt;
        self.speed += alpha(params.d_cutoff, dt) * (raw_speed - self.speed);
        let cutoff = params.min_cutoff + params.beta * self.speed.abs() / scale.max(1.0);
        self.value += alpha(cutoff, dt) * (value - self.value);
        self.time = time;
        self.value
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const FPS: f64 = 30.0;
    /// Gentle settings: a 1 Hz cutoff, rising by 1 Hz per face width per second.
    const GENTLE: OneEuroParams = OneEuroParams {
        min_cutoff: 1.0,
        beta: 1.0,
        d_cutoff: 1.0,
    };

    fn run(samples: &[f64], params: &OneEuroParams) -> Vec<f64> {
        let mut f = OneEuro::new(samples[0], 0.0);
        samples
            .iter()
            .enumerate()
            .skip(1)
            .map(|(k, &x)| f.filter(x, k as f64 / FPS, 100.0, params))
            .collect()
    }

    #[test]
    fn alpha_is_the_low_pass_factor() {
        // fc = 1 / (2 pi dt) gives tau = dt, so alpha = 1/2
        let dt = 0.01;
        assert!((alpha(1.0 / (2.0 * std::f64::consts::PI * dt), dt) - 0.5).abs() < 1e-12);
        assert!(alpha(1e9, dt) > 0.999 && alpha(1e-9, dt) < 1e-6);
    }

    #[test]
    fn noise_on_a_still_value_is_damped() {
        let params = GENTLE;
        let noisy: Vec<f64> = (0..300)
            .map(|k| 50.0 + if k % 2 == 0 { 1.0 } else { -1.0 })
            .collect();
        let out = run(&noisy, &params);
        let swing = out[200..]
            .windows(2)
            .map(|w| (w[1] - w[0]).abs())
            .fold(0.0, f64::max);
        // a 2 px swing at 15 Hz through a ~1 Hz cutoff: about a tenth remains
        assert!(swing < 0.5, "swing {swing}");
        assert!((out[298] - 50.0).abs() < 1.0);
    }

    #[test]
    fn fast_motion_raises_the_cutoff_and_beta_cuts_the_lag() {
        // a ramp of 3 face widths per second (10 px per frame at 30 fps, scale 100 px)
        let ramp: Vec<f64> = (0..60).map(|k| 10.0 * k as f64).collect();
        let lag = |beta: f64| {
            let params = OneEuroParams { beta, ..GENTLE };
            let out = run(&ramp, &params);
            (ramp[59] - out[58]) / 10.0
        };
        let (slow, fast) = (lag(0.0), lag(5.0));
        assert!(slow > 3.0, "min_cutoff alone trails by {slow} frames");
        // a 1 Hz cutoff at 30 fps trails a ramp by (1 - a) / a frames, a = alpha(1, 1/30)
        let steady = (1.0 - alpha(1.0, 1.0 / FPS)) / alpha(1.0, 1.0 / FPS);
        assert!((slow - steady).abs() < 0.1, "{slow} vs {steady}");
        assert!(
            fast < 0.5 * slow && fast < 1.5,
            "beta 5 trails by {fast} frames"
        );
    }

    #[test]
    fn repeated_times_and_non_finite_values_change_nothing() {
        let params = OneEuroParams::default();
        let mut f = OneEuro::new(1.0, 0.0);
        f.filter(2.0, 0.1, 100.0, &params);
        let before = f;
        assert_eq!(f.filter(9.0, 0.1, 100.0, &params), before.value());
        assert_eq!(f.filter(f64::NAN, 0.2, 100.0, &params), before.value());
        assert_eq!(f, before);
    }
}
