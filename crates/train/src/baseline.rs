//! The mean-shape baseline: the NME of always predicting the training set's mean shape, the
//! figure a trained model must beat by far. Shapes are put in the evaluation crop frame
//! (square box of side 1.5 x max(w, h) on the landmark extent, centred; image clipping ignored,
//! so no image is read) and compared inter-ocularly over the points both schemes share.

use fdfat_data::{Dataset, PointMap, model_point_map};

/// The eval crop's side relative to the landmark extent.
const SIDE: f64 = 1.5;

/// A sample's annotated model points in the crop frame `[-0.5, 0.5]` (None where unmapped).
fn normalised(points: &[[f32; 2]], map: &PointMap) -> Option<Vec<Option<[f64; 2]>>> {
    let (mut lo, mut hi) = ([f64::INFINITY; 2], [f64::NEG_INFINITY; 2]);
    for p in points {
        for k in 0..2 {
            lo[k] = lo[k].min(p[k] as f64);
            hi[k] = hi[k].max(p[k] as f64);
        }
    }
    let side = SIDE * (hi[0] - lo[0]).max(hi[1] - lo[1]);
    if side.is_nan() || side <= 0.0 {
        return None;
    }
    let centre = [(lo[0] + hi[0]) / 2.0, (lo[1] + hi[1]) / 2.0];
    Some(
        map.sources()
            .iter()
            .map(|s| {
                s.map(|i| {
                    [
                        (points[i][0] as f64 - centre[0]) / side,
                        (points[i][1] as f64 - centre[1]) / side,
                    ]
                })
            })
            .collect(),
    )
}

/// Mean NME on `val` of the mean shape of `train` (faces only) for a model of `lmk_num` points
/// with outer eye corners `eye_corners`; `None` when either set has no usable face.
pub fn mean_shape_nme(
    train: &Dataset,
    val: &Dataset,
    lmk_num: usize,
    eye_corners: [usize; 2],
) -> Option<f64> {
    let shapes = |set: &Dataset| -> Vec<Vec<Option<[f64; 2]>>> {
        let Ok(map) = model_point_map(set.scheme(), lmk_num) else {
            return Vec::new();
        };
        set.samples()
            .iter()
            .filter(|s| s.is_face)
            .filter_map(|s| normalised(&s.landmarks, &map))
            .collect()
    };
    let train = shapes(train);
    let mut sum = vec![[0.0; 2]; lmk_num];
    let mut count = vec![0usize; lmk_num];
    for shape in &train {
        for (i, p) in shape.iter().enumerate() {
            if let Some(p) = p {
                sum[i][0] += p[0];
                sum[i][1] += p[1];
                count[i] += 1;
            }
        }
    }
    let mean: Vec<Option<[f64; 2]>> = sum
        .iter()
        .zip(&count)
        .map(|(s, &c)| (c > 0).then(|| [s[0] / c as f64, s[1] / c as f64]))
        .collect();
    let [l, r] = eye_corners;
    let errors: Vec<f64> = shapes(val)
        .iter()
        .filter_map(|gt| {
            let (a, b) = (gt[l]?, gt[r]?);
            let ocular = (a[0] - b[0]).hypot(a[1] - b[1]);
            let pairs: Vec<f64> = gt
                .iter()
                .zip(&mean)
                .filter_map(|(g, m)| Some((g.as_ref()?, m.as_ref()?)))
                .map(|(g, m)| (g[0] - m[0]).hypot(g[1] - m[1]))
                .collect();
            (ocular > 0.0 && !pairs.is_empty())
                .then(|| pairs.iter().sum::<f64>() / pairs.len() as f64 / ocular)
        })
        .collect();
    (!errors.is_empty()).then(|| errors.iter().sum::<f64>() / errors.len() as f64)
}
