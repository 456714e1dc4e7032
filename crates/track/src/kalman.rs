//! A linear Kalman filter with fixed-size matrices, and the two filters the original tracker
//! builds with filterpy (`fdfat/tracking/karman_filter.py`):
//!
//! - [`PointFilter`]: one landmark, constant velocity, state `[x, vx, y, vy]`, measurement noise
//!   `R = 0.1² I`, process noise of a discrete white-noise acceleration of variance `0.04²` per
//!   axis, initial covariance `100 I`.
//! - [`BoxFilter`]: the SORT box filter, state `[cx, cy, area, aspect, vcx, vcy, varea]` with a
//!   constant aspect ratio, `R = diag(1, 1, 10, 10)`, `P0 = diag(10, 10, 10, 10, 1000, 1000,
//!   1000)`, `Q = diag(1, 1, 1, 1, 0.01, 0.01, 0.0001)`.
//!
//! Updates use the Joseph form of the covariance, as filterpy does.

use crate::geometry::FaceBox;

type Mat<const R: usize, const C: usize> = [[f64; C]; R];

fn mul<const R: usize, const K: usize, const C: usize>(a: &Mat<R, K>, b: &Mat<K, C>) -> Mat<R, C> {
    std::array::from_fn(|i| std::array::from_fn(|j| (0..K).map(|k| a[i][k] * b[k][j]).sum()))
}

fn transpose<const R: usize, const C: usize>(a: &Mat<R, C>) -> Mat<C, R> {
    std::array::from_fn(|i| std::array::from_fn(|j| a[j][i]))
}

fn add<const R: usize, const C: usize>(a: &Mat<R, C>, b: &Mat<R, C>) -> Mat<R, C> {
    std::array::from_fn(|i| std::array::from_fn(|j| a[i][j] + b[i][j]))
}

fn identity<const N: usize>() -> Mat<N, N> {
    std::array::from_fn(|i| std::array::from_fn(|j| f64::from(u8::from(i == j))))
}

fn diagonal<const N: usize>(d: [f64; N]) -> Mat<N, N> {
    std::array::from_fn(|i| std::array::from_fn(|j| if i == j { d[i] } else { 0.0 }))
}

fn mat_vec<const R: usize, const C: usize>(a: &Mat<R, C>, v: &[f64; C]) -> [f64; R] {
    std::array::from_fn(|i| (0..C).map(|k| a[i][k] * v[k]).sum())
}

/// The inverse of a small matrix by Gauss-Jordan elimination with partial pivoting; `None`
/// when it is singular.
fn inverse<const N: usize>(a: &Mat<N, N>) -> Option<Mat<N, N>> {
    let mut m = *a;
    let mut inv = identity::<N>();
    for col in 0..N {
        let pivot = (col..N).max_by(|&i, &j| m[i][col].abs().total_cmp(&m[j][col].abs()))?;
        let magnitude = m[pivot][col].abs();
        if magnitude.is_nan() || magnitude <= 1e-300 {
            return None;
        }
        m.swap(col, pivot);
        inv.swap(col, pivot);
        let p = m[col][col];
        for j in 0..N {
            m[col][j] /= p;
            inv[col][j] /= p;
        }
        for i in (0..N).filter(|&i| i != col) {
            let f = m[i][col];
            for j in 0..N {
                m[i][j] -= f * m[col][j];
                inv[i][j] -= f * inv[col][j];
            }
        }
    }
    Some(inv)
}

/// A linear Kalman filter with `N` state and `M` measured values.
#[derive(Debug, Clone, PartialEq)]
pub struct Kalman<const N: usize, const M: usize> {
    /// State estimate.
    pub x: [f64; N],
    /// State covariance.
    pub p: Mat<N, N>,
    f: Mat<N, N>,
    q: Mat<N, N>,
    h: Mat<M, N>,
    r: Mat<M, M>,
}

impl<const N: usize, const M: usize> Kalman<N, M> {
    /// Advances the state one step: `x = F x`, `P = F P Fᵀ + Q`.
    pub fn predict(&mut self) {
        self.x = mat_vec(&self.f, &self.x);
        self.p = add(&mul(&mul(&self.f, &self.p), &transpose(&self.f)), &self.q);
    }

