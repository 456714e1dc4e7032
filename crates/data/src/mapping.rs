//! Mapping a dataset's landmark scheme onto the model's points (e.g. 68 iBUG points feeding a
//! 70-point model), from the schemes' `mappings` (and single-point pupils).

use crate::error::DataError;
use fdfat_config::LandmarkScheme;

/// For each model point, the dataset point it is read from, if any. Model points with no
/// source get no loss (mask 0).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PointMap {
    source: Vec<Option<usize>>,
    dataset_points: usize,
}

impl PointMap {
    /// The identity map of `n` points.
    pub fn identity(n: usize) -> Self {
        PointMap {
            source: (0..n).map(Some).collect(),
            dataset_points: n,
        }
    }

    /// The map from `dataset` points to `model` points. Schemes correspond through every
    /// scheme name both list under `mappings` (each scheme implicitly maps to itself), the
    /// longest first; when both schemes define each pupil by a single point, pupils map too.
    pub fn between(dataset: &LandmarkScheme, model: &LandmarkScheme) -> Result<Self, DataError> {
        if dataset.name == model.name && dataset.num_points == model.num_points {
            return Ok(Self::identity(model.num_points));
        }
        let table = |s: &LandmarkScheme| {
            let mut t: Vec<(String, Vec<usize>)> = s.mappings.clone().into_iter().collect();
            if !s.mappings.contains_key(&s.name) {
                t.push((s.name.clone(), (0..s.num_points).collect()));
            }
            t
        };
        let (d_table, m_table) = (table(dataset), table(model));
        let mut common: Vec<(&Vec<usize>, &Vec<usize>)> = d_table
            .iter()
            .filter_map(|(name, d)| {
                let (_, m) = m_table.iter().find(|(n, _)| n == name)?;
                (m.len() == d.len()).then_some((d, m))
            })
            .collect();
        common.sort_by_key(|(d, _)| std::cmp::Reverse(d.len()));
        let mut source = vec![None; model.num_points];
        for (d, m) in common {
            for (&di, &mi) in d.iter().zip(m) {
                source[mi].get_or_insert(di);
            }
        }
        let single = |s: &LandmarkScheme| -> Option<Vec<usize>> {
            s.pupils
                .iter()
                .map(|g| (g.len() == 1).then(|| g[0]))
                .collect()
        };
        if let (Some(dp), Some(mp)) = (single(dataset), single(model)) {
            for (di, mi) in dp.into_iter().zip(mp) {
                source[mi].get_or_insert(di);
            }
        }
        if source.iter().all(Option::is_none) {
            return Err(DataError::SchemeMismatch {
                from: dataset.name.clone(),
                to: model.name.clone(),
            });
        }
        Ok(PointMap {
            source,
            dataset_points: dataset.num_points,
        })
    }

    /// Number of model points.
    pub fn model_points(&self) -> usize {
        self.source.len()
    }

    /// Number of dataset points.
    pub fn dataset_points(&self) -> usize {
        self.dataset_points
    }

    /// The dataset point feeding each model point.
    pub fn sources(&self) -> &[Option<usize>] {
        &self.source
    }

    /// `1.0` for model points with a source, `0.0` for the others.
    pub fn point_mask(&self) -> Vec<f32> {
        self.source
            .iter()
            .map(|s| if s.is_some() { 1.0 } else { 0.0 })
            .collect()
    }

    /// Dataset points in model order; unmapped model points get `fill`.
    pub fn apply(&self, dataset: &[[f32; 2]], fill: [f32; 2]) -> Vec<[f32; 2]> {
        self.source
            .iter()
            .map(|s| s.and_then(|i| dataset.get(i).copied()).unwrap_or(fill))
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ibug68_feeds_the_first_68_of_70_points() {
        let d = LandmarkScheme::load("ibug68").unwrap();
        let m = LandmarkScheme::load("facesynthetics70").unwrap();
        let map = PointMap::between(&d, &m).unwrap();
        assert_eq!(map.model_points(), 70);
        for i in 0..68 {
            assert_eq!(map.sources()[i], Some(i));
        }
        assert_eq!(map.sources()[68], None);
        assert_eq!(map.sources()[69], None);
        assert_eq!(map.point_mask().iter().sum::<f32>(), 68.0);
        // And the other way round: a 70-point dataset for a 68-point model.
        let back = PointMap::between(&m, &d).unwrap();
        assert_eq!(back.sources(), &(0..68).map(Some).collect::<Vec<_>>()[..]);
    }

    #[test]
    fn wflw98_maps_through_ibug68_and_pupils() {
        let d = LandmarkScheme::load("wflw98").unwrap();
        let m = LandmarkScheme::load("facesynthetics70").unwrap();
        let map = PointMap::between(&d, &m).unwrap();
        let w2i = d.mapping_to("ibug68").unwrap();
        for (source, &w) in map.sources()[..68].iter().zip(w2i) {
            assert_eq!(*source, Some(w));
        }
        assert_eq!(map.sources()[68], Some(96));
        assert_eq!(map.sources()[69], Some(97));
        let pts: Vec<[f32; 2]> = (0..98).map(|i| [i as f32, 0.0]).collect();
        let mapped = map.apply(&pts, [0.0, 0.0]);
        assert_eq!(mapped[8], [w2i[8] as f32, 0.0]);
    }

    #[test]
    fn identical_schemes_map_identically() {
        let s = LandmarkScheme::load("facesynthetics70").unwrap();
        assert_eq!(PointMap::between(&s, &s).unwrap(), PointMap::identity(70));
    }
}
