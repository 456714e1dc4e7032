//! Head-pose buckets of `|yaw|` from the `pose_buckets` edges.
//!
//! Edges `[e1, ..., ek]` (increasing, positive degrees) give the buckets `[0, e1]`, `(e1, e2]`,
//! ..., `(ek, 90]`: each bucket is open at its low end and closed at its high end, except the
//! first, which also holds `|yaw| = 0`. The last bucket ends at 90 degrees, the largest `|yaw|`
//! the pose convention returns (see [`crate::pose`]); no bucket is added above an edge `>= 90`.
//! The default `[30, 40]` gives the original fdfat table, `|yaw| <= 30`, `30 < |yaw| <= 40`,
//! `|yaw| > 40`; `[30, 60, 90]` gives the AFLW2000-3D table `[0, 30]`, `(30, 60]`, `(60, 90]`.

use crate::error::EvalError;
use serde::{Deserialize, Serialize};

/// The largest `|yaw|` in degrees.
pub const MAX_ABS_YAW: f64 = 90.0;

/// The `|yaw|` buckets of a set of edges.
#[derive(Debug, Clone, PartialEq)]
pub struct PoseBuckets {
    bounds: Vec<(f64, f64)>,
}

impl PoseBuckets {
    /// Buckets from increasing, positive, finite edges in degrees (the `pose_buckets` key).
    pub fn new(edges: &[f64]) -> Result<Self, EvalError> {
        let valid = edges.iter().all(|e| e.is_finite() && *e > 0.0)
            && edges.windows(2).all(|w| w[0] < w[1]);
        if !valid {
            return Err(EvalError::InvalidSetting {
                key: "pose_buckets",
                found: format!("{edges:?}"),
                expected: "increasing positive |yaw| edges in degrees, e.g. [30, 40]",
            });
        }
        let mut points = vec![0.0];
        points.extend_from_slice(edges);
        if points.last().is_some_and(|&last| last < MAX_ABS_YAW) {
            points.push(MAX_ABS_YAW);
        }
        Ok(Self {
            bounds: points.windows(2).map(|w| (w[0], w[1])).collect(),
        })
    }

    /// `(lo, hi)` of each bucket, in degrees of `|yaw|`.
    pub fn bounds(&self) -> &[(f64, f64)] {
        &self.bounds
    }

    /// The bucket index of a yaw angle (its sign is ignored); `None` for a non-finite yaw or one
    /// above the last edge.
    pub fn index(&self, yaw: f64) -> Option<usize> {
        let a = yaw.abs();
        self.bounds
            .iter()
            .position(|&(lo, hi)| (a > lo || lo == 0.0) && a <= hi)
    }
}

/// One row of the head-pose table (serialised as `{"lo", "hi", "count", "nme_mean"}`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct BucketStats {
    /// Low `|yaw|` bound in degrees (exclusive, except 0).
    pub lo: f64,
    /// High `|yaw|` bound in degrees (inclusive).
    pub hi: f64,
    /// Images in the bucket.
    pub count: usize,
    /// Mean NME of those images; `null` for an empty bucket.
    pub nme_mean: Option<f64>,
}

impl PoseBuckets {
    /// The table of per-bucket counts and mean NMEs for `(yaw, nme)` pairs; images without a yaw
    /// are left out.
    pub fn table(&self, samples: impl IntoIterator<Item = (Option<f64>, f64)>) -> Vec<BucketStats> {
        let mut sums = vec![(0usize, 0.0f64); self.bounds.len()];
        for (yaw, nme) in samples {
            if let Some(i) = yaw.and_then(|y| self.index(y)) {
                sums[i].0 += 1;
                sums[i].1 += nme;
            }
        }
        self.bounds
            .iter()
            .zip(sums)
            .map(|(&(lo, hi), (count, sum))| BucketStats {
                lo,
                hi,
                count,
                nme_mean: (count > 0).then(|| sum / count as f64),
            })
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn default_edges_give_the_original_table() {
        let b = PoseBuckets::new(&[30.0, 40.0]).unwrap();
        assert_eq!(b.bounds(), &[(0.0, 30.0), (30.0, 40.0), (40.0, 90.0)]);
        assert_eq!(b.index(0.0), Some(0));
        assert_eq!(b.index(-30.0), Some(0)); // closed high end
        assert_eq!(b.index(30.000001), Some(1));
        assert_eq!(b.index(40.0), Some(1));
        assert_eq!(b.index(-40.5), Some(2));
        assert_eq!(b.index(90.0), Some(2));
        assert_eq!(b.index(f64::NAN), None);
    }

    #[test]
    fn an_edge_at_90_adds_no_bucket_above() {
        let b = PoseBuckets::new(&[30.0, 60.0, 90.0]).unwrap();
        assert_eq!(b.bounds(), &[(0.0, 30.0), (30.0, 60.0), (60.0, 90.0)]);
        assert_eq!(b.index(61.0), Some(2));
        assert_eq!(PoseBuckets::new(&[]).unwrap().bounds(), &[(0.0, 90.0)]);
    }

    #[test]
    fn bad_edges_are_rejected() {
        for edges in [
            vec![40.0, 30.0],
            vec![0.0, 30.0],
            vec![30.0, 30.0],
            vec![f64::NAN],
        ] {
            let err = PoseBuckets::new(&edges).unwrap_err().to_string();
            assert!(err.contains("pose_buckets"), "{err}");
        }
    }

    #[test]
    fn table_counts_and_averages_by_hand() {
        let b = PoseBuckets::new(&[30.0, 40.0]).unwrap();
        let rows = b.table([
            (Some(10.0), 0.02),
            (Some(-30.0), 0.04),
            (Some(35.0), 0.05),
            (Some(-75.0), 0.09),
            (Some(41.0), 0.07),
            (None, 0.5),
        ]);
        let expected = [(2, 0.03), (1, 0.05), (2, 0.08)];
        for (row, (count, nme)) in rows.iter().zip(expected) {
            assert_eq!(row.count, count);
            assert!((row.nme_mean.unwrap() - nme).abs() < 1e-12, "{row:?}");
        }
        let empty = PoseBuckets::new(&[30.0])
            .unwrap()
            .table([(Some(50.0), 0.1)]);
        assert_eq!(empty[0].nme_mean, None);
        assert_eq!(empty[1].count, 1);
    }
}
