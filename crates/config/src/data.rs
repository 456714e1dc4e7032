//! The data YAML: where a dataset lives, its format and landmark scheme.

use crate::error::{ConfigError, closest};
use crate::options::Split;
use crate::yaml_doc::YamlDoc;
use serde::{Deserialize, Serialize};
use std::path::{Path, PathBuf};

/// Annotation format of a dataset.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
pub enum DataFormat {
    /// Microsoft FaceSynthetics: `NNNNNN.png` + `NNNNNN_ldmks.txt` (70 points).
    #[default]
    #[serde(rename = "facesynthetics")]
    FaceSynthetics,
    /// iBUG 300-W `.pts` files beside their images (68 points).
    #[serde(rename = "300w", alias = "ibug")]
    Ibug300W,
    /// 300-VW frame folders with per-frame `.pts` (68 points).
    #[serde(rename = "300vw")]
    Ibug300Vw,
    /// WFLW `list_98pt_*` annotation lists (98 points, attributes).
    #[serde(rename = "wflw")]
    Wflw,
    /// Face / non-face crops written by `--task facecrops`.
    #[serde(rename = "facecrops")]
    FaceCrops,
}

impl DataFormat {
    /// The landmark scheme this format is annotated in.
    pub fn default_scheme(self) -> &'static str {
        match self {
            DataFormat::FaceSynthetics | DataFormat::FaceCrops => "facesynthetics70",
            DataFormat::Ibug300W | DataFormat::Ibug300Vw => "ibug68",
            DataFormat::Wflw => "wflw98",
        }
    }
}

/// The data YAML (`data:` key): `base_path`, `train`, `val`, `test`, `format`, `landmarks`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DataConfig {
    /// Root of the dataset; relative paths are taken from the data YAML's folder (or, when
    /// nothing exists there, from the working directory, as the original did).
    pub base_path: Option<PathBuf>,
    /// Training split: a list file or a folder, relative to `base_path`.
    pub train: Option<String>,
    /// Validation split.
    pub val: Option<String>,
    /// Test split.
    pub test: Option<String>,
    /// Annotation format.
    #[serde(default)]
    pub format: DataFormat,
    /// Landmark scheme: a built-in name (`facesynthetics70`, `ibug68`, `wflw98`) or a YAML path.
    #[serde(default)]
    pub landmarks: Option<String>,
    /// The file this was read from.
    #[serde(skip)]
    pub source: PathBuf,
}

const DATA_KEYS: &[&str] = &["base_path", "train", "val", "test", "format", "landmarks"];

impl DataConfig {
    /// Reads a data YAML, naming the file and key of any error.
    pub fn load(path: &Path) -> Result<Self, ConfigError> {
        if !path.exists() {
            return Err(ConfigError::MissingFile {
                what: "data YAML",
                key: "data".into(),
                path: path.to_path_buf(),
            });
        }
        let doc = YamlDoc::read(path, "data YAML")?;
        for (key, _) in doc.entries() {
            if !DATA_KEYS.contains(&key) {
                return Err(ConfigError::UnknownKey {
                    key: key.into(),
                    suggestion: closest(key, DATA_KEYS.iter().copied()),
                    origin: doc.origin(key),
                });
            }
        }
        let mut data: DataConfig =
            serde_yaml_ng::from_str(&doc.text).map_err(|e| ConfigError::Syntax {
                what: "data YAML",
                path: path.to_path_buf(),
                message: e.to_string(),
            })?;
        data.source = path.to_path_buf();
        Ok(data)
    }

    /// The resolved dataset root.
    pub fn root(&self) -> Result<PathBuf, ConfigError> {
        let base = self.base_path.clone().unwrap_or_else(|| PathBuf::from("."));
        let candidates = if base.is_absolute() {
            vec![base.clone()]
        } else {
            let beside = self.source.parent().unwrap_or(Path::new(".")).join(&base);
            vec![beside, base.clone()]
        };
        candidates
            .into_iter()
            .find(|p| p.exists())
            .ok_or_else(|| ConfigError::MissingFile {
                what: "dataset base_path",
                key: format!("base_path in {}", self.source.display()),
                path: base,
            })
    }

    /// The list file or folder of a split, resolved against [`Self::root`].
    pub fn split_path(&self, split: Split) -> Result<PathBuf, ConfigError> {
        let (key, entry) = match split {
            Split::Train => ("train", &self.train),
            Split::Val => ("val", &self.val),
            Split::Test => ("test", &self.test),
        };
        let entry = entry.as_ref().ok_or_else(|| ConfigError::Missing {
            key: format!("{key} in {}", self.source.display()),
            context: format!("the `{key}` split"),
        })?;
        let path = self.root()?.join(entry);
        if !path.exists() {
            return Err(ConfigError::MissingFile {
                what: "split list or folder",
                key: format!("{key} in {}", self.source.display()),
                path,
            });
        }
        Ok(path)
    }

    /// The landmark scheme name or path for this dataset.
    pub fn scheme(&self) -> &str {
        self.landmarks
            .as_deref()
            .unwrap_or_else(|| self.format.default_scheme())
    }
}
