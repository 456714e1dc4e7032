//! A random toy face: the scheme's 3D mean face with shape and expression jitter, posed by
//! known yaw/pitch/roll and projected by a pinhole camera with focal length = image width.

use crate::rng::standard_normal;
use crate::sample::Pose;
use rand::Rng;

/// Extra 3D points (same frame as `mean_shape_3d`: x right, y down, z towards the camera)
/// outlining the forehead from the right temple to the left one.
fn forehead(n: usize) -> Vec<[f64; 3]> {
    (0..=n)
        .map(|k| {
            let t = std::f64::consts::PI * k as f64 / n as f64;
            [
                72.0 * t.cos(),
                -30.0 - 82.0 * t.sin(),
                -47.0 + 45.0 * t.sin(),
            ]
        })
        .collect()
}

/// A hair outline, a little outside the forehead.
fn hair_outline(n: usize, volume: f64) -> Vec<[f64; 3]> {
    (0..=n)
        .map(|k| {
            let t = std::f64::consts::PI * k as f64 / n as f64;
            [
                (80.0 + volume) * t.cos(),
                -20.0 - (95.0 + volume) * t.sin(),
                -50.0 + 40.0 * t.sin(),
            ]
        })
        .collect()
}

/// The neck, below the jaw.
const NECK: [[f64; 3]; 4] = [
    [-38.0, 45.0, -35.0],
    [38.0, 45.0, -35.0],
    [44.0, 260.0, -45.0],
    [-44.0, 260.0, -45.0],
];

/// One posed and projected toy face.
pub(crate) struct Face {
    /// The 70 landmarks in continuous image pixels.
    pub landmarks: Vec<[f32; 2]>,
    /// Forehead outline (right to left).
    pub forehead: Vec<[f32; 2]>,
    /// Hair outline (right to left).
    pub hair: Option<Vec<[f32; 2]>>,
    /// Neck quadrilateral.
    pub neck: Vec<[f32; 2]>,
    /// The true pose.
    pub pose: Pose,
    /// Face width in pixels (for line widths).
    pub scale: f32,
    /// How open the mouth is (0 closed).
    pub mouth_open: f64,
}

/// A toy person: the 3D landmarks of one face shape and expression, and its hair.
pub(crate) struct Identity {
    /// The 70 landmarks in the mean face's 3D frame.
    points: Vec<[f64; 3]>,
    /// Horizontal scale of the face shape (1 = the mean face's width).
    width_scale: f64,
    /// How open the mouth is (0 closed).
    mouth_open: f64,
}

/// Draws a random shape and expression of the 70-point `mean` shape.
pub(crate) fn random_identity(mean: &[[f64; 3]], rng: &mut impl Rng) -> Identity {
    let mut pts: Vec<[f64; 3]> = mean.to_vec();
    let (sx, sy) = (rng.random_range(0.9..1.1), rng.random_range(0.92..1.08));
    for p in &mut pts {
        p[0] *= sx;
        p[1] *= sy;
        for v in p.iter_mut() {
            *v += 0.8 * standard_normal(rng);
        }
    }
    // Expression: mouth opening, smile, brow raise, blink and gaze.
    let open: f64 = if rng.random_bool(0.5) {
        rng.random_range(0.0..16.0)
    } else {
        rng.random_range(0.0..2.0)
    };
    for i in [55, 56, 57, 58, 59, 65, 66, 67] {
        pts[i][1] += open;
    }
    for (i, w) in [
        (5, 0.2),
        (6, 0.3),
        (7, 0.4),
        (8, 0.45),
        (9, 0.4),
        (10, 0.3),
        (11, 0.2),
    ] {
        pts[i][1] += open * w;
    }
    let smile: f64 = rng.random_range(-3.0..6.0);
    for (i, dir) in [(48, -1.0), (60, -1.0), (54, 1.0), (64, 1.0)] {
        pts[i][1] -= smile;
        pts[i][0] += dir * smile * 0.4;
    }
    let raise: f64 = rng.random_range(-3.0..7.0);
    for p in &mut pts[17..27] {
        p[1] -= raise;
    }
    let blink: f64 = if rng.random_bool(0.15) {
        rng.random_range(0.3..0.9)
    } else {
        0.0
    };
    for (upper, lower) in [(37, 41), (38, 40), (43, 47), (44, 46)] {
        let target = pts[lower];
        for (v, t) in pts[upper].iter_mut().zip(target) {
            *v += blink * (t - *v);
        }
    }
    let gaze = [
        rng.random_range(-3.0..3.0),
        rng.random_range(-1.5..1.5) + blink * 2.0,
    ];
    for i in [68, 69] {
        pts[i][0] += gaze[0];
        pts[i][1] += gaze[1];
    }
    Identity {
        points: pts,
        width_scale: sx,
        mouth_open: open,
    }
}

