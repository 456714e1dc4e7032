//! Summary statistics of per-image NME values: mean, median, standard deviation, failure rate,
//! the cumulative error distribution (CED) and the area under it (AUC).
//!
//! Definitions (`e_1 .. e_N` are the per-image NMEs, `t` the threshold):
//! - median: the middle value of the sorted errors, the mean of the two middle values when `N`
//!   is even (as `numpy.median`);
//! - std: the population standard deviation, `sqrt(mean((e - mean)^2))` (as `numpy.std`);
//! - `FR@t = #{e_i > t} / N`: an image whose NME equals `t` is not a failure;
//! - `CED(x) = #{e_i <= x} / N`, a right-continuous step function;
//! - `AUC@t = (1/t) * integral of CED(x) dx over [0, t]`, integrated **exactly** on the step
//!   function: each image contributes `max(0, t - e_i)`, so `AUC@t = mean_i max(0, 1 - e_i / t)`.
//!   This is the limit of the trapezoid rule on an ever finer grid; the usual grid-based code
//!   (trapezoid on steps of `h`) differs from it by at most `h / (2t)`.

use serde::{Deserialize, Serialize};

/// Arithmetic mean; `None` for an empty slice.
pub fn mean(values: &[f64]) -> Option<f64> {
    (!values.is_empty()).then(|| values.iter().sum::<f64>() / values.len() as f64)
}

/// Median (mean of the two middle values for an even count); `None` for an empty slice.
pub fn median(values: &[f64]) -> Option<f64> {
    let sorted = sorted(values);
    let n = sorted.len();
    match n {
        0 => None,
        _ if n % 2 == 1 => Some(sorted[n / 2]),
        _ => Some((sorted[n / 2 - 1] + sorted[n / 2]) / 2.0),
    }
}

/// The `q`-quantile (`q` in `[0, 1]`) by linear interpolation between the sorted values at
/// positions `q (N - 1)` (as `numpy.percentile`'s default); `None` for an empty slice.
pub fn percentile(values: &[f64], q: f64) -> Option<f64> {
    let sorted = sorted(values);
    let last = sorted.len().checked_sub(1)?;
    let pos = q.clamp(0.0, 1.0) * last as f64;
    let (lo, hi) = (pos.floor() as usize, pos.ceil() as usize);
    Some(sorted[lo] + (sorted[hi] - sorted[lo]) * (pos - lo as f64))
}

/// Population standard deviation (`ddof = 0`); `None` for an empty slice.
pub fn std_dev(values: &[f64]) -> Option<f64> {
    let m = mean(values)?;
    let var = values.iter().map(|v| (v - m) * (v - m)).sum::<f64>() / values.len() as f64;
    Some(var.sqrt())
}

/// Failure rate: the fraction of errors strictly above `threshold`; `None` for an empty slice.
pub fn failure_rate(errors: &[f64], threshold: f64) -> Option<f64> {
    let failures = errors.iter().filter(|&&e| e > threshold).count();
    (!errors.is_empty()).then(|| failures as f64 / errors.len() as f64)
}

/// Area under the CED from 0 to `threshold`, divided by `threshold`, integrated exactly on the
/// step function (see the module documentation); `None` for an empty slice or a threshold that
/// is not positive.
pub fn auc(errors: &[f64], threshold: f64) -> Option<f64> {
    if threshold <= 0.0 {
        return None;
    }
    mean(
        &errors
            .iter()
            .map(|e| (1.0 - e / threshold).max(0.0))
            .collect::<Vec<_>>(),
    )
}

/// One corner of the CED step function: `fraction` of the images have an NME `<= nme`.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct CedPoint {
    /// NME (fraction of the normalising distance).
    pub nme: f64,
    /// Fraction of images with an error at most `nme`, in `[0, 1]`.
    pub fraction: f64,
}

/// The CED as its step corners: `(0, CED(0))`, then one point per distinct error value in
/// increasing order, ending at `(max error, 1)`. Empty for an empty slice.
pub fn ced(errors: &[f64]) -> Vec<CedPoint> {
    let sorted = sorted(errors);
    if sorted.is_empty() {
        return Vec::new();
    }
    let n = sorted.len() as f64;
    let at_zero = sorted.iter().take_while(|&&e| e <= 0.0).count();
    let mut points = vec![CedPoint {
        nme: 0.0,
        fraction: at_zero as f64 / n,
    }];
    for (i, &e) in sorted.iter().enumerate().skip(at_zero) {
        let is_last_of_value = sorted.get(i + 1).is_none_or(|&next| next > e);
        if is_last_of_value {
            points.push(CedPoint {
                nme: e,
                fraction: (i + 1) as f64 / n,
            });
        }
    }
    points
}