    /// Corrects the state with measurement `z`. A measurement that is not finite, or a
    /// singular innovation covariance, leaves the filter unchanged and returns `false`.
    pub fn update(&mut self, z: [f64; M]) -> bool {
        if z.iter().any(|v| !v.is_finite()) {
            return false;
        }
        let hx = mat_vec(&self.h, &self.x);
        let y: [f64; M] = std::array::from_fn(|i| z[i] - hx[i]);
        let pht = mul(&self.p, &transpose(&self.h));
        let s = add(&mul(&self.h, &pht), &self.r);
        let Some(s_inv) = inverse(&s) else {
            return false;
        };
        let k = mul(&pht, &s_inv);
        let ky = mat_vec(&k, &y);
        self.x = std::array::from_fn(|i| self.x[i] + ky[i]);
        let kh = mul(&k, &self.h);
        let i_kh: Mat<N, N> =
            std::array::from_fn(|i| std::array::from_fn(|j| identity::<N>()[i][j] - kh[i][j]));
        let joseph = mul(&mul(&i_kh, &self.p), &transpose(&i_kh));
        self.p = add(&joseph, &mul(&mul(&k, &self.r), &transpose(&k)));
        true
    }
}

/// Standard deviation of a landmark measurement, pixels (the original's `R_std`).
pub const POINT_MEASUREMENT_STD: f64 = 0.1;
/// Standard deviation of the white-noise acceleration of a landmark, pixels per frame²
/// (the original's `Q_std`).
pub const POINT_PROCESS_STD: f64 = 0.04;

/// The constant-velocity filter of one landmark.
#[derive(Debug, Clone, PartialEq)]
pub struct PointFilter(Kalman<4, 2>);

impl PointFilter {
    /// A filter starting at `point` with zero velocity.
    pub fn new(point: [f32; 2]) -> Self {
        let r = POINT_MEASUREMENT_STD * POINT_MEASUREMENT_STD;
        let v = POINT_PROCESS_STD * POINT_PROCESS_STD;
        // discrete white-noise acceleration, dt = 1: [[dt⁴/4, dt³/2], [dt³/2, dt²]] * var
        let q = [[0.25 * v, 0.5 * v], [0.5 * v, v]];
        Self(Kalman {
            x: [f64::from(point[0]), 0.0, f64::from(point[1]), 0.0],
            p: diagonal([100.0; 4]),
            f: [
                [1.0, 1.0, 0.0, 0.0],
                [0.0, 1.0, 0.0, 0.0],
                [0.0, 0.0, 1.0, 1.0],
                [0.0, 0.0, 0.0, 1.0],
            ],
            q: [
                [q[0][0], q[0][1], 0.0, 0.0],
                [q[1][0], q[1][1], 0.0, 0.0],
                [0.0, 0.0, q[0][0], q[0][1]],
                [0.0, 0.0, q[1][0], q[1][1]],
            ],
            h: [[1.0, 0.0, 0.0, 0.0], [0.0, 0.0, 1.0, 0.0]],
            r: diagonal([r, r]),
        })
    }

    /// One step with a new measurement (predict, then update), as the original does per frame
    /// with landmarks.
    pub fn step(&mut self, point: [f32; 2]) {
        self.0.predict();
        self.0.update([f64::from(point[0]), f64::from(point[1])]);
    }

    /// The smoothed position.
    pub fn position(&self) -> [f32; 2] {
        [self.0.x[0] as f32, self.0.x[2] as f32]
    }
}

/// The SORT filter of a face box.
#[derive(Debug, Clone, PartialEq)]
pub struct BoxFilter(Kalman<7, 4>);

/// A box as the SORT measurement `[cx, cy, area, aspect]`.
fn box_to_z(b: &FaceBox) -> [f64; 4] {
    let (w, h) = (f64::from(b.width()), f64::from(b.height()));
    let [cx, cy] = b.center();
    [f64::from(cx), f64::from(cy), w * h, w / h]
}

impl BoxFilter {
    /// A filter starting at `bbox` with zero velocity.
    pub fn new(bbox: &FaceBox) -> Self {
        let z = box_to_z(bbox);
        let mut f = identity::<7>();
        for i in 0..3 {
            f[i][i + 4] = 1.0;
        }
        let mut h = [[0.0; 7]; 4];
        for (i, row) in h.iter_mut().enumerate() {
            row[i] = 1.0;
        }
        Self(Kalman {
            x: [z[0], z[1], z[2], z[3], 0.0, 0.0, 0.0],
            p: diagonal([10.0, 10.0, 10.0, 10.0, 1000.0, 1000.0, 1000.0]),
            f,
            q: diagonal([1.0, 1.0, 1.0, 1.0, 0.01, 0.01, 0.0001]),
            h,
            r: diagonal([1.0, 1.0, 10.0, 10.0]),
        })
    }