/// Where and how a face is seen: its pose, its image centre and its width.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) struct Placement {
    /// Head pose.
    pub pose: Pose,
    /// Where the face centre projects, in pixels.
    pub centre: [f64; 2],
    /// Face width as a fraction of the focal length (= the image width).
    pub width: f64,
}

impl Identity {
    /// The face seen at `placement` in an image of `size = [width, height]` pixels, with a
    /// hair outline of `hair` extra volume when given.
    pub(crate) fn place(&self, placement: &Placement, size: [u32; 2], hair: Option<f64>) -> Face {
        let focal = f64::from(size[0]);
        let distance = 146.0 * self.width_scale / placement.width;
        let camera = Camera::new(
            &placement.pose,
            distance,
            focal,
            placement.centre,
            [focal / 2.0, f64::from(size[1]) / 2.0],
        );
        let project = |pts: &[[f64; 3]]| pts.iter().map(|p| camera.project(p)).collect();
        Face {
            landmarks: project(&self.points),
            forehead: project(&forehead(10)),
            hair: hair.map(|volume| project(&hair_outline(12, volume))),
            neck: project(&NECK),
            pose: placement.pose,
            scale: (placement.width * focal) as f32,
            mouth_open: self.mouth_open,
        }
    }
}

/// Draws a random face of the 70-point `mean` shape for a `size x size` image.
pub(crate) fn random_face(mean: &[[f64; 3]], size: u32, rng: &mut impl Rng) -> Face {
    let identity = random_identity(mean, rng);
    let pose = Pose {
        yaw: rng.random_range(-50.0..50.0),
        pitch: rng.random_range(-25.0..25.0),
        roll: rng.random_range(-25.0..25.0),
    };
    let w = f64::from(size);
    let width = rng.random_range(0.36..0.56);
    let centre = [
        w / 2.0 + rng.random_range(-0.1..0.1) * w,
        w / 2.0 + rng.random_range(-0.1..0.1) * w,
    ];
    let volume = rng.random_range(0.0..25.0);
    let hair = rng.random_bool(0.75).then_some(volume);
    let placement = Placement {
        pose,
        centre,
        width,
    };
    identity.place(&placement, [size, size], hair)
}

/// Pinhole projection of the posed face.
struct Camera {
    r: [[f64; 3]; 3],
    t: [f64; 3],
    focal: f64,
    centre: [f64; 2],
}

impl Camera {
    /// A camera with principal point `principal` seeing the face at `distance`, its centre
    /// projected onto `centre`.
    fn new(pose: &Pose, distance: f64, focal: f64, centre: [f64; 2], principal: [f64; 2]) -> Self {
        let r = rotation(pose);
        let t = [
            (centre[0] - principal[0]) * distance / focal,
            (centre[1] - principal[1]) * distance / focal,
            distance,
        ];
        Camera {
            r,
            t,
            focal,
            centre: principal,
        }
    }

    fn project(&self, p: &[f64; 3]) -> [f32; 2] {
        let q = [p[0], p[1], -p[2]];
        let c: Vec<f64> = (0..3)
            .map(|i| self.r[i][0] * q[0] + self.r[i][1] * q[1] + self.r[i][2] * q[2] + self.t[i])
            .collect();
        [
            (self.focal * c[0] / c[2] + self.centre[0]) as f32,
            (self.focal * c[1] / c[2] + self.centre[1]) as f32,
        ]
    }
}

/// `Rz(roll) * Ry(yaw) * Rx(pitch)` in camera axes (see [`Pose`]).
pub(crate) fn rotation(pose: &Pose) -> [[f64; 3]; 3] {
    let (sy, cy) = f64::from(pose.yaw).to_radians().sin_cos();
    let (sp, cp) = f64::from(pose.pitch).to_radians().sin_cos();
    let (sr, cr) = f64::from(pose.roll).to_radians().sin_cos();
    let rx = [[1.0, 0.0, 0.0], [0.0, cp, -sp], [0.0, sp, cp]];
    let ry = [[cy, 0.0, sy], [0.0, 1.0, 0.0], [-sy, 0.0, cy]];
    let rz = [[cr, -sr, 0.0], [sr, cr, 0.0], [0.0, 0.0, 1.0]];
    mul(&rz, &mul(&ry, &rx))
}

fn mul(a: &[[f64; 3]; 3], b: &[[f64; 3]; 3]) -> [[f64; 3]; 3] {
    let mut m = [[0.0; 3]; 3];
    for (i, row) in m.iter_mut().enumerate() {
        for (j, v) in row.iter_mut().enumerate() {
            *v = (0..3).map(|k| a[i][k] * b[k][j]).sum();
        }
    }
    m
}
