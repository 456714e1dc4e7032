//! Landmark schemes as data (`configs/landmarks/*.yaml`): point count, named parts, flip pairs,
//! normalisation points, mappings onto other schemes and the 3D mean face.

use crate::error::ConfigError;
use serde::{Deserialize, Deserializer, Serialize};
use std::collections::BTreeMap;
use std::path::Path;

/// The schemes shipped in `configs/landmarks/`, embedded in the binary.
pub const BUILTIN_SCHEMES: &[(&str, &str)] = &[
    (
        "facesynthetics70",
        include_str!("../../../configs/landmarks/facesynthetics70.yaml"),
    ),
    (
        "ibug68",
        include_str!("../../../configs/landmarks/ibug68.yaml"),
    ),
    (
        "wflw98",
        include_str!("../../../configs/landmarks/wflw98.yaml"),
    ),
];

/// A named group of points (jaw, eyes, ...).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Part {
    /// Part name (`jaw`, `left_eye`, ...).
    pub name: String,
    /// 0-based point indices.
    #[serde(deserialize_with = "index_list")]
    pub indices: Vec<usize>,
    /// The config key weighting this part's loss (`w_jaw`, ...).
    #[serde(default)]
    pub weight_key: Option<String>,
}

/// One landmark annotation layout.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LandmarkScheme {
    /// Scheme name (`facesynthetics70`, `ibug68`, `wflw98`).
    pub name: String,
    /// Human description.
    #[serde(default)]
    pub description: String,
    /// Number of points.
    pub num_points: usize,
    /// Named parts (need not cover every point).
    pub parts: Vec<Part>,
    /// Horizontal-flip swap pairs; unlisted points map to themselves.
    pub flip_pairs: Vec<[usize; 2]>,
    /// Outer eye corners for inter-ocular NME.
    pub eye_corners: [usize; 2],
    /// Each pupil as the mean of these points, for inter-pupil NME.
    #[serde(deserialize_with = "index_groups")]
    pub pupils: Vec<Vec<usize>>,
    /// `other scheme name -> indices of this scheme's points in the other's order`.
    #[serde(deserialize_with = "index_map")]
    pub mappings: BTreeMap<String, Vec<usize>>,
    /// 3D mean face, one `[x, y, z]` per point, for head pose.
    #[serde(default)]
    pub mean_shape_3d: Option<Vec<[f64; 3]>>,
}

impl LandmarkScheme {
    /// A built-in scheme by name, or a scheme YAML file by path.
    pub fn load(name_or_path: &str) -> Result<Self, ConfigError> {
        if let Some((name, text)) = BUILTIN_SCHEMES.iter().find(|(n, _)| *n == name_or_path) {
            return Self::parse(text, Path::new(&format!("configs/landmarks/{name}.yaml")));
        }
        let path = Path::new(name_or_path);
        if !path.exists() {
            let names: Vec<&str> = BUILTIN_SCHEMES.iter().map(|(n, _)| *n).collect();
            return Err(ConfigError::InvalidValue {
                key: "landmarks".into(),
                expected: format!("a scheme YAML file or one of {}", names.join(", ")),
                found: format!("\"{name_or_path}\""),
                origin: crate::error::Origin::Default,
            });
        }
        let text = std::fs::read_to_string(path).map_err(|source| ConfigError::Io {
            what: "landmark scheme",
            path: path.to_path_buf(),
            source,
        })?;
        Self::parse(&text, path)
    }

    /// The built-in scheme with `n` points (70, 68 or 98), if any.
    pub fn for_points(n: usize) -> Option<Self> {
        BUILTIN_SCHEMES
            .iter()
            .filter_map(|(name, _)| Self::load(name).ok())
            .find(|s| s.num_points == n)
    }