    /// Advances one frame. The area's velocity is zeroed when it would make the area
    /// negative (as in SORT).
    pub fn predict(&mut self) {
        if self.0.x[6] + self.0.x[2] <= 0.0 {
            self.0.x[6] = 0.0;
        }
        self.0.predict();
    }

    /// Corrects the filter with a measured box; a degenerate box (no area) is ignored.
    pub fn update(&mut self, bbox: &FaceBox) {
        if bbox.width() > 0.0 && bbox.height() > 0.0 {
            self.0.update(box_to_z(bbox));
        }
    }

    /// The current box estimate; empty when the estimate has no positive area or aspect.
    pub fn bbox(&self) -> FaceBox {
        let [cx, cy, s, r, ..] = self.0.x;
        let w = (s * r).max(0.0).sqrt();
        let h = if w > 0.0 { s / w } else { 0.0 };
        FaceBox::from_center(cx as f32, cy as f32, w as f32, h as f32)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn inverse_of_a_known_matrix_and_singular_is_none() {
        let a = [[4.0, 7.0], [2.0, 6.0]];
        let inv = inverse(&a).unwrap();
        let want = [[0.6, -0.7], [-0.2, 0.4]];
        for i in 0..2 {
            for j in 0..2 {
                assert!((inv[i][j] - want[i][j]).abs() < 1e-12);
            }
        }
        assert!(inverse(&[[1.0, 2.0], [2.0, 4.0]]).is_none());
    }

    #[test]
    fn point_filter_first_step_trusts_the_measurement_then_smooths_noise() {
        let mut f = PointFilter::new([10.0, 20.0]);
        f.step([10.5, 20.0]);
        // P0 = 100 I makes the first correction all but the measurement
        assert!((f.position()[0] - 10.5).abs() < 0.01, "{:?}", f.position());
        // alternating +-1 px noise about a fixed point: the estimate moves much less
        let mut moves = Vec::new();
        let mut last = f.position();
        for k in 0..200 {
            let noise = if k % 2 == 0 { 1.0 } else { -1.0 };
            f.step([10.0 + noise, 20.0]);
            let now = f.position();
            moves.push((now[0] - last[0]).abs());
            last = now;
        }
        let late: f32 = moves[100..].iter().sum::<f32>() / 100.0;
        assert!(
            late < 1.0,
            "mean frame-to-frame motion {late} of a 2 px swing"
        );
        assert!((f.position()[0] - 10.0).abs() < 1.0);
    }

    #[test]
    fn point_filter_follows_constant_motion_without_lag() {
        let mut f = PointFilter::new([0.0, 0.0]);
        for k in 1..=100 {
            f.step([k as f32 * 2.0, 0.0]);
        }
        assert!((f.position()[0] - 200.0).abs() < 0.05, "{:?}", f.position());
    }

    #[test]
    fn box_filter_keeps_a_still_box_and_predicts_motion() {
        let b = FaceBox::new(100.0, 100.0, 200.0, 220.0);
        let mut f = BoxFilter::new(&b);
        for _ in 0..5 {
            f.predict();
            f.update(&b);
        }
        let got = f.bbox();
        assert!(
            (got.x0 - 100.0).abs() < 0.5 && (got.y1 - 220.0).abs() < 0.5,
            "{got:?}"
        );
        let mut f = BoxFilter::new(&b);
        for k in 1..=30 {
            f.predict();
            f.update(&FaceBox::new(
                100.0 + 5.0 * k as f32,
                100.0,
                200.0 + 5.0 * k as f32,
                220.0,
            ));
        }
        f.predict();
        let ahead = f.bbox();
        assert!((ahead.x0 - 255.0).abs() < 2.0, "{ahead:?}");
        f.update(&FaceBox::new(0.0, 0.0, 0.0, 10.0));
        assert!((f.bbox().x0 - ahead.x0).abs() < 1e-6);
    }
}