fn sorted(values: &[f64]) -> Vec<f64> {
    let mut sorted = values.to_vec();
    sorted.sort_by(f64::total_cmp);
    sorted
}

#[cfg(test)]
mod tests {
    use super::*;

    fn close(a: f64, b: f64) -> bool {
        (a - b).abs() < 1e-12
    }

    #[test]
    fn mean_median_std_by_hand() {
        let e = [0.04, 0.02, 0.10, 0.06];
        assert!(close(mean(&e).unwrap(), 0.055));
        // sorted 0.02 0.04 0.06 0.10: even count, mean of 0.04 and 0.06
        assert!(close(median(&e).unwrap(), 0.05));
        assert!(close(median(&[0.3, 0.1, 0.2]).unwrap(), 0.2));
        // deviations -0.015 -0.035 0.045 0.005: squares sum 0.0035, / 4 = 0.000875
        assert!(close(std_dev(&e).unwrap(), 0.000875f64.sqrt()));
        assert_eq!(mean(&[]), None);
        assert_eq!(median(&[]), None);
        assert_eq!(std_dev(&[]), None);
    }

    #[test]
    fn percentiles_interpolate_between_sorted_values() {
        let v = [4.0, 1.0, 3.0, 2.0, 5.0];
        assert!(close(percentile(&v, 0.5).unwrap(), 3.0));
        // position 0.95 * 4 = 3.8: 4 + 0.8 * (5 - 4)
        assert!(close(percentile(&v, 0.95).unwrap(), 4.8));
        assert!(close(percentile(&v, 0.0).unwrap(), 1.0));
        assert!(close(percentile(&[7.0], 0.95).unwrap(), 7.0));
        assert_eq!(percentile(&[], 0.5), None);
    }

    #[test]
    fn failure_rate_is_strictly_above_the_threshold() {
        let e = [0.05, 0.10, 0.12, 0.30];
        // 0.10 equals the threshold: not a failure
        assert!(close(failure_rate(&e, 0.10).unwrap(), 0.5));
        assert!(close(failure_rate(&e, 0.08).unwrap(), 0.75));
        assert_eq!(failure_rate(&[], 0.1), None);
    }

    #[test]
    fn auc_is_the_exact_area_under_the_step_ced() {
        // t = 0.1: contributions 1 - e/t = 0.8, 0.5, 0, 0 -> mean 0.325
        let e = [0.02, 0.05, 0.10, 0.30];
        assert!(close(auc(&e, 0.10).unwrap(), 0.325));
        // all perfect -> 1, all failures -> 0
        assert!(close(auc(&[0.0, 0.0], 0.1).unwrap(), 1.0));
        assert!(close(auc(&[0.2, 0.5], 0.1).unwrap(), 0.0));
        assert_eq!(auc(&e, 0.0), None);
        assert_eq!(auc(&[], 0.1), None);
    }

    #[test]
    fn auc_matches_a_fine_trapezoid_integration_of_the_ced() {
        let e = [0.013, 0.021, 0.047, 0.066, 0.081, 0.094, 0.12];
        let t = 0.1;
        let steps = 100_000;
        let h = t / steps as f64;
        let cdf = |x: f64| e.iter().filter(|&&v| v <= x).count() as f64 / e.len() as f64;
        let trapezoid: f64 = (0..steps)
            .map(|k| 0.5 * h * (cdf(k as f64 * h) + cdf((k + 1) as f64 * h)))
            .sum::<f64>()
            / t;
        let exact = auc(&e, t).unwrap();
        assert!(
            (trapezoid - exact).abs() <= h / (2.0 * t) + 1e-12,
            "{trapezoid} vs {exact}"
        );
    }

    #[test]
    fn ced_lists_the_step_corners() {
        let points = ced(&[0.05, 0.02, 0.05, 0.0]);
        let expected = [(0.0, 0.25), (0.02, 0.5), (0.05, 1.0)];
        assert_eq!(points.len(), expected.len());
        for (p, (x, y)) in points.iter().zip(expected) {
            assert!(close(p.nme, x) && close(p.fraction, y), "{p:?}");
        }
        assert!(ced(&[]).is_empty());
    }
}