    /// Parses and checks a scheme YAML text read from `path`.
    pub fn parse(text: &str, path: &Path) -> Result<Self, ConfigError> {
        let invalid = |message: String| ConfigError::Syntax {
            what: "landmark scheme",
            path: path.to_path_buf(),
            message,
        };
        let scheme: Self = serde_yaml_ng::from_str(text).map_err(|e| invalid(e.to_string()))?;
        scheme.check().map_err(invalid)?;
        Ok(scheme)
    }

    fn check(&self) -> Result<(), String> {
        let n = self.num_points;
        let in_range = |i: &usize| *i < n;
        let all_parts = self.parts.iter().flat_map(|p| p.indices.iter());
        let all_pairs = self.flip_pairs.iter().flatten();
        let all_maps = self.mappings.values().flatten();
        if !all_parts
            .chain(all_pairs)
            .chain(all_maps)
            .chain(self.eye_corners.iter())
            .chain(self.pupils.iter().flatten())
            .all(in_range)
        {
            return Err(format!("an index is out of range for {n} points"));
        }
        let perm = self.flip_permutation();
        if perm.iter().enumerate().any(|(i, &j)| perm[j] != i) {
            return Err("flip_pairs name a point in two pairs".into());
        }
        if self.pupils.len() != 2 || self.pupils.iter().any(|g| g.is_empty()) {
            return Err("pupils must be two non-empty groups of points".into());
        }
        if let Some(shape) = &self.mean_shape_3d
            && shape.len() != n
        {
            return Err(format!(
                "mean_shape_3d has {} points, expected {n}",
                shape.len()
            ));
        }
        Ok(())
    }

    /// `perm[i]` = the index of the original point that becomes point `i` after a horizontal flip.
    pub fn flip_permutation(&self) -> Vec<usize> {
        let mut perm: Vec<usize> = (0..self.num_points).collect();
        for &[a, b] in &self.flip_pairs {
            perm[a] = b;
            perm[b] = a;
        }
        perm
    }

    /// Indices of this scheme's points that give `other`'s points, in `other`'s order.
    pub fn mapping_to(&self, other: &str) -> Option<&[usize]> {
        self.mappings.get(other).map(Vec::as_slice)
    }

    /// A part by name.
    pub fn part(&self, name: &str) -> Option<&Part> {
        self.parts.iter().find(|p| p.name == name)
    }
}

/// An index entry: a number or an inclusive range written `a-b`.
#[derive(Deserialize)]
#[serde(untagged)]
enum IndexEntry {
    One(usize),
    Range(String),
}

fn expand(entries: Vec<IndexEntry>) -> Result<Vec<usize>, String> {
    let mut out = Vec::new();
    for entry in entries {
        match entry {
            IndexEntry::One(i) => out.push(i),
            IndexEntry::Range(text) => {
                let (a, b) = text
                    .split_once('-')
                    .and_then(|(a, b)| {
                        Some((
                            a.trim().parse::<usize>().ok()?,
                            b.trim().parse::<usize>().ok()?,
                        ))
                    })
                    .filter(|(a, b)| a <= b)
                    .ok_or_else(|| format!("`{text}` is not an index or an a-b range"))?;
                out.extend(a..=b);
            }
        }
    }
    Ok(out)
}

fn index_list<'de, D: Deserializer<'de>>(d: D) -> Result<Vec<usize>, D::Error> {
    expand(Vec::deserialize(d)?).map_err(serde::de::Error::custom)
}

fn index_groups<'de, D: Deserializer<'de>>(d: D) -> Result<Vec<Vec<usize>>, D::Error> {
    Vec::<Vec<IndexEntry>>::deserialize(d)?
        .into_iter()
        .map(|g| expand(g).map_err(serde::de::Error::custom))
        .collect()
}

fn index_map<'de, D: Deserializer<'de>>(d: D) -> Result<BTreeMap<String, Vec<usize>>, D::Error> {
    BTreeMap::<String, Vec<IndexEntry>>::deserialize(d)?
        .into_iter()
        .map(|(k, v)| Ok((k, expand(v).map_err(serde::de::Error::custom)?)))
        .collect()
}
